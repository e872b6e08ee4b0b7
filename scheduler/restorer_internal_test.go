package scheduler

import (
	"fmt"
	"testing"
	"time"
)

// TestRestorerGivesBackRoomReservedOnTooHighAnEstimate: a Restorer told to
// expect far more bookings than come keeps the table sized for those that
// came (the store's estimate may be high).
func TestRestorerGivesBackRoomReservedOnTooHighAnEstimate(t *testing.T) {
	cfg := petra(t)
	r, err := NewRestorer(cfg, nil, 200_000)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, cfg.Location())
	var bs []Booking
	for i := range 1000 {
		bs = append(bs, Booking{ID: fmt.Sprintf("bk%04d", i), Operator: "op", Date: "2026-12-01", Route: "main", PartySize: 2,
			Window: Window{From: 6 * 60, To: 15 * 60}, Slot: day.Add(9 * time.Hour), Gate: cfg.Gates[0].ID, Status: StatusCancelled, Version: 1})
	}
	if err := r.AddBookings(bs); err != nil {
		t.Fatal(err)
	}
	s, err := r.Finish(Snapshot{})
	if err != nil {
		t.Fatal(err)
	}
	if c := cap(s.bookings.recs); c > 1000+1000/8 {
		t.Errorf("the table keeps room for %d bookings, has 1000", c)
	}
	if n := len(s.bookings.byID.slots); n > 4096 {
		t.Errorf("the id index has %d slots for 1000 ids", n)
	}
	for _, b := range bs {
		if got, ok := s.bookings.get(b.ID); !ok || got.ID != b.ID {
			t.Fatalf("booking %q is not found after the trim", b.ID)
		}
	}
}
