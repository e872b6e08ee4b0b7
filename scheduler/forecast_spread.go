package scheduler

import (
	"maps"
	"math"
	"slices"
	"time"
)

// The spread of the stays in the admission check
//
// The zone model places each admitted group by the mean of its stays
// (zonemodel.go); real groups stay longer or shorter — the Siq takes 45 to
// 90 minutes to walk through [travel, docs/PETRA.md], a third either side
// of its middle — and a group arriving at the Treasury plaza two hours
// after the gate may be there half an hour before or after the mean. Held
// to the mean alone, metering packs the groups so that the mean picture
// just stays under the hold threshold, and the groups that happen to come
// early or stay long take the zone over its capacity: measured in the
// simulator, the true Treasury was 200 people above the zone model's
// figure at its peak with the dwell factor right (docs/closed-loop.md).
//
// So the check also treats each group's presence as uncertain: its arrival
// at a stop is the sum of the stays before it, each varying by up to
// stayShare either side (as a uniform draw: variance (stayShare·stay)²/3),
// taken as normal; its departure adds its own stay. A group of n is in
// the zone at elapsed minute t with probability p(t) = P(arrive ≤ t) −
// P(leave ≤ t); the zone's occupancy has mean Σ n·p and, groups moving
// independently and each as one, variance Σ n²·p·(1−p). A group is let in
// only if at every minute of its route the mean plus meterZ standard
// deviations stays within the zone's capacity (with the group itself
// placed the same way); the mean-model check against the hold threshold
// stays as it was (forecast.go).

const (
	// stayShare is how far either side of its mean a stay may be.
	stayShare = 1.0 / 3
	// meterZ is how many standard deviations of the occupancy must fit
	// under capacity.
	meterZ = 3.5
	// spreadTail is how many standard deviations of a group's arrival
	// and departure the check looks either side.
	spreadTail = 3.5
	// spreadMinShare is the least chance of a group being in a zone at a
	// minute for that minute to bind it: below it, a zone already at risk
	// without the group does not keep it out.
	spreadMinShare = 0.02
)

// spreadStop is one stop of a route with the spread of its arrival and
// departure, in minutes after entry.
type spreadStop struct {
	Zone           string
	Arrive, Leave  float64 // means
	SdArr, SdLeave float64
	Stay           int
}

// spreadSpans are the stops of route r with their spreads, under the dwell
// factors f.
func spreadSpans(r *Route, f map[string]float64) []spreadStop {
	return spreadOf(routeSpans(r, f))
}

// spreadOf gives the stops sp (routeSpans) their spreads.
func spreadOf(sp []stopSpan) []spreadStop {
	out := make([]spreadStop, len(sp))
	var v float64
	for i, st := range sp {
		d := (st.Leave - st.Arrive) * stayShare
		vl := v + d*d/3
		out[i] = spreadStop{Zone: st.Zone, Arrive: st.Arrive, Leave: st.Leave,
			SdArr: math.Sqrt(max(v, 1)), SdLeave: math.Sqrt(max(vl, 1)), Stay: st.Stay}
		v = vl
	}
	return out
}

// window is the first and last elapsed minute at which a group may be at
// the stop.
func (st spreadStop) window() (float64, float64) {
	return st.Arrive - spreadTail*st.SdArr, st.Leave + spreadTail*st.SdLeave
}

// at is the probability that a group is at the stop el minutes after its
// entry.
func (st spreadStop) at(el float64) float64 {
	return max(normCDF((el-st.Arrive)/st.SdArr)-normCDF((el-st.Leave)/st.SdLeave), 0)
}

// normCDF is the standard normal distribution function, from a table
// (linear between points 1/normStep apart; 0 and 1 beyond ±normMax).
func normCDF(x float64) float64 {
	switch {
	case x <= -normMax:
		return 0
	case x >= normMax:
		return 1
	}
	u := (x + normMax) * normStep
	i := int(u)
	fr := u - float64(i)
	return normTable[i]*(1-fr) + normTable[i+1]*fr
}

const (
	normMax  = 4.0
	normStep = 100.0
)

var normTable = func() []float64 {
	n := int(2*normMax*normStep) + 2
	t := make([]float64, n)
	for i := range t {
		t[i] = 0.5 * math.Erfc(-(float64(i)/normStep-normMax)/math.Sqrt2)
	}
	return t
}()

