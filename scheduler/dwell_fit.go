package scheduler

import (
	"math"
	"time"
)

// Fitting the dwell to the whole picture
//
// Each zone's own fit (dwell.go) explains its counted outflow by its
// counted inflow; measured in the simulator (docs/closed-loop.md) it swings
// from 0.5 to 2.5 within an hour in the zones whose visitors mix short and
// long stays (the Siq in and out, the Colonnaded Street at rest or passing
// through), because the mix is known only as the configuration has it. The
// zone model and the forecast need something else: the dwell with which
// the admitted visitors, placed on their routes, are where the counters
// see them. So the factor the zone model uses is fitted to that directly:
// the one factor f, on a grid from dwellMin to dwellMax, that minimises
//
//	Σ over readings in the last dwellWindow, Σ over zones |model_f − live|
//
// (readings dwellBin minutes apart, live the best estimate of fusion.go,
// model_f the zone model with every stay f times the configured one,
// each visitor's presence spread as in forecast_spread.go).
// A least-absolute-deviations fit over every zone and reading: one absurd
// reading moves one term of the sum, never the fit. It is refit every
// dwellEvery with the zones' own fits. It needs siteFitMinPeople people in
// the readings and a loss that depends on f (visitors who have gone past
// their first stop); until then, and for the zones' own figures shown to
// ops, the zones' own fits stand (dwellFactors).

const (
	// siteFitMinPeople is the least sum of the readings' estimates over
	// the window for a fit.
	siteFitMinPeople = 500
	// siteFitCoarse is the grid step of the first pass; the second
	// refines around its best by dwellStep.
	siteFitCoarse = 0.05
)

// siteDwell is the factor fitted by matching the zone model to the
// estimates, and the recent estimates it is fitted to.
type siteDwell struct {
	factor float64
	ok     bool
	at     time.Time
	hist   []liveSample
}

// liveSample is every zone's best estimate at one tick (by configuration
// order; -1 for a zone whose counters have not reported).
type liveSample struct {
	at   time.Time
	live []float64
}

// recordLive keeps the zones' estimates at now for the fit.
func (s *State) recordLive(now time.Time) {
	sd := &s.siteFit
	if n := len(sd.hist); n > 0 && now.Sub(sd.hist[n-1].at) < time.Duration(dwellBin)*time.Minute {
		return
	}
	v := make([]float64, len(s.cfg.Zones))
	for i, zc := range s.cfg.Zones {
		v[i] = -1
		if s.traffic(zc.ID) > 0 {
			v[i] = float64(s.Live(zc.ID))
		}
	}
	sd.hist = append(sd.hist, liveSample{at: now, live: v})
	i := 0
	for i < len(sd.hist) && now.Sub(sd.hist[i].at) > time.Duration(dwellWindow)*time.Minute {
		i++
	}
	sd.hist = sd.hist[i:]
}

// fitSiteDwell refits the site's factor from the kept estimates.
func (s *State) fitSiteDwell(now time.Time) {
	sd := &s.siteFit
	var people float64
	for _, h := range sd.hist {
		for _, v := range h.live {
			people += max(v, 0)
		}
	}
	if len(sd.hist) < dwellWindow/dwellBin/2 || people < siteFitMinPeople {
		return
	}
	zi := map[string]int{}
	for i, zc := range s.cfg.Zones {
		zi[zc.ID] = i
	}
	cl := s.closedSpans()
	// Each route's stops at factor 1 (spreadSpans scales with f: arrival
	// and departure means are walks + f × stays, their spreads f × the
	// spreads at 1).
	type unitStop struct {
		zone             int
		walk, arr, leave float64 // walks before it; stays before it and through it, at factor 1
		sdArr, sdLeave   float64 // at factor 1
		stay             int
		closedNear       bool
		zoneID           string
	}
	routes := map[string][]unitStop{}
	one := map[string]float64{}
	for _, zc := range s.cfg.Zones {
		one[zc.ID] = 1
	}
	for i := range s.cfg.Routes {
		r := &s.cfg.Routes[i]
		var us []unitStop
		var stays float64
		for _, st := range spreadSpans(r, one) {
			us = append(us, unitStop{zone: zi[st.Zone], walk: st.Arrive - stays, arr: stays, leave: stays + (st.Leave - st.Arrive),
				sdArr: st.SdArr, sdLeave: st.SdLeave, stay: st.Stay, closedNear: len(cl[st.Zone]) > 0, zoneID: st.Zone})
			stays += st.Leave - st.Arrive
		}
		routes[r.ID] = us
	}
	// The admissions and the elapsed minutes at each reading.
	type placed struct {
		a  admitRec
		us []unitStop
		el []float64
	}
	var ps []placed
	for _, a := range s.admits {
		us, ok := routes[a.Route]
		if !ok || len(us) == 0 {
			continue
		}
		el := make([]float64, len(sd.hist))
		any := false
		for k, h := range sd.hist {
			el[k] = h.at.Sub(a.At).Minutes()
			any = any || el[k] >= 0
		}
		if any {
			ps = append(ps, placed{a, us, el})
		}
	}
	model := make([][]float64, len(sd.hist))
	for k := range model {
		model[k] = make([]float64, len(s.cfg.Zones))
	}
	loss := func(f float64) float64 {
		for k := range model {
			clear(model[k])
		}
		for _, p := range ps {
			last := p.us[len(p.us)-1]
			end := last.walk + f*last.leave + spreadTail*f*last.sdLeave
			n := float64(p.a.N)
			for k, el := range p.el {
				if el < 0 || el >= end {
					continue
				}
				for _, u := range p.us {
					arr, leave := u.walk+f*u.arr, u.walk+f*u.leave
					sa, sl := max(f*u.sdArr, 1), max(f*u.sdLeave, 1)
					lo, hi := arr-spreadTail*sa, leave+spreadTail*sl
					if el < lo || el >= hi {
						continue
					}
					if u.closedNear && touches(cl[u.zoneID], p.a.At.Add(minutes(lo)), p.a.At.Add(minutes(hi))) {
						if el >= arr && el < leave {
							in, out := p.a.At.Add(minutes(arr)), p.a.At.Add(minutes(leave))
							model[k][u.zone] += n * presence(cl[u.zoneID], in, out, u.stay, sd.hist[k].at)
						}
						continue
					}
					model[k][u.zone] += n * max(normCDF((el-arr)/sa)-normCDF((el-leave)/sl), 0)
				}
			}
		}
		var l float64
		for k, h := range sd.hist {
			for i, v := range h.live {
				if v >= 0 {
					l += math.Abs(model[k][i] - v)
				}
			}
		}
		return l
	}
	// A loss that does not depend on f (everyone still at their first
	// stop) says nothing: no first fit from it.
	if !sd.ok {
		if lo, hi := loss(dwellMin), loss(dwellMax); math.Abs(hi-lo) < 0.05*people {
			return
		}
	}
	prev := 1.0
	if sd.ok {
		prev = sd.factor
	}
	best, bestLoss := prev, loss(prev)
	try := func(f float64) {
		if f < dwellMin-1e-9 || f > dwellMax+1e-9 {
			return
		}
		// Ties go to the factor nearest the last one: no evidence, no
		// change.
		if l := loss(f); l < bestLoss-1e-9 {
			best, bestLoss = f, l
		}
	}
	for f := dwellMin; f <= dwellMax+1e-9; f += siteFitCoarse {
		try(math.Round(f*100) / 100)
	}
	c := best
	for k := -4; k <= 4; k++ {
		try(math.Round((c+float64(k)*dwellStep)*100) / 100)
	}
	sd.factor, sd.ok, sd.at = best, true, now
}
