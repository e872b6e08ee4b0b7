package scheduler

import (
	"maps"
	"math"
	"slices"
	"sort"
	"time"
)

// Learning the dwell times
//
// How long visitors really stay in a zone is learned from its counters:
// the counted inflow, each visitor staying f × a configured stay (the
// configured stays of the zone's stops, weighted by the visitors the model
// sends to each), must explain the counted outflow. The factor f is the
// one, on a grid from dwellMin to dwellMax in steps of dwellStep, that
// minimises the sum of absolute differences between counted and explained
// outflow over 5-minute bins of the last dwellWindow (a least-absolute-
// deviations fit: one absurd or forged reading moves one bin, never the
// fit). Only counter increments are used, so a step in a counter's totals
// moves nothing after its bin. A fit needs dwellMinOut people counted
// out in the window and a series that started with the zone empty (or
// long enough ago that those inside at its start have left).
//
// The factor is refit every dwellEvery of the service's clock; each hour
// of the day keeps its last fit (by time of day). The forecast and the
// zone model use the latest fit; ops compare it with the configured
// figure (ZoneDwell) and may adopt it into the configuration (AdoptDwell).
// The series are derived, not persisted: after a restart they start again.

const (
	dwellMin    = 0.5
	dwellMax    = 2.5
	dwellStep   = 0.01
	dwellBin    = 5 // minutes
	dwellWindow = 60
	dwellMinOut = 50
	dwellEvery  = 5 * time.Minute
	// dwellSpread is the share by which a visitor's stay varies either
	// side of its mean in the explained outflow.
	dwellSpread = 0.15
)

// zoneFlow is a zone's cumulative counted inflow and outflow at the end
// of each minute since the series started.
type zoneFlow struct {
	day      string
	start    time.Time // the series' minute 0
	startNet int64     // counted occupancy when it started
	in, out  []int64
}

// recordFlow notes the zone's cumulative totals after a reading applied
// at now.
func (s *State) recordFlow(now time.Time, zone string, prevNet int64) {
	var in, out int64
	for _, st := range s.sensors {
		if st.Zone == zone {
			in += st.BaseIn + st.In
			out += st.BaseOut + st.Out
		}
	}
	date := s.today(now).Format(time.DateOnly)
	fl := s.flows[zone]
	if fl == nil || fl.day != date || now.Before(fl.start) {
		fl = &zoneFlow{day: date, start: now.Truncate(time.Minute), startNet: max(prevNet, 0)}
		s.flows[zone] = fl
	}
	m := int(now.Sub(fl.start) / time.Minute)
	if m >= dayMinutes {
		return
	}
	for len(fl.in) < m {
		if len(fl.in) == 0 {
			fl.in, fl.out = append(fl.in, in), append(fl.out, out)
			continue
		}
		fl.in, fl.out = append(fl.in, fl.in[len(fl.in)-1]), append(fl.out, fl.out[len(fl.out)-1])
	}
	if len(fl.in) == m {
		fl.in, fl.out = append(fl.in, in), append(fl.out, out)
		return
	}
	fl.in[m], fl.out[m] = in, out
}

// weightedStay is a configured stay and the share of a zone's visitors
// that stay it.
type weightedStay struct {
	Stay   float64
	Weight float64
}

// fitDwell finds the dwell factor that best explains outflow by inflow
// (cumulative counts per minute, from minute 0 of the series) over the
// bins in [from, to) minutes, the zone's visitors staying stays. ok is
// false without enough outflow to judge.
func fitDwell(in, out []float64, stays []weightedStay, from, to int) (factor float64, ok bool) {
	if len(stays) == 0 || to > len(in) || from < 0 || to-from < dwellBin {
		return 1, false
	}
	if out[to-1]-out[from] < dwellMinOut {
		return 1, false
	}
	// cum is the cumulative inflow at minute t (interpolated), 0 before
	// the series.
	cum := func(t float64) float64 {
		if t <= 0 {
			return in[0] - in[0]
		}
		i := int(t)
		if i >= len(in)-1 {
			return in[len(in)-1] - in[0]
		}
		fr := t - float64(i)
		return in[i]*(1-fr) + in[i+1]*fr - in[0]
	}
	// explained is the cumulative outflow at t with factor f: each stay
	// spread evenly over ±dwellSpread (three points).
	explained := func(t, f float64) float64 {
		var v float64
		for _, w := range stays {
			d := f * w.Stay
			v += w.Weight * (cum(t-d*(1-dwellSpread)) + cum(t-d) + cum(t-d*(1+dwellSpread))) / 3
		}
		return v
	}
	best, bestLoss := 1.0, math.Inf(1)
	for k := 0; ; k++ {
		f := dwellMin + float64(k)*dwellStep
		if f > dwellMax+1e-9 {
			break
		}
		var loss float64
		for b := from; b+dwellBin <= to; b += dwellBin {
			obs := out[b+dwellBin-1] - out[max(b-1, 0)]
			exp := explained(float64(b+dwellBin-1), f) - explained(float64(max(b-1, 0)), f)
			loss += math.Abs(obs - exp)
		}
		// Ties go to the factor nearest 1: no evidence, no change.
		if loss < bestLoss-1e-9 || (math.Abs(loss-bestLoss) <= 1e-9 && math.Abs(f-1) < math.Abs(best-1)) {
			best, bestLoss = f, loss
		}
	}
	return best, true
}

