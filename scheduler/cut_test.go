package scheduler

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// fullMorning books 60 groups of 40 on the main trail of 1 December, each
// at its earliest wave from 06:00: the Siq is full from about 07:00.
func fullMorning(t testing.TB) (*recorder, time.Time) {
	t.Helper()
	cfg := petra(t)
	r := &recorder{s: New(cfg)}
	now := testNow(cfg)
	for i := range 60 {
		res := r.do(t, now, Book{ID: fmt.Sprintf("bk%02d", i), Operator: fmt.Sprintf("op-%d", i%10), Request: BookingRequest{
			Date: "2026-12-01", Route: "main", PartySize: 40, Window: Window{hm(6, 0), hm(15, 0)}}})
		if res.Err != nil {
			t.Fatalf("book %d: %v", i, res.Err)
		}
	}
	return r, now
}

// zoneLoad recomputes a zone's load per bucket from the active bookings
// alone, independently of the state's incremental books.
func zoneLoad(s *State, date, zone string) (all, ops []int) {
	d := s.days[date]
	n := dayMinutes / s.res
	all, ops = make([]int, n), make([]int, n)
	for b := range s.bookings.view("", nil) {
		if !b.Placed() || b.Date != date {
			continue
		}
		r, _ := s.cfg.Route(b.Route)
		m := s.minuteOf(d, b.Slot)
		for _, st := range r.Stops {
			if st.Zone != zone {
				continue
			}
			for i := (m + st.Arrive) / s.res; i < min((m+st.Arrive+st.Stay)/s.res, n); i++ {
				all[i] += b.PartySize
				if b.Operator != WalkInOperator {
					ops[i] += b.PartySize
				}
			}
		}
	}
	return all, ops
}

func TestCapacityCutZone(t *testing.T) {
	r, now := fullMorning(t)
	s, cfg := r.s, r.s.cfg
	before := s.Snapshot()
	at := func(h, m int) time.Time { return time.Date(2026, 12, 1, h, m, 0, 0, cfg.Location()) }
	res := r.do(t, now, CutCapacity{ID: "cut1", Zone: "siq", Capacity: 500, From: at(8, 0), Until: at(10, 0), Reason: "rain", Source: "ops"})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	d := s.days["2026-12-01"]
	checkDayLoads(t, cfg, d)
	all, ops := zoneLoad(s, "2026-12-01", "siq")
	share := 1 - cfg.Policy.WalkInShare
	moved, cancelled := 0, 0
	for i := range all {
		t0 := s.at(d, i*s.res)
		inCut := !t0.Before(at(8, 0)) && t0.Before(at(10, 0))
		limit := 1200
		if inCut {
			limit = 500
		}
		if all[i] > limit || ops[i] > floorShare(limit, share) {
			t.Fatalf("Siq at %s holds %d visitors (%d of operators) under a cut to %d", t0.Format("15:04"), all[i], ops[i], limit)
		}
		if want := all[i]; inCut && int(d.zone["siq"][i])-d.phantomZone("siq", i) != want {
			t.Fatalf("the books say %d at %s, the bookings %d", int(d.zone["siq"][i])-d.phantomZone("siq", i), t0.Format("15:04"), want)
		}
	}
	old := map[string]Booking{}
	for _, b := range before.Bookings {
		old[b.ID] = b
	}
	for _, b := range s.Bookings("", "2026-12-01") {
		o := old[b.ID]
		switch {
		case b.Status == StatusCancelled:
			cancelled++
		case !b.Slot.Equal(o.Slot) || b.Gate != o.Gate:
			moved++
		default:
			if b.Status != o.Status || b.Reason != o.Reason || b.Version != o.Version {
				t.Fatalf("booking %s kept its wave but changed: %+v → %+v", b.ID, o, b)
			}
			continue
		}
		if b.Reason != "capacity cut: rain" {
			t.Fatalf("booking %s moved or cancelled with reason %q", b.ID, b.Reason)
		}
	}
	if moved == 0 {
		t.Fatal("a cut to 500 of a full Siq moved nobody")
	}
	t.Logf("cut of the Siq to 500 from 08:00 to 10:00: %d groups moved, %d cancelled", moved, cancelled)

	// What people see: planned occupancy without the phantom load, the
	// lower capacity while the cut is in force.
	for _, o := range s.Occupancy(at(9, 0)) {
		if o.Zone == "siq" && (o.Capacity != 500 || o.Planned > 500) {
			t.Fatalf("Siq at 09:00: capacity %d, planned %d", o.Capacity, o.Planned)
		}
	}
	// A restart rebuilds the same books, cut included.
	again, err := Restore(cfg, s.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again.days["2026-12-01"].zone, d.zone) || !reflect.DeepEqual(again.days["2026-12-01"].zoneOp, d.zoneOp) {
		t.Fatal("restore rebuilt other books")
	}
	// Lifted: the capacity returns, the bookings stay where they are.
	kept := s.Snapshot().Bookings
	if res := r.do(t, at(9, 0).Add(-25*time.Hour), LiftCut{ID: "cut1"}); res.Err != nil {
		t.Fatal(res.Err)
	}
	if d.cuts != nil {
		t.Fatal("phantom load left after the lift")
	}
	if !reflect.DeepEqual(kept, s.Snapshot().Bookings) {
		t.Fatal("lifting a cut changed bookings")
	}
	if res := r.do(t, now, LiftCut{ID: "cut1"}); code(res.Err) != CodeConflict {
		t.Fatalf("lift twice: %v", res.Err)
	}
}

