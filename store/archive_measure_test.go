package store

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/tafweej/tafweej/scheduler"
)

// TestArchiveMeasure measures Load before and after archiving most days,
// and the rate of the move. Run with TAFWEEJ_ARCHIVE_MEASURE=1 (slow).
func TestArchiveMeasure(t *testing.T) {
	if os.Getenv("TAFWEEJ_ARCHIVE_MEASURE") == "" {
		t.Skip("set TAFWEEJ_ARCHIVE_MEASURE=1 to measure")
	}
	const days, perDay, live = 60, 2000, 30
	s := openBadger(t, t.TempDir()).(*Badger)
	base := time.Date(2026, 10, 1, 0, 0, 0, 0, amman)
	ids := map[string][]string{}
	for d := range days {
		date := base.AddDate(0, 0, d).Format(time.DateOnly)
		var effects []scheduler.Effect
		for i := range perDay {
			b := booking(fmt.Sprintf("bk-%02d-%05d", d, i), 8, 15)
			b.Date = date
			effects = append(effects, scheduler.PutBooking{Booking: b})
			ids[date] = append(ids[date], b.ID)
		}
		if err := s.Commit(effects); err != nil {
			t.Fatal(err)
		}
	}
	load := func() (int, time.Duration) {
		start := time.Now()
		snap, err := s.Load()
		if err != nil {
			t.Fatal(err)
		}
		return len(snap.Bookings), time.Since(start)
	}
	n, took := load()
	t.Logf("before: Load of %d bookings took %v", n, took)
	start := time.Now()
	for d := range days - live {
		date := base.AddDate(0, 0, d).Format(time.DateOnly)
		day := scheduler.ArchivedDay{Date: date, Bookings: perDay, Pending: ids[date]}
		if err := s.Commit([]scheduler.Effect{scheduler.PutArchivedDay{Day: day}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.MoveToArchive(date, 500); err != nil {
			t.Fatal(err)
		}
	}
	moved := (days - live) * perDay
	el := time.Since(start)
	t.Logf("archived %d days, %d bookings in %v (%.0f bookings/s, %v a day)", days-live, moved, el,
		float64(moved)/el.Seconds(), el/time.Duration(days-live))
	n, took = load()
	t.Logf("after: Load of %d bookings took %v", n, took)
	start = time.Now()
	bs, _, err := s.ArchivedBookings(base.Format(time.DateOnly))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ArchivedBookings of one day (%d bookings) took %v", len(bs), time.Since(start))
}