// ZoneDwell is what is known of how long visitors stay in a zone.
type ZoneDwell struct {
	Zone string `json:"zone"`
	// ConfiguredMinutes is the mean configured stay of the zone's
	// visitors (the stays of its routes' stops, weighted by the visitors
	// the model sends to each).
	ConfiguredMinutes float64 `json:"configured_minutes"`
	// Factor is the learned stay over the configured one: the zone's own
	// fit once Learned, before that the site's (the median of the zones
	// learned, FromSite), else 1. The zone model uses ModelFactor.
	// LearnedMinutes is ConfiguredMinutes × Factor, set once learned.
	Factor         float64 `json:"factor"`
	Learned        bool    `json:"learned"`
	FromSite       bool    `json:"from_site,omitempty"`
	LearnedMinutes float64 `json:"learned_minutes,omitempty"`
	// ModelFactor is the factor the zone model and the forecast use: the
	// site's, fitted so that the admitted visitors placed on their routes
	// are where the counters see them (dwell_fit.go), once there is one;
	// until then Factor (or 1 when nothing is learned).
	ModelFactor float64 `json:"model_factor"`
	// At is the time of the last fit.
	At time.Time `json:"at,omitzero"`
	// Hours is the last fit of each hour of the day (site time), by time
	// of day.
	Hours []HourDwell `json:"hours,omitempty"`
}

// HourDwell is the dwell factor fitted last in one hour of the day.
type HourDwell struct {
	Hour   int     `json:"hour"`
	Factor float64 `json:"factor"`
}

type dwellState struct {
	factor float64
	at     time.Time
	hours  map[int]float64
}

// dwellFactors are the factors the zone model uses: once the site's
// factor is fitted to the whole picture (dwell_fit.go), that one in every
// zone; before, each zone's learned factor, and for a zone not learned yet
// the site's (sitePrior).
func (s *State) dwellFactors() map[string]float64 {
	out := map[string]float64{}
	if s.siteFit.ok {
		for _, zc := range s.cfg.Zones {
			out[zc.ID] = s.siteFit.factor
		}
		return out
	}
	prior, ok := s.sitePrior()
	for _, zc := range s.cfg.Zones {
		if d := s.dwell[zc.ID]; d != nil {
			out[zc.ID] = d.factor
		} else if ok {
			out[zc.ID] = prior
		}
	}
	return out
}

// sitePrior is the median of the factors learned so far, once at least
// minPriorZones zones are learned. Visitors who linger in the zones
// learned first (the short stays near the gate) tend to linger further
// in (heat, crowding, a slow day): until a zone with long stays has seen
// its first visitors leave, which for the Monastery or the High Place
// takes three hours or more, the site's figure is a better guess than
// the configured one. A zone's own fit replaces it as soon as there is one.
func (s *State) sitePrior() (float64, bool) {
	var fs []float64
	for _, zc := range s.cfg.Zones {
		if d := s.dwell[zc.ID]; d != nil {
			fs = append(fs, d.factor)
		}
	}
	if len(fs) < minPriorZones {
		return 1, false
	}
	slices.Sort(fs)
	if len(fs)%2 == 1 {
		return fs[len(fs)/2], true
	}
	return (fs[len(fs)/2-1] + fs[len(fs)/2]) / 2, true
}

// minPriorZones is how many zones must be learned before the others
// borrow the site's factor.
const minPriorZones = 2

