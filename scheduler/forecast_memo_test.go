package scheduler

import (
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// meterCheckRef is the metering check as it was before its verdicts were
// kept (forecast_memo.go) and before spreadGap and spreadCheck were made
// cheaper: the straightforward computation, every time, the reference
// the kept and cheaper check must always agree with.
func meterCheckRef(s *State, now time.Time, b *Booking, r *Route, n int) (MeteredGroup, bool) {
	sp := routeSpans(r, s.dwellFactors())
	if len(sp) == 0 {
		return MeteredGroup{}, true
	}
	ssp := spreadOf(sp)
	h := int(math.Ceil(sp[len(sp)-1].Leave)) + meterMaxDelay + 2
	p := s.projection(now, h, false, zonesOf(sp)...)
	sc := s.spreadProjection(now)
	gap, fade := map[string]float64{}, map[string]float64{}
	model := s.modelAt(now)
	for _, zc := range s.cfg.Zones {
		if s.traffic(zc.ID) == 0 {
			continue
		}
		gap[zc.ID] = float64(s.Live(zc.ID) - model[zc.ID])
		fade[zc.ID] = s.meanStay(now, zc.ID)
	}
	thr, capy := map[string]float64{}, map[string]float64{}
	for _, zc := range s.cfg.Zones {
		thr[zc.ID] = float64(s.holdThreshold(zc, now))
		capy[zc.ID] = float64(s.zoneCapacity(zc, now))
	}
	m := MeteredGroup{Booking: b.ID, Operator: b.Operator, Gate: b.Gate, Slot: b.Slot, Visitors: n, Since: now}
	if prev := s.meters[b.ID]; prev != nil {
		m.Since = prev.Since
	}
	over := map[string][]int32{}
	for _, st := range sp {
		if _, ok := over[st.Zone]; ok {
			continue
		}
		v, t := p[st.Zone], thr[st.Zone]
		c := make([]int32, len(v)+1)
		for k, x := range v {
			c[k+1] = c[k]
			if x+float64(n) > t {
				c[k+1]++
			}
		}
		over[st.Zone] = c
	}
	spreadFits := func(d int) (string, int, bool) { return spreadCheckRef(ssp, sc, gap, fade, capy, n, d) }
	for d := 0; d <= meterMaxDelay; d++ {
		ok := true
		for _, st := range sp {
			c := over[st.Zone]
			a := min(int(math.Ceil(float64(d)+st.Arrive)), len(c)-1)
			l := min(int(math.Ceil(float64(d)+st.Leave)), len(c)-1)
			if a >= l || c[l] == c[a] {
				continue
			}
			ok = false
			if d == 0 {
				k := a
				for c[k+1] == c[k] {
					k++
				}
				m.Zone, m.ZoneAt, m.Forecast, m.HoldAt = st.Zone, now.Add(time.Duration(k)*time.Minute), int(math.Round(p[st.Zone][k])), int(thr[st.Zone])
			}
			break
		}
		if ok {
			if z, k, fits := spreadFits(d); !fits {
				if d == 0 {
					m.Zone, m.ZoneAt, m.Forecast, m.HoldAt = z, now.Add(time.Duration(k)*time.Minute), int(math.Round(sc.mean[z][k]+fadedGap(gap[z], fade[z], k))), int(thr[z])
				}
				continue
			}
			if d == 0 {
				return MeteredGroup{}, true
			}
			m.RetryAt = now.Add(time.Duration(d) * time.Minute).Truncate(time.Minute).Add(time.Minute)
			return m, false
		}
	}
	return m, false
}

// spreadCheckRef is the spread check as it was: each delay d worked out
// whole.
func spreadCheckRef(sp []spreadStop, c *spreadCache, gap, fade, capy map[string]float64, n, d int) (string, int, bool) {
	fn := float64(n)
	for _, st := range sp {
		mu, vr := c.mean[st.Zone], c.vari[st.Zone]
		if mu == nil {
			continue
		}
		lo, hi := st.window()
		k0, k1 := max(int(math.Ceil(lo))+d, 0), min(int(math.Ceil(hi))+d, len(mu))
		g, w := gap[st.Zone], fade[st.Zone]
		for k := k0; k < k1; k++ {
			p := st.at(float64(k - d))
			if p < spreadMinShare {
				continue
			}
			m := max(mu[k]+fadedGap(g, w, k), 0) + fn*p
			v := vr[k] + fn*fn*p*(1-p)
			if m+meterZ*math.Sqrt(v) > capy[st.Zone] {
				return st.Zone, k, false
			}
		}
	}
	return "", 0, true
}

// TestSpreadRouteIsTheStraightforwardCheck: the spread check prepared
// once per route (each stop's chances and each zone's fading gap worked
// out once, in a reused buffer) gives, for every delay, exactly the zone,
// minute and verdict of the check worked out whole for each delay, on
// random admissions, counters, closures and dwell, at capacities that
// bind anywhere; and the gap worked out for the route's counted zones
// only is the whole site's gap there.
func TestSpreadRouteIsTheStraightforwardCheck(t *testing.T) {
	cfg := petraWith(t, func(c *Config) { c.Policy.RequestWindow = nil })
	var zoneIDs []string
	for _, zc := range cfg.Zones {
		zoneIDs = append(zoneIDs, zc.ID)
	}
	routes := []string{"main", "monastery", "high-place", "back-trail"}
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, cfg.Location())
	rapid.Check(t, func(rt *rapid.T) {
		s := New(cfg)
		now := day.Add(time.Duration(rapid.IntRange(6*60, 18*60).Draw(rt, "now_minute"))*time.Minute + time.Duration(rapid.IntRange(0, 59_999).Draw(rt, "now_ms"))*time.Millisecond)
		for i := range rapid.IntRange(0, 200).Draw(rt, "admissions") {
			at := now.Add(-time.Duration(rapid.Float64Range(-30, 10*60).Draw(rt, "ago") * float64(time.Minute)))
			s.admits = append(s.admits, admitRec{Booking: fmt.Sprintf("a%d", i), Route: rapid.SampledFrom(routes).Draw(rt, "route"),
				N: rapid.IntRange(1, 60).Draw(rt, "n"), At: at})
		}
		slices.SortStableFunc(s.admits, func(a, b admitRec) int { return a.At.Compare(b.At) })
		if rapid.Bool().Draw(rt, "closure") {
			s.closures["c"] = &Closure{ID: "c", Zones: []string{rapid.SampledFrom(zoneIDs).Draw(rt, "closed")},
				From: now.Add(time.Duration(rapid.IntRange(-300, 120).Draw(rt, "closed_from")) * time.Minute)}
		}
		for _, z := range zoneIDs {
			if rapid.Bool().Draw(rt, "counted_"+z) {
				s.sensors["s-"+z] = &SensorState{Sensor: "s-" + z, Zone: z, In: rapid.Int64Range(0, 3000).Draw(rt, "in"), Out: rapid.Int64Range(0, 3000).Draw(rt, "out")}
			}
			if rapid.Bool().Draw(rt, "learned_"+z) {
				s.dwell[z] = &dwellState{factor: rapid.Float64Range(dwellMin, dwellMax).Draw(rt, "factor_"+z), hours: map[int]float64{}}
			}
		}
		r, _ := cfg.Route(rapid.SampledFrom(routes).Draw(rt, "checked_route"))
		sp := routeSpans(r, s.dwellFactors())
		zs := zonesOf(sp)
		h := int(math.Ceil(sp[len(sp)-1].Leave)) + meterMaxDelay + 2
		fade := map[string]float64{}
		s.project(now, h, false, zs, fade)
		gap := s.spreadGap(now, fade)
		// The whole site's gap, as it was worked out.
		model := s.modelAt(now)
		wantGap, wantFade := map[string]float64{}, map[string]float64{}
		for _, zc := range cfg.Zones {
			if s.traffic(zc.ID) != 0 {
				wantGap[zc.ID] = float64(s.Live(zc.ID) - model[zc.ID])
				wantFade[zc.ID] = s.meanStay(now, zc.ID)
			}
		}
		for _, z := range zs {
			if math.Float64bits(gap[z]) != math.Float64bits(wantGap[z]) || math.Float64bits(fade[z]) != math.Float64bits(wantFade[z]) {
				rt.Fatalf("zone %s: gap %v fading over %v, want %v over %v", z, gap[z], fade[z], wantGap[z], wantFade[z])
			}
		}
		sc := s.spreadProjection(now)
		capy := map[string]float64{}
		for _, zc := range cfg.Zones {
			capy[zc.ID] = float64(rapid.IntRange(0, zc.Capacity).Draw(rt, "capacity_"+zc.ID))
		}
		n := rapid.IntRange(1, 60).Draw(rt, "party")
		ssp := spreadOf(sp)
		var buf []float64
		for range 2 { // the buffer reused
			var route *spreadRoute
			route, buf = newSpreadRoute(ssp, sc, gap, fade, capy, n, buf)
			for d := 0; d <= meterMaxDelay; d++ {
				z, k, ok := route.check(d)
				wz, wk, wok := spreadCheckRef(ssp, sc, wantGap, wantFade, capy, n, d)
				if z != wz || k != wk || ok != wok {
					rt.Fatalf("delay %d: %q minute %d fits %v, want %q minute %d fits %v", d, z, k, ok, wz, wk, wok)
				}
			}
		}
	})
}

