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
	loss := func(f float64) float64 {
		fm := map[string]float64{}
		for _, zc := range s.cfg.Zones {
			fm[zc.ID] = f
		}
		spans := map[string][]spreadStop{}
		model := make([][]float64, len(sd.hist))
		for k := range model {
			model[k] = make([]float64, len(s.cfg.Zones))
		}
		for _, a := range s.admits {
			sp, ok := spans[a.Route]
			if !ok {
				r, found := s.cfg.Route(a.Route)
				if !found {
					continue
				}
				sp = spreadSpans(r, fm)
				spans[a.Route] = sp
			}
			if len(sp) == 0 {
				continue
			}
			_, end := sp[len(sp)-1].window()
			for k, h := range sd.hist {
				el := h.at.Sub(a.At).Minutes()
				if el < 0 || el >= end {
					continue
				}
				for _, st := range sp {
					lo, hi := st.window()
					if el < lo || el >= hi {
						continue
					}
					if touches(cl[st.Zone], a.At.Add(minutes(lo)), a.At.Add(minutes(hi))) {
						if el >= st.Arrive && el < st.Leave {
							in, out := a.At.Add(minutes(st.Arrive)), a.At.Add(minutes(st.Leave))
							model[k][zi[st.Zone]] += float64(a.N) * presence(cl[st.Zone], in, out, st.Stay, h.at)
						}
						continue
					}
					model[k][zi[st.Zone]] += float64(a.N) * st.at(el)
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
	// A loss that does not depend on f (everyone still at their first
	// stop) says nothing.
	if lo, hi := loss(dwellMin), loss(dwellMax); math.Abs(hi-lo) < 0.05*people && !sd.ok {
		return
	}
	sd.factor, sd.ok, sd.at = best, true, now
}
