package scheduler

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestRevertedTurnLeavesTheHeldGroupsAsCommitted: a turn whose commit
// failed changes no group held back by the forecast — neither a new hold
// (PutMeter) nor a hold forgotten by a tick (DeleteMeter) lasts — and the
// state is then what a Restore from the store's records builds.
func TestRevertedTurnLeavesTheHeldGroupsAsCommitted(t *testing.T) {
	cfg := petraWith(t, func(c *Config) {
		c.Policy.RequestWindow = nil
		for i := range c.Zones {
			z := &c.Zones[i]
			z.HoldAt = max(z.Capacity*30/100, 1)
			z.ReleaseAt = z.HoldAt / 2
		}
	})
	s := New(cfg)
	recs := newRecords()
	apply := func(now time.Time, c Command) (Result, []Effect) {
		res, eff := s.Apply(now, c)
		return res, eff
	}
	late := time.Duration(cfg.Policy.LateGraceMinutes) * time.Minute
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, cfg.Location())
	var booked []Booking
	for i := range 60 {
		from := hm(6, 0) + 15*(i%8)
		res, eff := apply(day.Add(-24*time.Hour), Book{ID: fmt.Sprintf("g%02d", i), Operator: WalkInOperator, Request: BookingRequest{
			Date: "2026-12-01", Route: "main", PartySize: 40, Window: Window{From: from, To: from + 120}}})
		if res.Err != nil {
			continue
		}
		recs.apply(eff)
		booked = append(booked, *res.Booking)
	}
	slices.SortStableFunc(booked, func(a, b Booking) int { return a.Slot.Compare(b.Slot) })
	same := func(what string) {
		t.Helper()
		fresh, err := Restore(cfg, recs.snapshot())
		if err != nil {
			t.Fatal(err)
		}
		if got, want := canonical(t, s.Snapshot()), canonical(t, fresh.Snapshot()); got != want {
			t.Fatalf("%s: memory is not what the store restores\nmemory:   %s\nrestored: %s", what, got, want)
		}
	}
	var held Booking
	var heldAt time.Time
	for i, b := range booked {
		now := b.Slot.Add(late - time.Minute)
		_, eff := apply(now, Scan{Gate: b.Gate, Ticket: Ticket{Booking: b.ID}, Count: b.PartySize, ScanID: fmt.Sprintf("s%d", i), Device: "d"})
		if s.meters[b.ID] != nil {
			// The hold's turn fails: the group is not held.
			s.Revert(eff, recs.snapshot(), nil)
			if s.meters[b.ID] != nil {
				t.Fatalf("%s is still held after its turn was reverted", b.ID)
			}
			same("a reverted hold")
			// Again, written this time.
			_, eff = apply(now, Scan{Gate: b.Gate, Ticket: Ticket{Booking: b.ID}, Count: b.PartySize, ScanID: fmt.Sprintf("s%d", i), Device: "d"})
			if s.meters[b.ID] == nil {
				t.Fatalf("%s is not held again", b.ID)
			}
			recs.apply(eff)
			held, heldAt = b, now
			break
		}
		recs.apply(eff)
	}
	if held.ID == "" {
		t.Fatal("the forecast held no group back")
	}
	same("a written hold")
	want := *s.meters[held.ID]
	// A tick past the group's grace after its retry forgets it; that turn
	// fails.
	mark := s.TickMark()
	at := want.RetryAt.Add(late + time.Minute)
	if !at.After(heldAt) {
		t.Fatalf("retry %s is before the hold at %s", want.RetryAt, heldAt)
	}
	_, eff := apply(at, Tick{})
	if s.meters[held.ID] != nil {
		t.Fatalf("the tick at %s did not forget %s (retry %s)", at.Format("15:04"), held.ID, want.RetryAt.Format("15:04"))
	}
	s.Revert(eff, recs.snapshot(), &mark)
	if got := s.meters[held.ID]; got == nil || *got != want {
		t.Fatalf("after the reverted tick %s is held as %+v, want %+v", held.ID, got, want)
	}
	same("a reverted prune")
}