// timeStep moves now on by a random step: none (one turn's instant), a
// tiny, small or large one, or to just before, at or just after the next
// whole minute or wave, an instant an admission's stops move by a minute
// in the projection (its phase), or a capacity cut's start or end.
func timeStep(rt *rapid.T, s *State, now time.Time) time.Time {
	jitter := time.Duration(rapid.SampledFrom([]int{-1000, -500, -1, 0, 1, 500, 1000, 100_000, 500_000}).Draw(rt, "jitter_ns"))
	switch rapid.IntRange(0, 7).Draw(rt, "time_step") {
	case 0:
		return now
	case 1:
		return now.Add(time.Duration(rapid.Int64Range(1, int64(2*time.Second)).Draw(rt, "small_ns")))
	case 7:
		return now.Add(time.Duration(rapid.Int64Range(1, 2000).Draw(rt, "tiny_ns")))
	case 2:
		return now.Add(time.Duration(rapid.SampledFrom([]int{1, 1_000, 30_000, 60_000, 61_500, 300_000, 1_000_000}).Draw(rt, "ms")) * time.Millisecond)
	case 3:
		if t := now.Truncate(time.Minute).Add(time.Minute + jitter); t.After(now) {
			return t
		}
	case 4:
		wave := time.Duration(s.cfg.SlotMinutes) * time.Minute
		if t := now.Truncate(wave).Add(wave + jitter); t.After(now) {
			return t
		}
	case 5:
		if len(s.admits) > 0 {
			a := s.admits[rapid.IntRange(0, len(s.admits)-1).Draw(rt, "phase_of")]
			whole := now.Sub(a.At).Truncate(time.Minute)
			if t := a.At.Add(whole + time.Minute + jitter); t.After(now) {
				return t
			}
		}
	case 6:
		// The start or end of a capacity cut still to come.
		var ends []time.Time
		for _, id := range slices.Sorted(maps.Keys(s.cuts)) {
			for _, t := range []time.Time{s.cuts[id].From, s.cuts[id].Until, s.cuts[id].Lifted} {
				if t.Add(jitter).After(now) {
					ends = append(ends, t.Add(jitter))
				}
			}
		}
		if len(ends) > 0 {
			return rapid.SampledFrom(ends).Draw(rt, "cut_end")
		}
	}
	return now.Add(time.Millisecond)
}