func TestCapacityCutGate(t *testing.T) {
	r, now := fullMorning(t)
	s, cfg := r.s, r.s.cfg
	at := func(h, m int) time.Time { return time.Date(2026, 12, 1, h, m, 0, 0, cfg.Location()) }
	res := r.do(t, now, CutCapacity{ID: "staff", Gate: "visitor-centre", Capacity: 100, From: at(6, 0), Until: at(7, 0), Reason: "two lanes closed"})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	checkDayLoads(t, cfg, s.days["2026-12-01"])
	waves := map[time.Time]int{}
	for _, b := range s.Bookings("", "2026-12-01") {
		if b.Active() {
			waves[b.Slot] += b.PartySize
		}
	}
	for slot, n := range waves {
		if !slot.Before(at(6, 0)) && slot.Before(at(7, 0)) && n > 100 {
			t.Fatalf("wave %s holds %d under a cut to 100", slot.Format("15:04"), n)
		}
	}
	rooms, err := s.Availability(now, "2026-12-01", "main", "op-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, sr := range rooms {
		if sr.Slot.Equal(at(6, 0)) && (sr.Capacity != 100 || sr.Booked > 100 || sr.Booked != waves[sr.Slot]) {
			t.Fatalf("availability at 06:00 during the cut: %+v (bookings hold %d)", sr, waves[sr.Slot])
		}
	}
}

func TestCapacityCutRefusals(t *testing.T) {
	cfg := petra(t)
	r := &recorder{s: New(cfg)}
	now := testNow(cfg)
	until := now.Add(2 * time.Hour)
	before := r.s.Snapshot()
	for _, tc := range []struct {
		name string
		cmd  CutCapacity
		text string
	}{
		{"zone and gate", CutCapacity{ID: "c", Zone: "siq", Gate: "visitor-centre", Capacity: 10, Until: until, Reason: "x"}, "exactly one of zone"},
		{"neither", CutCapacity{ID: "c", Capacity: 10, Until: until, Reason: "x"}, "exactly one of zone"},
		{"unknown zone", CutCapacity{ID: "c", Zone: "sik", Capacity: 10, Until: until, Reason: "x"}, `unknown zone "sik"`},
		{"unknown gate", CutCapacity{ID: "c", Gate: "north", Capacity: 10, Until: until, Reason: "x"}, `unknown gate "north"`},
		{"not a cut", CutCapacity{ID: "c", Zone: "siq", Capacity: 1200, Until: until, Reason: "x"}, "capacity 1200 is not a cut of 1200 (accepted: 1 to 1199"},
		{"zero", CutCapacity{ID: "c", Zone: "siq", Capacity: 0, Until: until, Reason: "x"}, "close the zone instead"},
		{"no reason", CutCapacity{ID: "c", Zone: "siq", Capacity: 10, Until: until}, "needs a reason"},
		{"no end", CutCapacity{ID: "c", Zone: "siq", Capacity: 10, Reason: "x"}, "needs an end"},
		{"end before start", CutCapacity{ID: "c", Zone: "siq", Capacity: 10, From: until, Until: until.Add(-time.Hour), Reason: "x"}, "needs an end"},
	} {
		res := r.do(t, now, tc.cmd)
		if code(res.Err) != CodeInvalid || !strings.Contains(res.Err.Error(), tc.text) {
			t.Errorf("%s: %v, want invalid_request containing %q", tc.name, res.Err, tc.text)
		}
	}
	if !reflect.DeepEqual(before, r.s.Snapshot()) {
		t.Fatal("a refused cut changed the state")
	}
}