// spreadCache is the spread projection of the admitted visitors (without
// the gap to the estimate), kept for the minute it was made: an admission
// adds its group to it, anything else that changes it (the minute, the
// dwell factors, the closures, a rebuilt admission log) makes it again.
type spreadCache struct {
	at         time.Time // the minute its minute 0 is
	h          int
	gen        int // State.admitsGen when made
	n          int // admissions in it
	factors    map[string]float64
	closed     map[string][]closedSpan
	spans      map[string][]spreadStop
	mean, vari map[string][]float64
}

// spreadHorizon is how far the spread projection reaches: the longest
// route's last departure at the longest dwell, plus the longest wait.
func (s *State) spreadHorizon(f map[string]float64) int {
	h := 0
	for i := range s.cfg.Routes {
		sp := spreadSpans(&s.cfg.Routes[i], f)
		if len(sp) > 0 {
			_, hi := sp[len(sp)-1].window()
			h = max(h, int(math.Ceil(hi)))
		}
	}
	return h + meterMaxDelay + 2
}

// spreadProjection is every zone's occupancy, mean and variance, minute
// by minute from now's minute, of the visitors admitted (closures as the
// zone model has them, without spread); the gap to the estimate is added
// by spreadGap.
func (s *State) spreadProjection(now time.Time) *spreadCache {
	f := s.dwellFactors()
	cl := s.closedSpans()
	base := now.Truncate(time.Minute)
	c := s.spread
	if c == nil || !c.at.Equal(base) || c.gen != s.admitsGen || c.n > len(s.admits) ||
		!maps.Equal(c.factors, f) || !maps.EqualFunc(c.closed, cl, slices.Equal) {
		c = &spreadCache{at: base, gen: s.admitsGen, factors: f, closed: cl, spans: map[string][]spreadStop{},
			mean: map[string][]float64{}, vari: map[string][]float64{}}
		c.h = s.spreadHorizon(f)
		for _, zc := range s.cfg.Zones {
			c.mean[zc.ID], c.vari[zc.ID] = make([]float64, c.h), make([]float64, c.h)
		}
		s.spread = c
	}
	for ; c.n < len(s.admits); c.n++ {
		a := s.admits[c.n]
		sp, ok := c.spans[a.Route]
		if !ok {
			r, found := s.cfg.Route(a.Route)
			if !found {
				continue
			}
			sp = spreadSpans(r, f)
			c.spans[a.Route] = sp
		}
		el0 := base.Sub(a.At).Minutes()
		n := float64(a.N)
		for _, st := range sp {
			lo, hi := st.window()
			k0, k1 := max(int(math.Ceil(lo-el0)), 0), min(int(math.Ceil(hi-el0)), c.h)
			if k0 >= k1 {
				continue
			}
			mu, vr := c.mean[st.Zone], c.vari[st.Zone]
			if mu == nil {
				continue
			}
			if touches(cl[st.Zone], a.At.Add(minutes(lo)), a.At.Add(minutes(hi))) {
				in, out := a.At.Add(minutes(st.Arrive)), a.At.Add(minutes(st.Leave))
				for k := k0; k < k1; k++ {
					if el := el0 + float64(k); el >= st.Arrive && el < st.Leave {
						mu[k] += n * presence(cl[st.Zone], in, out, st.Stay, base.Add(time.Duration(k)*time.Minute))
					}
				}
				continue
			}
			for k := k0; k < k1; k++ {
				p := st.at(el0 + float64(k))
				mu[k] += n * p
				vr[k] += n * n * p * (1 - p)
			}
		}
	}
	return c
}

// spreadGap is, for each zone of fade (the zones with counted traffic on
// the route checked, with their mean stays: project), the gap between the
// estimate and the zone model now, which fades over that stay as in
// projection. The zone model (of the whole site: modelAt) is worked out
// only if a zone needs it; sharing it between the held groups checked at
// one instant was measured to gain nothing on the bench's scan rows.
func (s *State) spreadGap(now time.Time, fade map[string]float64) map[string]float64 {
	gap := make(map[string]float64, len(fade))
	if len(fade) == 0 {
		return gap
	}
	model := s.modelAt(now)
	for z := range fade {
		gap[z] = float64(s.Live(z) - model[z])
	}
	return gap
}

// spreadRoute is the spread check of one group on one route against the
// projection, prepared once for every delay the metering check tries: each
// stop's chance of the group being there at each minute of its window, and
// each zone's fading gap, each worked out once when first needed rather
// than once per delay (in a buffer reused from check to check).
type spreadRoute struct {
	stops []spreadStopCheck
	n     float64
}

