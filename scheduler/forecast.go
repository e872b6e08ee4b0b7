package scheduler

import (
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// Forecast and metering
//
// Every zone's occupancy is forecast minute by minute from what is known
// now (projection): the admitted visitors moved along their routes by the
// zone model (zonemodel.go, with the learned dwell), plus the gap between
// the best estimate and the model now, fading over the zone's mean stay
// (visitors the model does not explain leave as others do). The published
// forecast (Forecast, ForecastMinutes ahead) adds the groups still to come:
// each booking not yet (wholly) admitted and still admissible, entering at
// its slot or now, whichever is later (or at the time it was told to come
// back, if metered).
//
// Metering: before a group's first admission, its whole party is put on
// its route as if admitted now; if that takes any zone on the route over
// its hold threshold at the minute the group would be there, it is not
// admitted now but told to come back at the first minute (within
// meterMaxDelay) at which it would not, and it keeps its right to enter
// past its late grace. With no such minute it is moved to the next wave
// with room, as a held group is. The check counts only visitors already
// admitted, so a group is never kept out for one that may not come (a
// version that kept each held group's place at the time it was told to
// come back cut the visitors admitted by a third in the simulator:
// docs/closed-loop.md); and
// as every admission passes it, no admission the forecast allows takes a
// zone over its hold threshold while visitors move as the model says
// (TestForecastAdmissionsNeverOverCapacity).

// ForecastMinutes is how far the published forecast reaches.
const ForecastMinutes = 60

// meterMaxDelay is the longest a group is told to wait, in minutes.
const meterMaxDelay = 180

// ZoneForecast is one zone's forecast occupancy.
type ZoneForecast struct {
	Zone     string `json:"zone"`
	Capacity int    `json:"capacity"`
	HoldAt   int    `json:"hold_at"`
	// Visitors[k] is the occupancy forecast k minutes from now, k = 0 to
	// ForecastMinutes.
	Visitors []int `json:"visitors"`
	// Peak is the largest of Visitors, first reached at PeakAt.
	Peak   int       `json:"peak"`
	PeakAt time.Time `json:"peak_at"`
}

// MeteredGroup is a group held back at its gate by the forecast, and why.
type MeteredGroup struct {
	Booking  string    `json:"booking"`
	Operator string    `json:"operator"`
	Gate     string    `json:"gate"`
	Slot     time.Time `json:"slot"`
	Visitors int       `json:"visitors"`
	// Zone is the zone the group would have taken over its hold
	// threshold (HoldAt) at ZoneAt, where Forecast visitors were
	// forecast without it.
	Zone     string    `json:"zone"`
	ZoneAt   time.Time `json:"zone_at"`
	Forecast int       `json:"forecast"`
	HoldAt   int       `json:"hold_at"`
	// RetryAt is when it was told to come back; Since when it was first
	// held.
	RetryAt time.Time `json:"retry_at"`
	Since   time.Time `json:"since"`
}

// Forecast is the forecast of every zone and the groups held back.
type Forecast struct {
	At      time.Time      `json:"at"`
	Minutes int            `json:"minutes"`
	Zones   []ZoneForecast `json:"zones"`
	Held    []MeteredGroup `json:"held"`
}

// holdThreshold is a zone's hold threshold in force (scaled down with its
// capacity while a capacity cut is in force).
func (s *State) holdThreshold(zc Zone, now time.Time) int {
	c := s.zoneCapacity(zc, now)
	if c >= zc.Capacity || zc.Capacity <= 0 {
		return zc.HoldAt
	}
	return zc.HoldAt * c / zc.Capacity
}

// meanStay is the zone's mean stay in minutes under the learned dwell.
func (s *State) meanStay(now time.Time, zone string) float64 {
	var m float64
	for _, w := range s.zoneStays(zone, now.Add(-3*time.Hour), now) {
		m += w.Stay * w.Weight
	}
	if f, ok := s.dwellFactors()[zone]; ok {
		m *= f
	}
	return max(m, 5)
}

// projection forecasts every zone's occupancy (with zones, only those
// zones') for minutes 0 to h-1 from now; with expected, the groups still
// to come are added. The forecasts are in a buffer of the state's that
// the next call reuses: read them before calling it again.
func (s *State) projection(now time.Time, h int, expected bool, zones ...string) map[string][]float64 {
	return s.project(now, h, expected, zones, nil)
}

// project is projection; with stays, each forecast zone's mean stay
// (meanStay) is noted in it when the projection works it out (for a zone
// with counted traffic, h > 0), for the metering check to share.
func (s *State) project(now time.Time, h int, expected bool, zones []string, stays map[string]float64) map[string][]float64 {
	f := s.dwellFactors()
	// The zones forecast, in the configuration's order, and one buffer
	// for their difference arrays and forecasts (the metering check
	// needs only its route's zones; its cost was the largest part of a
	// gate scan's in the owner loop).
	var ids []string
	for _, zc := range s.cfg.Zones {
		if zones == nil || slices.Contains(zones, zc.ID) {
			ids = append(ids, zc.ID)
		}
	}
	n := len(ids) * (2*h + 1)
	if cap(s.projBuf) < n {
		s.projBuf = make([]float64, n)
	}
	buf := s.projBuf[:n]
	diff := make(map[string][]float64, len(ids))
	out := make(map[string][]float64, len(ids))
	for i, id := range ids {
		b := buf[i*(2*h+1):]
		diff[id], out[id] = b[:h+1:h+1], b[h+1:2*h+1:2*h+1]
		clear(diff[id]) // the forecasts are written whole below
	}
	// A route's stops under the dwell factors, each with its zone's
	// difference array (nil: not forecast) and closures, looked up once
	// per route rather than once per admission and stop.
	type track struct {
		sp  []stopSpan
		d   [][]float64
		cl  [][]closedSpan
		end float64 // the last stop's Leave
	}
	tracks := map[string]*track{}
	cl := s.closedSpans()
	exact := map[string][]float64{} // stops closures touch, minute by minute
	place := func(route string, n int, el float64) {
		t, ok := tracks[route]
		if !ok {
			if r, found := s.cfg.Route(route); found {
				t = &track{sp: routeSpans(r, f)}
				for _, st := range t.sp {
					t.d = append(t.d, diff[st.Zone])
					t.cl = append(t.cl, cl[st.Zone])
					t.end = max(t.end, st.Leave)
				}
			}
			tracks[route] = t
		}
		if t == nil || math.Ceil(t.end-el) <= 0 {
			return // no such route, or the group has left it
		}
		for i, st := range t.sp {
			d := t.d[i]
			if d == nil {
				continue
			}
			k0 := max(int(math.Ceil(st.Arrive-el)), 0)
			k1 := min(int(math.Ceil(st.Leave-el)), h)
			if k0 >= k1 {
				continue
			}
			if c := t.cl[i]; len(c) > 0 {
				at := now.Add(-minutes(el))
				in, out := at.Add(minutes(st.Arrive)), at.Add(minutes(st.Leave))
				if touches(c, in, out) {
					v := exact[st.Zone]
					if v == nil {
						v = make([]float64, h)
						exact[st.Zone] = v
					}
					for k := k0; k < k1; k++ {
						v[k] += float64(n) * presence(c, in, out, st.Stay, now.Add(time.Duration(k)*time.Minute))
					}
					continue
				}
			}
			d[k0] += float64(n)
			d[k1] -= float64(n)
		}
	}
	for _, a := range s.admits {
		place(a.Route, a.N, now.Sub(a.At).Minutes())
	}
	for _, id := range ids {
		d, v := diff[id], out[id]
		acc := 0.0
		for k := range h {
			acc += d[k]
			v[k] = acc
		}
		if e := exact[id]; e != nil {
			for k := range h {
				v[k] += e[k]
			}
			clear(e)
		}
	}
	// The gap between the estimate and the model now fades over the
	// zone's mean stay.
	for _, id := range ids {
		v := out[id]
		if h == 0 || s.traffic(id) == 0 {
			continue
		}
		gap := float64(s.Live(id)) - v[0]
		w := s.meanStay(now, id)
		if stays != nil {
			stays[id] = w
		}
		for k := range h {
			v[k] = max(v[k]+fadedGap(gap, w, k), 0)
		}
	}
	for _, id := range ids {
		clear(diff[id])
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
	for _, id := range ids {
		d, v := diff[id], out[id]
		acc := 0.0
		for k := range h {
			acc += d[k]
			v[k] += acc
		}
		if e := exact[id]; e != nil {
			for k := range h {
				v[k] += e[k]
			}
		}
	}
	return out
}

// Forecast is every zone's forecast occupancy for the next
// ForecastMinutes, minute by minute, and the groups held back by it.
func (s *State) Forecast(now time.Time) Forecast {
	p := s.projection(now, ForecastMinutes+1, true)
	out := Forecast{At: now, Minutes: ForecastMinutes, Zones: []ZoneForecast{}, Held: []MeteredGroup{}}
	for _, zc := range s.cfg.Zones {
		zf := ZoneForecast{Zone: zc.ID, Capacity: s.zoneCapacity(zc, now), HoldAt: s.holdThreshold(zc, now), PeakAt: now}
		for k, v := range p[zc.ID] {
			n := int(math.Round(v))
			zf.Visitors = append(zf.Visitors, n)
			if n > zf.Peak {
				zf.Peak, zf.PeakAt = n, now.Add(time.Duration(k)*time.Minute)
			}
		}
		out.Zones = append(out.Zones, zf)
	}
	out.Held = s.HeldBack()
	return out
}

// HeldBack is the groups the forecast holds back at the gate, by the
// time they may come back (never nil).
func (s *State) HeldBack() []MeteredGroup {
	out := make([]MeteredGroup, 0, len(s.meters))
	for _, id := range slices.Sorted(maps.Keys(s.meters)) {
		out = append(out, *s.meters[id])
	}
	slices.SortStableFunc(out, func(a, b MeteredGroup) int { return a.RetryAt.Compare(b.RetryAt) })
	return out
}

// zonesOf are the zones of stops sp.
func zonesOf(sp []stopSpan) []string {
	out := make([]string, 0, len(sp))
	for _, st := range sp {
		if !slices.Contains(out, st.Zone) {
			out = append(out, st.Zone)
		}
	}
	return out
}

// meterVerdict decides whether n visitors of booking b may start route r
// now. If not, it returns false with the record of why and the time to
// come back (zero if no time within meterMaxDelay will do). meterCheck
// (forecast_memo.go) is the one to call.
func (s *State) meterVerdict(now time.Time, b *Booking, r *Route, n int) (MeteredGroup, bool) {
	sp := routeSpans(r, s.dwellFactors())
	if len(sp) == 0 {
		return MeteredGroup{}, true
	}
	ssp := spreadOf(sp)
	h := int(math.Ceil(sp[len(sp)-1].Leave)) + meterMaxDelay + 2
	// The route's zones only, each zone's mean stay worked out once for
	// the projection and the spread's gap (whose zone model is still the
	// whole site's: spreadGap).
	zs := zonesOf(sp)
	fade := make(map[string]float64, len(zs))
	p := s.project(now, h, false, zs, fade)
	sc := s.spreadProjection(now)
	gap := s.spreadGap(now, fade)
	thr, capy := make(map[string]float64, len(zs)), make(map[string]float64, len(zs))
	for _, zc := range s.cfg.Zones {
		if slices.Contains(zs, zc.ID) {
			thr[zc.ID] = float64(s.holdThreshold(zc, now))
			capy[zc.ID] = float64(s.zoneCapacity(zc, now))
		}
	}
	m := s.meterRecord(now, b, n)
	var spread *spreadRoute
	spread, s.memo.spreadBuf = newSpreadRoute(ssp, sc, gap, fade, capy, n, s.memo.spreadBuf)
	// over[z][k] counts the minutes before k at which n more visitors
	// would take zone z over its threshold: a stop [a, l) is clear if
	// over[z][l] == over[z][a].
	over := make(map[string][]int32, len(zs))
	if need := len(zs) * (h + 1); cap(s.memo.overBuf) < need {
		s.memo.overBuf = make([]int32, need)
	}
	free := s.memo.overBuf
	for _, st := range sp {
		if _, ok := over[st.Zone]; ok {
			continue
		}
		v, t := p[st.Zone], thr[st.Zone]
		c := free[: len(v)+1 : len(v)+1]
		free = free[len(v)+1:]
		c[0] = 0
		for k, x := range v {
			c[k+1] = c[k]
			if x+float64(n) > t {
				c[k+1]++
			}
		}
		over[st.Zone] = c
	}
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
				v := p[st.Zone]
				m.Zone, m.ZoneAt, m.Forecast, m.HoldAt = st.Zone, now.Add(time.Duration(k)*time.Minute), int(math.Round(v[k])), int(thr[st.Zone])
			}
			break
		}
		if ok {
			// The stays' spread (forecast_spread.go).
			if z, k, fits := spread.check(d); !fits {
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

// pruneMeters forgets the groups held back that were admitted, cancelled,
// or did not come back within their late grace after the time given,
// with the effects that delete their records.
func (s *State) pruneMeters(now time.Time) []Effect {
	late := time.Duration(s.cfg.Policy.LateGraceMinutes) * time.Minute
	var effects []Effect
	for _, id := range slices.Sorted(maps.Keys(s.meters)) {
		m := s.meters[id]
		b, ok := s.bookings.peek(id)
		if !ok || !b.Active() || b.Admitted > 0 || now.Sub(m.RetryAt) > late {
			effects = append(effects, s.unmeter(id)...)
		}
	}
	return effects
}