// zoneStays are the configured stays of zone's stops, weighted by the
// admitted visitors the model brings to each between from and to (every
// stop alike when it brings none).
func (s *State) zoneStays(zone string, from, to time.Time) []weightedStay {
	w := map[int]float64{}
	for _, a := range s.admits {
		r, ok := s.cfg.Route(a.Route)
		if !ok {
			continue
		}
		for _, st := range r.Stops {
			at := a.At.Add(time.Duration(st.Arrive) * time.Minute)
			if st.Zone == zone && !at.Before(from) && !at.After(to) {
				w[st.Stay] += float64(a.N)
			}
		}
	}
	if len(w) == 0 {
		for _, r := range s.cfg.Routes {
			for _, st := range r.Stops {
				if st.Zone == zone {
					w[st.Stay]++
				}
			}
		}
	}
	var total float64
	for _, v := range w {
		total += v
	}
	var out []weightedStay
	for _, stay := range slices.Sorted(maps.Keys(w)) {
		out = append(out, weightedStay{Stay: float64(stay), Weight: w[stay] / total})
	}
	return out
}

// longestStay is the longest configured stay of a stop in zone.
func (s *State) longestStay(zone string) int {
	m := 0
	for _, r := range s.cfg.Routes {
		for _, st := range r.Stops {
			if st.Zone == zone {
				m = max(m, st.Stay)
			}
		}
	}
	return m
}

// learnDwell refits every zone's dwell factor from its counted flows.
func (s *State) learnDwell(now time.Time) {
	if !s.lastLearn.IsZero() && now.Sub(s.lastLearn) < dwellEvery {
		return
	}
	s.lastLearn = now
	for _, zc := range s.cfg.Zones {
		fl := s.flows[zc.ID]
		if fl == nil || len(fl.in) < dwellBin*2 {
			continue
		}
		n := min(int(now.Sub(fl.start)/time.Minute)+1, dayMinutes)
		in, out := make([]float64, n), make([]float64, n)
		for i := range n {
			j := min(i, len(fl.in)-1)
			in[i], out[i] = float64(fl.in[j]), float64(fl.out[j])
		}
		from := max(0, n-dwellWindow)
		// The visitors leaving in the window came in up to the longest
		// stay at the longest dwell before it.
		longest := float64(s.longestStay(zc.ID))
		reach := time.Duration(longest*dwellMax*(1+dwellSpread)) * time.Minute
		stays := s.zoneStays(zc.ID, fl.start.Add(time.Duration(from)*time.Minute).Add(-reach), now)
		if float64(fl.startNet) > max(10, 0.02*float64(zc.Capacity)) {
			// Visitors were inside when the series began: wait until
			// they have surely left.
			from = max(from, int(math.Ceil(longest*dwellMax*(1+dwellSpread))))
		}
		from -= from % dwellBin
		to := from + (n-from)/dwellBin*dwellBin
		f, ok := fitDwell(in, out, stays, from, to)
		if !ok {
			continue
		}
		d := s.dwell[zc.ID]
		if d == nil {
			d = &dwellState{hours: map[int]float64{}}
			s.dwell[zc.ID] = d
		}
		d.factor, d.at = f, now
		d.hours[now.In(s.cfg.Location()).Hour()] = f
	}
	s.fitSiteDwell(now)
}

// Dwell is what is known of every zone's dwell, in configuration order.
func (s *State) Dwell(now time.Time) []ZoneDwell {
	var out []ZoneDwell
	used := s.dwellFactors()
	for _, zc := range s.cfg.Zones {
		zd := ZoneDwell{Zone: zc.ID, Factor: 1, ModelFactor: 1}
		if f, ok := used[zc.ID]; ok {
			zd.ModelFactor = f
		}
		for _, w := range s.zoneStays(zc.ID, now.Add(-3*time.Hour), now) {
			zd.ConfiguredMinutes += w.Stay * w.Weight
		}
		zd.ConfiguredMinutes = math.Round(zd.ConfiguredMinutes*10) / 10
		if prior, ok := s.sitePrior(); ok && s.dwell[zc.ID] == nil {
			zd.Factor, zd.FromSite = prior, true
		}
		if d := s.dwell[zc.ID]; d != nil {
			zd.Factor, zd.Learned, zd.At = d.factor, true, d.at
			zd.LearnedMinutes = math.Round(zd.ConfiguredMinutes*d.factor*10) / 10
			var hours []int
			for h := range d.hours {
				hours = append(hours, h)
			}
			sort.Ints(hours)
			for _, h := range hours {
				zd.Hours = append(zd.Hours, HourDwell{Hour: h, Factor: d.hours[h]})
			}
		}
		out = append(out, zd)
	}
	return out
}