// TestCapacityCutProperty: after random bookings, closures and cuts,
// every zone bucket and wave recomputed from the bookings alone keeps the
// lowest capacity in force on it, and the books match the bookings.
func TestCapacityCutProperty(t *testing.T) {
	cfg := tight(petra(t))
	rapid.Check(t, func(rt *rapid.T) {
		s := New(cfg)
		now := testNow(cfg)
		date := "2026-12-01"
		base := time.Date(2026, 12, 1, 0, 0, 0, 0, cfg.Location())
		var cuts []CapacityCut
		for i := range rapid.IntRange(1, 60).Draw(rt, "steps") {
			switch rapid.IntRange(0, 9).Draw(rt, "kind") {
			case 0, 1:
				var c CutCapacity
				c.ID, c.Reason = fmt.Sprintf("cut%d", i), "test"
				if rapid.Bool().Draw(rt, "gate") {
					g := cfg.Gates[rapid.IntRange(0, len(cfg.Gates)-1).Draw(rt, "g")]
					c.Gate, c.Capacity = g.ID, rapid.IntRange(1, g.WaveCapacity-1).Draw(rt, "cap")
				} else {
					z := cfg.Zones[rapid.IntRange(0, len(cfg.Zones)-1).Draw(rt, "z")]
					c.Zone, c.Capacity = z.ID, rapid.IntRange(1, z.Capacity-1).Draw(rt, "cap")
				}
				from := rapid.IntRange(6*60, 15*60).Draw(rt, "from")
				c.From = base.Add(time.Duration(from) * time.Minute)
				c.Until = c.From.Add(time.Duration(rapid.IntRange(15, 300).Draw(rt, "len")) * time.Minute)
				res, _ := s.Apply(now, c)
				if res.Err == nil {
					cuts = append(cuts, *res.Cut)
				}
			case 2:
				if len(cuts) > 0 {
					k := rapid.IntRange(0, len(cuts)-1).Draw(rt, "lift")
					if res, _ := s.Apply(now, LiftCut{ID: cuts[k].ID}); res.Err == nil {
						cuts[k] = *res.Cut
					}
				}
			default:
				r := cfg.Routes[rapid.IntRange(0, len(cfg.Routes)-1).Draw(rt, "route")]
				from := rapid.IntRange(6*60, 15*60).Draw(rt, "wfrom")
				s.Apply(now, Book{ID: fmt.Sprintf("b%d", i), Operator: fmt.Sprintf("op%d", rapid.IntRange(0, 3).Draw(rt, "op")),
					Request: BookingRequest{Date: date, Route: r.ID, PartySize: rapid.IntRange(1, cfg.Policy.MaxPartySize).Draw(rt, "size"),
						Window: Window{from, from + rapid.IntRange(15, 240).Draw(rt, "wlen")}}})
			}
		}
		d := s.days[date]
		if d == nil {
			return
		}
		share := 1 - cfg.Policy.WalkInShare
		for _, z := range cfg.Zones {
			all, ops := zoneLoad(s, date, z.ID)
			for i := range all {
				t0 := s.at(d, i*s.res)
				limit := z.Capacity
				for _, c := range cuts {
					// A bucket during a cut in force when it was made or
					// since; a lifted cut bound what was allotted before.
					if c.Zone == z.ID && t0.Before(c.end()) && t0.Add(time.Duration(s.res)*time.Minute).After(c.From) {
						limit = min(limit, c.Capacity)
					}
				}
				if got := int(d.zone[z.ID][i]) - d.phantomZone(z.ID, i); got != all[i] {
					rt.Fatalf("zone %s bucket %d: books %d, bookings %d", z.ID, i, got, all[i])
				}
				if all[i] > limit || ops[i] > floorShare(limit, share) {
					rt.Fatalf("zone %s at %s: %d visitors (%d of operators), capacity in force %d", z.ID, t0.Format("15:04"), all[i], ops[i], limit)
				}
			}
		}
		checkDayLoads(rt, cfg, d)
	})
}
