package scheduler

import (
	"testing"
	"time"
)

// TestAvailabilityNamesWhatLimitsEachWave: every wave of GET
// /v1/availability says what bounds its places — the gate's wave, the
// operator's share of it, a zone along the route and when the group would
// meet it at its fullest, or a closed zone and when the group would reach
// it — and its figure is that limit's room.
func TestAvailabilityNamesWhatLimitsEachWave(t *testing.T) {
	cfg := petra(t)
	r := &recorder{s: New(cfg)}
	now := testNow(cfg)
	at := func(h, m int) time.Time { return time.Date(2026, 12, 1, h, m, 0, 0, cfg.Location()) }
	wave := func(operator string, h, m int) SlotRoom {
		t.Helper()
		slots, err := r.s.Availability(now, "2026-12-01", "main", operator)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range slots {
			if s.Slot.Equal(at(h, m)) {
				if s.LimitedBy == nil {
					t.Fatalf("the %02d:%02d wave says nothing of what limits it: %+v", h, m, s)
				}
				return s
			}
		}
		t.Fatalf("no %02d:%02d wave", h, m)
		return SlotRoom{}
	}
	check := func(name string, s SlotRoom, want Limit, remaining int) {
		t.Helper()
		got := *s.LimitedBy
		if got.Kind != want.Kind || got.ID != want.ID || got.Rule != want.Rule || !got.At.Equal(want.At) || s.Remaining != remaining {
			t.Errorf("%s: %d places limited by %+v, want %d limited by %+v", name, s.Remaining, got, remaining, want)
		}
	}

	// An empty day: the ticket office is bounded by the gate's wave (300);
	// an operator by its share of the wave (half of it).
	check("ticket office, empty day", wave(WalkInOperator, 8, 0), Limit{Kind: "gate", ID: "visitor-centre", Rule: RuleCapacity, At: at(8, 0)}, 300)
	check("operator, empty day", wave("wadi-tours", 8, 0), Limit{Kind: "operator", ID: "wadi-tours", Rule: RuleOperatorWaveShare, At: at(8, 0)}, 150)

	// The Siq cut to 100 from 08:00: a group entering at 07:30 reaches the
	// Siq at 07:45 and meets the cut at 08:00; the Siq bounds the wave.
	if res := r.do(t, now, CutCapacity{ID: "cut1", Zone: "siq", Capacity: 100, From: at(8, 0), Until: at(12, 0), Reason: "rain", Source: "ops"}); res.Err != nil {
		t.Fatal(res.Err)
	}
	check("ticket office, Siq cut", wave(WalkInOperator, 7, 30), Limit{Kind: "zone", ID: "siq", Rule: RuleCapacity, At: at(8, 0)}, 100)
	check("operator, Siq cut", wave("wadi-tours", 7, 30), Limit{Kind: "zone", ID: "siq", Rule: RuleWalkInShare, At: at(8, 0)}, 80)

	// The Treasury closed: a group entering at 13:00 would reach it at
	// 14:15 (75 minutes in).
	if res := r.do(t, now, Close{ID: "cl1", Zones: []string{"treasury"}, Reason: "rockfall", Source: "ops", Until: at(18, 0)}); res.Err != nil {
		t.Fatal(res.Err)
	}
	closed := wave(WalkInOperator, 13, 0)
	check("closed Treasury", closed, Limit{Kind: "zone", ID: "treasury", Rule: RuleClosed, At: at(14, 15)}, 0)
	if !closed.Closed {
		t.Error("the closed wave is not marked closed")
	}
}