// spreadStopCheck is one stop of a spreadRoute: the group is there j
// minutes after its entry with chance p[j-j0] (NaN: not worked out yet),
// for j0 <= j < j1.
type spreadStopCheck struct {
	st       spreadStop
	mu, vr   []float64
	j0, j1   int
	p        []float64
	capacity float64
	fade     *fadeTerms
}

// fadeTerms are a zone's gap to the estimate faded to each minute k,
// g·exp(−k/w) (v[k], NaN: not worked out yet), kept only for a zone with
// counted traffic: without, there is no gap (w is 0) and the term is 0 —
// not 0·exp(−0/0), a NaN that no comparison binds
// (TestSpreadCheckBindsAtMinuteZeroWithoutCounters).
type fadeTerms struct {
	g, w float64
	v    []float64
}

func (f *fadeTerms) at(k int) float64 {
	if f.v == nil {
		return fadedGap(f.g, f.w, k)
	}
	if math.IsNaN(f.v[k]) {
		f.v[k] = fadedGap(f.g, f.w, k)
	}
	return f.v[k]
}

// fadedGap is a gap g fading over w minutes, k minutes on: g·exp(−k/w),
// and 0 without a fading time (a zone with no counted traffic has no gap).
func fadedGap(g, w float64, k int) float64 {
	if w == 0 {
		return 0
	}
	return g * math.Exp(-float64(k)/w)
}

// newSpreadRoute prepares the spread check of n visitors on the stops sp
// against the projection c, with the gaps and their fading times (zones
// missing: none) and the zones' capacities; buf is reused for its
// figures (the buffer grown, if it had to be, is returned).
func newSpreadRoute(sp []spreadStop, c *spreadCache, gap, fade, capy map[string]float64, n int, buf []float64) (*spreadRoute, []float64) {
	r := &spreadRoute{n: float64(n)}
	terms := map[string]*fadeTerms{}
	need := 0
	for _, st := range sp {
		if mu := c.mean[st.Zone]; mu != nil {
			lo, hi := st.window()
			need += max(int(math.Ceil(hi))-int(math.Ceil(lo)), 0)
			if _, ok := terms[st.Zone]; !ok {
				terms[st.Zone] = nil
				if fade[st.Zone] != 0 {
					need += len(mu)
				}
			}
		}
	}
	if cap(buf) < need {
		buf = make([]float64, need)
	}
	free := buf[:need]
	take := func(n int) []float64 {
		v := free[:n:n]
		free = free[n:]
		for i := range v {
			v[i] = math.NaN()
		}
		return v
	}
	for _, st := range sp {
		mu, vr := c.mean[st.Zone], c.vari[st.Zone]
		if mu == nil {
			continue
		}
		ft := terms[st.Zone]
		if ft == nil {
			ft = &fadeTerms{g: gap[st.Zone], w: fade[st.Zone]}
			if ft.w != 0 {
				ft.v = take(len(mu))
			}
			terms[st.Zone] = ft
		}
		lo, hi := st.window()
		j0, j1 := int(math.Ceil(lo)), int(math.Ceil(hi))
		r.stops = append(r.stops, spreadStopCheck{st: st, mu: mu, vr: vr, j0: j0, j1: j1, p: take(max(j1-j0, 0)), capacity: capy[st.Zone], fade: ft})
	}
	return r, buf
}

// check reports whether the group starting d minutes from now keeps every
// zone on its route within capacity at meterZ standard deviations; if
// not, the zone and the minute from now at which it would not.
func (r *spreadRoute) check(d int) (string, int, bool) {
	fn := r.n
	for i := range r.stops {
		st := &r.stops[i]
		k0, k1 := max(st.j0+d, 0), min(st.j1+d, len(st.mu))
		for k := k0; k < k1; k++ {
			j := k - d - st.j0
			if math.IsNaN(st.p[j]) {
				st.p[j] = st.st.at(float64(k - d))
			}
			p := st.p[j]
			if p < spreadMinShare {
				continue // the group adds next to nothing here
			}
			m := max(st.mu[k]+st.fade.at(k), 0) + fn*p
			v := st.vr[k] + fn*fn*p*(1-p)
			if m+meterZ*math.Sqrt(v) > st.capacity {
				return st.st.Zone, k, false
			}
		}
	}
	return "", 0, true
}