// TestMeterMemoAnswersAsTheCheck: over random sequences of commands on a
// metered day — scans (many at the same instant, as in one turn of the
// engine), counter readings, ticks, closures and reopenings, capacity
// cuts, turns reverted — and of steps in time with nothing else changed
// (small and large, across whole minutes, waves and the instants the
// admissions move on in the projection), the metering check, with its
// kept verdicts and its cheaper parts, gives every group exactly the
// answer the straightforward check (meterCheckRef) gives on the same
// state at the same time. A kept verdict outliving a change it depends on,
// or an instant it depends on, fails it.
func TestMeterMemoAnswersAsTheCheck(t *testing.T) {
	// Two sites: on one, the hold thresholds bind first (the forecast's
	// mean, whose minutes follow each admission's instant); on the
	// other, thresholds at capacity leave the spread of the stays to
	// bind (its projection is made for now's whole minute).
	cfgs := []*Config{
		petraWith(t, func(c *Config) {
			c.Policy.RequestWindow = nil
			for i := range c.Zones {
				z := &c.Zones[i]
				z.HoldAt = max(z.Capacity*12/100, 1)
				z.ReleaseAt = z.HoldAt / 2
			}
		}),
		petraWith(t, func(c *Config) {
			c.Policy.RequestWindow = nil
			for i := range c.Zones {
				z := &c.Zones[i]
				z.Capacity = max(z.Capacity*15/100, 2)
				z.HoldAt = z.Capacity
				z.ReleaseAt = z.HoldAt / 2
			}
		}),
	}
	cfg := cfgs[0]
	var zoneIDs []string
	for _, zc := range cfg.Zones {
		zoneIDs = append(zoneIDs, zc.ID)
	}
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, cfg.Location())
	routes := []string{"main", "monastery", "high-place", "back-trail"}
	rapid.Check(t, func(rt *rapid.T) {
		cfg := rapid.SampledFrom(cfgs).Draw(rt, "site")
		s := New(cfg)
		recs := newRecords()
		var ids []string
		for i := range rapid.IntRange(4, 30).Draw(rt, "groups") {
			route := rapid.SampledFrom(routes).Draw(rt, "route")
			size := rapid.IntRange(1, 60).Draw(rt, "size")
			if route == "back-trail" {
				size = min(size, 30)
			}
			from := hm(7, 0) + 15*rapid.IntRange(0, 6).Draw(rt, "from")
			id := fmt.Sprintf("g%02d", i)
			res, eff := s.Apply(day.Add(-24*time.Hour), Book{ID: id, Operator: WalkInOperator, Request: BookingRequest{
				Date: "2026-12-01", Route: route, PartySize: size, Window: Window{From: from, To: from + 90}}})
			if res.Err == nil {
				recs.apply(eff)
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			rt.Skip("nothing booked")
		}
		now := day.Add(7*time.Hour + 30*time.Minute)
		seq := map[string]uint64{}
		in, out := map[string]int64{}, map[string]int64{}
		scanID, cuts, closures := 0, 0, 0
		check := func(step string) {
			for _, id := range ids {
				b := s.bookings.at(id)
				if b.Admitted > 0 || !b.Active() {
					continue
				}
				r, ok := s.cfg.Route(b.Route)
				if !ok {
					continue
				}
				n := b.PartySize
				gm, gok := s.meterCheck(now, b, r, n)
				wm, wok := meterCheckRef(s, now, b, r, n)
				if gok != wok || !reflect.DeepEqual(gm, wm) {
					rt.Fatalf("after %s at %s, %s: check gives %v %+v, the straightforward check %v %+v", step, now.Format("15:04:05"), id, gok, gm, wok, wm)
				}
			}
		}
		// command draws one command at now.
		command := func() (string, Command) {
			switch rapid.IntRange(0, 9).Draw(rt, "command") {
			case 0, 1, 2, 3:
				b := s.bookings.at(rapid.SampledFrom(ids).Draw(rt, "scanned"))
				c := Scan{Gate: b.Gate, Ticket: Ticket{Booking: b.ID}, Count: rapid.IntRange(1, max(b.PartySize, 1)).Draw(rt, "count"), Device: "d"}
				if rapid.Bool().Draw(rt, "scan_id") {
					scanID++
					c.ScanID = fmt.Sprint(scanID)
				}
				return "a scan", c
			case 4, 5:
				sc := rapid.SampledFrom(cfg.Sensors).Draw(rt, "sensor")
				seq[sc.ID]++
				in[sc.ID] += rapid.Int64Range(0, 80).Draw(rt, "in")
				out[sc.ID] = min(out[sc.ID]+rapid.Int64Range(0, 60).Draw(rt, "out"), in[sc.ID])
				return "a counter reading", CounterReading{Sensor: sc.ID, Zone: sc.Zone, Boot: "b1", Seq: seq[sc.ID], In: in[sc.ID], Out: out[sc.ID], At: now}
			case 6:
				return "a tick", Tick{}
			case 7:
				if closures > 0 && rapid.Bool().Draw(rt, "reopen") {
					return "a reopening", Reopen{ID: fmt.Sprintf("c%d", rapid.IntRange(1, closures).Draw(rt, "reopened"))}
				}
				closures++
				return "a closure", Close{ID: fmt.Sprintf("c%d", closures), Zones: []string{rapid.SampledFrom(zoneIDs).Draw(rt, "closed")}, Reason: "test",
					Until: now.Add(time.Duration(rapid.IntRange(10, 120).Draw(rt, "closed_for")) * time.Minute)}
			case 8:
				if cuts > 0 && rapid.Bool().Draw(rt, "lift") {
					return "a lifted cut", LiftCut{ID: fmt.Sprintf("k%d", rapid.IntRange(1, cuts).Draw(rt, "lifted"))}
				}
				cuts++
				z := rapid.SampledFrom(cfg.Zones).Draw(rt, "cut_zone")
				return "a capacity cut", CutCapacity{ID: fmt.Sprintf("k%d", cuts), Zone: z.ID, Capacity: rapid.IntRange(1, z.Capacity).Draw(rt, "cut_to"),
					From: now, Until: now.Add(time.Duration(rapid.IntRange(10, 240).Draw(rt, "cut_for")) * time.Minute), Reason: "test"}
			default:
				return "a scan of a held group", nil
			}
		}
		for range rapid.IntRange(1, 60).Draw(rt, "steps") {
			switch rapid.IntRange(0, 5).Draw(rt, "step") {
			case 0:
				// Time moves on, and the groups are checked again with
				// nothing else changed: a kept verdict given past an
				// instant at which the check would change fails here.
				now = timeStep(rt, s, now)
				check("time moving on")
			case 1:
				// A turn whose write fails: its commands are applied,
				// the groups checked, then all of it reverted.
				var turn [][]Effect
				for range rapid.IntRange(1, 3).Draw(rt, "reverted_commands") {
					if _, c := command(); c != nil {
						_, eff := s.Apply(now, c)
						turn = append(turn, eff)
					}
				}
				check("a command of a failing turn")
				for i := len(turn) - 1; i >= 0; i-- {
					s.Revert(turn[i], recs.snapshot(), nil)
				}
				check("a reverted turn")
			default:
				what, c := command()
				if c == nil {
					// Each group not yet in scanned again.
					for _, id := range ids {
						if b := s.bookings.at(id); b.Admitted == 0 && b.Active() {
							_, eff := s.Apply(now, Scan{Gate: b.Gate, Ticket: Ticket{Booking: id}, Count: 1, Device: "d"})
							recs.apply(eff)
						}
					}
				} else {
					_, eff := s.Apply(now, c)
					recs.apply(eff)
				}
				check(what)
			}
		}
	})
}
