package scheduler

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// spreadWorld books a busy day (every group at the Visitor Centre between
// 06:00 and 10:00), lets the groups scan when they come (-10 to +14
// minutes around their slot) and again when told to come back, and returns
// the admissions the state made.
func spreadWorld(t *testing.T, seed uint64) (*State, []admitRec) {
	t.Helper()
	cfg := petraWith(t, func(c *Config) { c.Policy.RequestWindow = nil })
	s := New(cfg)
	rng := rand.New(rand.NewPCG(seed, 7))
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, cfg.Location())
	routes := []string{"main", "main", "monastery", "high-place"}
	type visit struct {
		id    string
		at    time.Time
		tries int
	}
	var visits []visit
	for i := range 400 {
		id := fmt.Sprintf("g%d", i)
		from := hm(6, 0) + 15*rng.IntN(16)
		res, _ := s.Apply(day.Add(-24*time.Hour), Book{ID: id, Operator: WalkInOperator, Request: BookingRequest{
			Date: "2026-12-01", Route: routes[rng.IntN(len(routes))], PartySize: 5 + rng.IntN(45), Window: Window{From: from, To: from + 60}}})
		if res.Err != nil {
			continue
		}
		b := s.bookings.at(id)
		visits = append(visits, visit{id, b.Slot.Add(time.Duration(rng.IntN(25)-10) * time.Minute), 0})
	}
	now := day.Add(5 * time.Hour)
	for len(visits) > 0 {
		slices.SortStableFunc(visits, func(a, b visit) int { return a.at.Compare(b.at) })
		v := visits[0]
		visits = visits[1:]
		if v.at.After(now) {
			now = v.at
		}
		b := s.bookings.at(v.id)
		res, _ := s.Apply(now, Scan{Gate: b.Gate, Ticket: Ticket{Booking: b.ID}, Count: b.PartySize - b.Admitted})
		if res.Scan.Reason == ReasonHeld && res.Scan.RetryAt != nil && v.tries < 6 {
			visits = append(visits, visit{v.id, *res.Scan.RetryAt, v.tries + 1})
		}
	}
	return s, slices.Clone(s.admits)
}

// TestMeteringLeavesRoomForTheSpreadOfStays: groups whose stays vary a
// third either side of the configured ones (the Siq's 45-90 minutes,
// docs/PETRA.md), the mean exactly as configured, take no zone over its
// capacity on a busy day the forecast meters at the gates, in at least
// 95% of the days played (4 bookings × 50 draws of the stays; 8 of 200
// had one at meterZ 3.5, 1 at 4, 33 at 3, 160 at 2, docs/closed-loop.md).
// Held to the mean picture alone, 198 of 200 had one (the Treasury plaza
// at 650-730 of 600 in the simulator).
func TestMeteringLeavesRoomForTheSpreadOfStays(t *testing.T) {
	worst := map[string]int{}
	days, over, admitted := 0, 0, 0
	for seed := uint64(1); seed <= 4; seed++ {
		s, admits := spreadWorld(t, seed)
		for _, a := range admits {
			admitted += a.N
		}
		day := time.Date(2026, 12, 1, 0, 0, 0, 0, s.cfg.Location())
		from := day.Add(5 * time.Hour)
		occ := map[string][]int{}
		for _, zc := range s.cfg.Zones {
			occ[zc.ID] = make([]int, 16*60)
		}
		for w := range 50 {
			for i := range occ {
				clear(occ[i])
			}
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for _, a := range admits {
				r, _ := s.cfg.Route(a.Route)
				at := a.At.Sub(from).Minutes()
				prevEnd := 0
				for k, st := range r.Stops {
					if gap := st.Arrive - prevEnd; k > 0 && gap > 0 {
						at += float64(gap)
					}
					prevEnd = st.Arrive + st.Stay
					stay := float64(st.Stay) * (1 - stayShare + 2*stayShare*rng.Float64())
					for m := max(int(at), 0); m < min(int(at+stay), len(occ[st.Zone])); m++ {
						occ[st.Zone][m] += a.N
					}
					at += stay
				}
			}
			days++
			bad := ""
			for _, zc := range s.cfg.Zones {
				for m, v := range occ[zc.ID] {
					if v > zc.Capacity && bad == "" {
						bad = fmt.Sprintf("seed %d, draw %d: %s at %s: %d visitors, capacity %d", seed, w, zc.ID, from.Add(time.Duration(m)*time.Minute).Format("15:04"), v, zc.Capacity)
					}
					worst[zc.ID] = max(worst[zc.ID], v)
				}
			}
			if bad != "" {
				over++
				t.Log(bad)
			}
		}
	}
	t.Logf("%d of %d days with a zone over capacity; %d visitors admitted over the 4 bookings; worst occupancy %v", over, days, admitted, worst)
	if over*100 > 5*days {
		t.Fatalf("%d of %d days had a zone over capacity, want at most 5%%", over, days)
	}
}
