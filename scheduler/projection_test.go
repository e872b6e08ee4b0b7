package scheduler

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// projectionRef is projection as it was before it forecast only the
// zones asked for, in one buffer reused from call to call: every zone's
// occupancy for minutes 0 to h-1 from now; with expected, the groups
// still to come are added.
func projectionRef(s *State, now time.Time, h int, expected bool) map[string][]float64 {
	f := s.dwellFactors()
	diff := map[string][]float64{}
	for _, zc := range s.cfg.Zones {
		diff[zc.ID] = make([]float64, h+1)
	}
	spans := map[string][]stopSpan{}
	cl := s.closedSpans()
	exact := map[string][]float64{} // stops closures touch, minute by minute
	place := func(route string, n int, el float64) {
		sp, ok := spans[route]
		if !ok {
			r, found := s.cfg.Route(route)
			if !found {
				return
			}
			sp = routeSpans(r, f)
			spans[route] = sp
		}
		for _, st := range sp {
			k0 := max(int(math.Ceil(st.Arrive-el)), 0)
			k1 := min(int(math.Ceil(st.Leave-el)), h)
			if k0 >= k1 {
				continue
			}
			at := now.Add(-minutes(el))
			in, out := at.Add(minutes(st.Arrive)), at.Add(minutes(st.Leave))
			if touches(cl[st.Zone], in, out) {
				v := exact[st.Zone]
				if v == nil {
					v = make([]float64, h)
					exact[st.Zone] = v
				}
				for k := k0; k < k1; k++ {
					v[k] += float64(n) * presence(cl[st.Zone], in, out, st.Stay, now.Add(time.Duration(k)*time.Minute))
				}
				continue
			}
			d := diff[st.Zone]
			d[k0] += float64(n)
			d[k1] -= float64(n)
		}
	}
	for _, a := range s.admits {
		place(a.Route, a.N, now.Sub(a.At).Minutes())
	}
	out := map[string][]float64{}
	for _, zc := range s.cfg.Zones {
		d := diff[zc.ID]
		v := make([]float64, h)
		acc := 0.0
		for k := range h {
			acc += d[k]
			v[k] = acc
		}
		if e := exact[zc.ID]; e != nil {
			for k := range h {
				v[k] += e[k]
			}
			clear(e)
		}
		out[zc.ID] = v
	}
	// The gap between the estimate and the model now fades over the
	// zone's mean stay.
	for _, zc := range s.cfg.Zones {
		v := out[zc.ID]
		if h == 0 || s.traffic(zc.ID) == 0 {
			continue
		}
		gap := float64(s.Live(zc.ID)) - v[0]
		w := s.meanStay(now, zc.ID)
		for k := range h {
			v[k] = max(v[k]+fadedGap(gap, w, k), 0)
		}
	}
	for _, zc := range s.cfg.Zones {
		clear(diff[zc.ID])
	}
	if expected {
		date := s.today(now).Format(time.DateOnly)
		late := time.Duration(s.cfg.Policy.LateGraceMinutes) * time.Minute
		// Today's bookings only (the per-date index), in id order (the
		// sums are the same on every replica).
		var todays []Booking
		for b := range s.bookings.view(date, nil) {
			todays = append(todays, *b)
		}
		slices.SortFunc(todays, func(a, b Booking) int { return strings.Compare(a.ID, b.ID) })
		for i := range todays {
			b := &todays[i]
			left := b.PartySize - b.Admitted
			if !b.Active() || b.Date != date || left <= 0 {
				continue
			}
			at := b.Slot
			if m := s.meters[b.ID]; m != nil {
				at = m.RetryAt
			} else if now.After(b.Slot.Add(late)) && b.Admitted == 0 {
				continue // past its grace: it will not be let in
			}
			if at.Before(now) {
				at = now
			}
			if r, ok := s.cfg.Route(b.Route); !ok || s.routeClosed(now, r) {
				continue
			}
			place(b.Route, left, -at.Sub(now).Minutes())
		}
	}
	for _, zc := range s.cfg.Zones {
		d, v := diff[zc.ID], out[zc.ID]
		acc := 0.0
		for k := range h {
			acc += d[k]
			v[k] += acc
		}
		if e := exact[zc.ID]; e != nil {
			for k := range h {
				v[k] += e[k]
			}
		}
	}
	return out
}

