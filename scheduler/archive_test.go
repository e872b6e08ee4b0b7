package scheduler

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// bookTwoDays books n groups on 1 December and n on 2 December 2026 at
// testNow.
func bookTwoDays(t *testing.T, r *recorder, n int) (dec1, dec2 []string) {
	t.Helper()
	for i := range 2 * n {
		date, list := "2026-12-01", &dec1
		if i%2 == 1 {
			date, list = "2026-12-02", &dec2
		}
		res := r.do(t, testNow(r.s.cfg), Book{ID: fmt.Sprintf("bk%03d", i), Operator: "jett-tours",
			Request: BookingRequest{Date: date, Route: "main", PartySize: 4, Window: Window{From: hm(6, 0), To: hm(16, 0)}}})
		if res.Err != nil {
			t.Fatalf("book %d: %v", i, res.Err)
		}
		*list = append(*list, res.Booking.ID)
	}
	return dec1, dec2
}

func TestArchiveDayTakesOnlyThatDateOutOfTheState(t *testing.T) {
	cfg := petra(t)
	r := &recorder{s: New(cfg)}
	dec1, dec2 := bookTwoDays(t, r, 5)
	before2 := r.s.Bookings("", "2026-12-02")
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, cfg.Location()) // 1 December is 3 days back

	if got := r.s.ArchivableDates(now, MinArchiveDays); !slices.Equal(got, []string{"2026-12-01"}) {
		t.Fatalf("ArchivableDates(%v, %d) = %v, want [2026-12-01]", now, MinArchiveDays, got)
	}
	r.effects = nil
	res := r.do(t, now, ArchiveDay{Date: "2026-12-01"})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	a := res.Archived
	if a == nil || a.Date != "2026-12-01" || a.Bookings != 5 || a.Visitors != 20 || !slices.Equal(a.Pending, dec1) {
		t.Fatalf("Archived = %+v, want 1 December's 5 bookings of 4 visitors %v", a, dec1)
	}
	if len(r.effects) != 1 {
		t.Fatalf("effects = %+v, want one PutArchivedDay", r.effects)
	}
	if p, ok := r.effects[0].(PutArchivedDay); !ok || !slices.Equal(p.Day.Pending, dec1) {
		t.Fatalf("effect = %+v, want PutArchivedDay with pending %v", r.effects[0], dec1)
	}
	if got := r.s.Bookings("", "2026-12-01"); len(got) != 0 {
		t.Errorf("1 December still lists %d bookings", len(got))
	}
	if _, ok := r.s.days["2026-12-01"]; ok {
		t.Error("1 December's capacity picture is still in the state")
	}
	if got := r.s.Bookings("", "2026-12-02"); len(got) != len(dec2) || !slices.EqualFunc(got, before2, func(a, b Booking) bool { return a == b }) {
		t.Errorf("2 December changed: %d bookings, want %d unchanged", len(got), len(dec2))
	}
	if r.s.BookingCount() != len(dec2) {
		t.Errorf("BookingCount = %d, want %d", r.s.BookingCount(), len(dec2))
	}
	// Archiving again finds nothing left.
	if got := r.s.ArchivableDates(now, MinArchiveDays); len(got) != 0 {
		t.Errorf("ArchivableDates after archiving = %v, want none", got)
	}
}

func TestArchiveDayRefusesDatesInsideTheHorizon(t *testing.T) {
	cfg := petra(t)
	r := &recorder{s: New(cfg)}
	bookTwoDays(t, r, 1)
	now := time.Date(2026, 12, 3, 23, 59, 0, 0, cfg.Location()) // 1 December ended not 2 days ago
	for _, date := range []string{"2026-12-01", "2026-12-02", "2026-12-03", "2026-12-10", "1 Dec", ""} {
		res := r.do(t, now, ArchiveDay{Date: date})
		if code(res.Err) != CodeInvalid || fieldOf(res.Err) != "date" {
			t.Errorf("ArchiveDay{%q} = %v, want %s on date", date, res.Err, CodeInvalid)
		}
	}
	if r.s.BookingCount() != 2 {
		t.Errorf("a refused ArchiveDay changed the state: %d bookings", r.s.BookingCount())
	}
}

func TestScanOfAnArchivedDayIsWrongDay(t *testing.T) {
	cfg := petra(t)
	r := &recorder{s: New(cfg)}
	dec1, _ := bookTwoDays(t, r, 1)
	b, _ := r.s.Booking("", dec1[0])
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, cfg.Location())
	if res := r.do(t, now, ArchiveDay{Date: "2026-12-01"}); res.Err != nil {
		t.Fatal(res.Err)
	}
	tk := Ticket{Booking: b.ID, Date: b.Date, Slot: b.Slot, Gate: b.Gate, PartySize: b.PartySize}
	res := r.do(t, now, Scan{Gate: b.Gate, Ticket: tk, Count: 1, ScanID: "s1", Device: "d1"})
	if res.Scan == nil || res.Scan.Decision != DecisionReject || res.Scan.Reason != ReasonWrongDay {
		t.Fatalf("scan of an archived day's ticket = %+v, want reject wrong_day", res.Scan)
	}
	// A ticket of today or later whose booking is unknown stays unknown.
	tk.Date = "2026-12-04"
	res = r.do(t, now, Scan{Gate: b.Gate, Ticket: tk, Count: 1, ScanID: "s2", Device: "d1"})
	if res.Scan == nil || res.Scan.Reason != ReasonUnknownTicket {
		t.Fatalf("scan of an unknown booking of today = %+v, want unknown_ticket", res.Scan)
	}
}

func TestRestoreAfterArchivingKeepsTheLiveDay(t *testing.T) {
	cfg := petra(t)
	r := &recorder{s: New(cfg)}
	bookTwoDays(t, r, 3)
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, cfg.Location())
	r.do(t, now, ArchiveDay{Date: "2026-12-01"})
	s2, err := Restore(cfg, r.s.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if snapJSON(t, s2) != snapJSON(t, r.s) {
		t.Error("the state after archiving does not survive Snapshot and Restore")
	}
	CheckDayLoads(t, s2, "2026-12-02")
}
