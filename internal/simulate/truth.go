package simulate

import (
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/tafweej/tafweej/scheduler"
)

// The simulation's truth: where its visitors really are. Every admitted
// batch of a group becomes a party that walks the group's route, zone after
// zone; the counters see the same moves (with their miscounts), the truth
// sees them exactly. The report compares the service's picture with it.

// Dwell spread: each party stays in each zone its configured time times
// the dwell factor times a draw uniform in [1-dwellSpread, 1+dwellSpread].
// The Siq takes 45-90 minutes to walk through [travel, docs/PETRA.md]:
// a third either side of its middle.
const dwellSpread = 1.0 / 3

// party is n visitors of one group, admitted by one scan, walking the
// group's route.
type party struct {
	gr    *simGroup
	n     int
	stops []partyStop
}

// partyStop is one stop of a party's walk: when it enters and leaves the
// zone, and what became of it.
type partyStop struct {
	zone    string
	in, out time.Time
	// stay is the configured stay, unscaled: the time to walk out of the
	// zone when it is evacuated.
	stay    time.Duration
	entered bool
	left    bool
	skipped bool // the zone was closed when the party reached it
}

// planWalk is the walk of n visitors admitted at at on route r: stops one
// after the other, each stay the configured one times factor with spread,
// the walks between zones (gaps in the route's timetable) as configured.
// rng draws the start (0-4 minutes after the gate, as before) and the
// spread.
func planWalk(r *scheduler.Route, n int, at time.Time, factor float64, rng *rand.Rand) []partyStop {
	t := at.Add(time.Duration(rng.IntN(5)) * time.Minute)
	prevEnd := 0 // configured minute the previous stop ends
	var out []partyStop
	for i, st := range r.Stops {
		if gap := st.Arrive - prevEnd; i > 0 && gap > 0 {
			t = t.Add(time.Duration(gap) * time.Minute)
		}
		prevEnd = st.Arrive + st.Stay
		f := factor * (1 - dwellSpread + 2*dwellSpread*rng.Float64())
		stay := time.Duration(float64(st.Stay) * f * float64(time.Minute)).Round(time.Second)
		out = append(out, partyStop{zone: st.Zone, in: t, out: t.Add(stay), stay: time.Duration(st.Stay) * time.Minute})
		t = t.Add(stay)
	}
	return out
}

// truthChange is one change of a zone's true occupancy.
type truthChange struct {
	at    time.Time
	zone  string
	delta int
}

// truth is the true occupancy of every zone and its history.
type truth struct {
	inside  map[string]int
	entered map[string]int
	left    map[string]int
	changes []truthChange
}

func newTruth() *truth {
	return &truth{inside: map[string]int{}, entered: map[string]int{}, left: map[string]int{}}
}

// enter and leave move n people at at.
func (t *truth) enter(at time.Time, zone string, n int) {
	t.inside[zone] += n
	t.entered[zone] += n
	t.changes = append(t.changes, truthChange{at, zone, n})
}

func (t *truth) leave(at time.Time, zone string, n int) {
	t.inside[zone] -= n
	t.left[zone] += n
	t.changes = append(t.changes, truthChange{at, zone, -n})
}

// sorted returns the changes in time order (stable: same-time changes in
// the order they happened).
func (t *truth) sorted() []truthChange {
	c := slices.Clone(t.changes)
	sort.SliceStable(c, func(i, j int) bool { return c[i].at.Before(c[j].at) })
	return c
}

// zoneSeries is a zone's true occupancy over the run, per minute.
type zoneSeries struct {
	start time.Time
	// max is the most people in the zone at any moment of each minute
	// from start.
	max []int
	// steps are the zone's occupancy after each change, in time order.
	steps []truthChange // delta holds the level after the change
}

// series builds every zone's per-minute history from start, for minutes
// minutes.
func (t *truth) series(start time.Time, minutes int) map[string]*zoneSeries {
	out := map[string]*zoneSeries{}
	get := func(z string) *zoneSeries {
		zs := out[z]
		if zs == nil {
			zs = &zoneSeries{start: start, max: make([]int, minutes)}
			out[z] = zs
		}
		return zs
	}
	level := map[string]int{}
	for _, c := range t.sorted() {
		zs := get(c.zone)
		level[c.zone] += c.delta
		zs.steps = append(zs.steps, truthChange{at: c.at, zone: c.zone, delta: level[c.zone]})
	}
	for _, zs := range out {
		cur, k := 0, 0
		for m := range minutes {
			from, end := start.Add(time.Duration(m)*time.Minute), start.Add(time.Duration(m+1)*time.Minute)
			// The level as the minute begins, then every change within it.
			for k < len(zs.steps) && !zs.steps[k].at.After(from) {
				cur = zs.steps[k].delta
				k++
			}
			peak := cur
			for k < len(zs.steps) && zs.steps[k].at.Before(end) {
				cur = zs.steps[k].delta
				peak = max(peak, cur)
				k++
			}
			zs.max[m] = peak
		}
	}
	return out
}

// at is the zone's occupancy at t: after every change at or before t.
func (zs *zoneSeries) at(t time.Time) int {
	if zs == nil {
		return 0
	}
	i := sort.Search(len(zs.steps), func(i int) bool { return zs.steps[i].at.After(t) })
	if i == 0 {
		return 0
	}
	return zs.steps[i-1].delta
}

// distance is how far v is from every occupancy the zone had in
// (from, to]: 0 when it had v at some moment (or v lies between two of
// them), else the distance to the nearest.
func (zs *zoneSeries) distance(v int, from, to time.Time) int {
	lo, hi := zs.at(from), zs.at(from)
	if zs != nil {
		i := sort.Search(len(zs.steps), func(i int) bool { return zs.steps[i].at.After(from) })
		for ; i < len(zs.steps) && !zs.steps[i].at.After(to); i++ {
			lo, hi = min(lo, zs.steps[i].delta), max(hi, zs.steps[i].delta)
		}
	}
	switch {
	case v < lo:
		return lo - v
	case v > hi:
		return v - hi
	}
	return 0
}