// TestProjectionIsTheStraightforwardOne: the forecast that the metering
// check and GET /v1/forecast read (projection: only the zones asked for,
// in one buffer reused from call to call, closures looked up once a
// route) is, bit for bit, the straightforward one (projectionRef) for
// every zone asked for, with admissions on every route at any time,
// closures in force, lifted or to come, counters ahead of or behind the
// model, learned dwell, with and without the groups still to come — also
// when called again with another horizon or other zones, as the
// metering check and the forecast do on the same state.
func TestProjectionIsTheStraightforwardOne(t *testing.T) {
	cfg := petraWith(t, func(c *Config) { c.Policy.RequestWindow = nil })
	var zoneIDs []string
	for _, zc := range cfg.Zones {
		zoneIDs = append(zoneIDs, zc.ID)
	}
	routes := []string{"main", "monastery", "high-place", "back-trail", "no-such-route"}
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, cfg.Location())
	rapid.Check(t, func(rt *rapid.T) {
		s := New(cfg)
		now := day.Add(time.Duration(rapid.IntRange(6*60, 18*60).Draw(rt, "now_minute"))*time.Minute + time.Duration(rapid.IntRange(0, 59_999).Draw(rt, "now_ms"))*time.Millisecond)
		for i := range rapid.IntRange(0, 30).Draw(rt, "bookings") {
			route := rapid.SampledFrom(routes[:4]).Draw(rt, "booking_route")
			from := hm(6, 0) + 15*rapid.IntRange(0, 40).Draw(rt, "from")
			size := rapid.IntRange(1, 30).Draw(rt, "size")
			res, _ := s.Apply(day.Add(-time.Hour), Book{ID: fmt.Sprintf("g%02d", i), Operator: WalkInOperator, Request: BookingRequest{
				Date: "2026-12-01", Route: route, PartySize: size, Window: Window{From: from, To: from + 60}}})
			if res.Err == nil && rapid.Bool().Draw(rt, "partly_admitted") {
				b := s.bookings.at(fmt.Sprintf("g%02d", i))
				b.Admitted = rapid.IntRange(0, size).Draw(rt, "admitted")
			}
		}
		for i := range rapid.IntRange(0, 400).Draw(rt, "admissions") {
			at := now.Add(-time.Duration(rapid.Float64Range(-30, 16*60).Draw(rt, "ago") * float64(time.Minute)))
			s.admits = append(s.admits, admitRec{Booking: fmt.Sprintf("a%d", i), Route: rapid.SampledFrom(routes).Draw(rt, "route"),
				N: rapid.IntRange(1, 60).Draw(rt, "n"), At: at})
		}
		for i := range rapid.IntRange(0, 3).Draw(rt, "closures") {
			c := &Closure{ID: fmt.Sprintf("c%d", i), From: now.Add(time.Duration(rapid.IntRange(-600, 300).Draw(rt, "closed_from")) * time.Minute)}
			if rapid.Bool().Draw(rt, "some_zones") {
				c.Zones = rapid.SliceOfNDistinct(rapid.SampledFrom(zoneIDs), 1, 3, rapid.ID[string]).Draw(rt, "closed_zones")
			}
			if rapid.Bool().Draw(rt, "until") {
				c.Until = c.From.Add(time.Duration(rapid.IntRange(1, 600).Draw(rt, "closed_for")) * time.Minute)
			}
			if rapid.Bool().Draw(rt, "lifted") {
				c.Lifted = c.From.Add(time.Duration(rapid.IntRange(0, 400).Draw(rt, "lifted_after")) * time.Minute)
			}
			s.closures[c.ID] = c
		}
		for _, z := range zoneIDs {
			if rapid.Bool().Draw(rt, "counted_"+z) {
				s.sensors["s-"+z] = &SensorState{Sensor: "s-" + z, Zone: z, In: rapid.Int64Range(0, 3000).Draw(rt, "in"), Out: rapid.Int64Range(0, 3000).Draw(rt, "out")}
			}
			if rapid.Bool().Draw(rt, "learned_"+z) {
				s.dwell[z] = &dwellState{factor: rapid.Float64Range(dwellMin, dwellMax).Draw(rt, "factor_"+z), hours: map[int]float64{}}
			}
		}
		slices.SortStableFunc(s.admits, func(a, b admitRec) int { return a.At.Compare(b.At) })
		for range 3 {
			h := rapid.IntRange(0, 500).Draw(rt, "h")
			expected := rapid.Bool().Draw(rt, "expected")
			var zones []string
			if rapid.Bool().Draw(rt, "only_some_zones") {
				zones = rapid.SliceOfN(rapid.SampledFrom(zoneIDs), 1, 8).Draw(rt, "zones")
			}
			want := projectionRef(s, now, h, expected)
			got := s.projection(now, h, expected, zones...)
			asked := zoneIDs
			if zones != nil {
				asked = zones
			}
			for _, z := range asked {
				if len(got[z]) != h {
					rt.Fatalf("zone %s: %d minutes forecast, want %d", z, len(got[z]), h)
				}
				for k := range h {
					if math.Float64bits(got[z][k]) != math.Float64bits(want[z][k]) {
						rt.Fatalf("zone %s minute %d: %v, want %v", z, k, got[z][k], want[z][k])
					}
				}
			}
			for z := range got {
				if !slices.Contains(asked, z) {
					rt.Fatalf("zone %s forecast but not asked for (asked %v)", z, asked)
				}
			}
		}
	})
}
