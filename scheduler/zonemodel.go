package scheduler

import (
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// The zone model
//
// Where an admitted visitor is at any time is worked out from the route's
// stops, one after the other: a group reaches its first stop Arrive minutes
// after entry; it leaves a stop Stay × factor minutes after reaching it (the
// factor is the zone's learned dwell factor, 1 when nothing is learned), and
// reaches the next stop after the same walk the configuration has between
// the two (the next stop's Arrive less the previous stop's Arrive + Stay).
// With every factor 1 this is exactly the plan's timeline (span): the plan,
// the live picture, the forecast and the admission check share one model.
// Time starts at the admission, not at the wave's slot: a group let in 40
// minutes late is 40 minutes behind its wave all the way.

// stopSpan is when a group is in one zone of its route, in minutes after
// its entry.
type stopSpan struct {
	Zone          string
	Arrive, Leave float64
	Stay          int // the configured stay
}

// routeSpans are the stops of route r under the zone model, with each
// zone's dwell factor (missing or nil: 1).
func routeSpans(r *Route, factor map[string]float64) []stopSpan {
	out := make([]stopSpan, 0, len(r.Stops))
	var leave float64
	prevEnd := 0
	for k, st := range r.Stops {
		walk := st.Arrive
		if k > 0 {
			walk = st.Arrive - prevEnd
		}
		f := 1.0
		if v, ok := factor[st.Zone]; ok && v > 0 {
			f = v
		}
		arrive := leave + float64(walk)
		if k == 0 {
			arrive = float64(walk)
		}
		leave = arrive + float64(st.Stay)*f
		out = append(out, stopSpan{Zone: st.Zone, Arrive: arrive, Leave: leave, Stay: st.Stay})
		prevEnd = st.Arrive + st.Stay
	}
	return out
}

// Closures in the zone model: a group that reaches a zone while a closure
// covers it is turned away and skips it (its later stops keep their
// times); a group inside a zone when a closure covers it is walked out,
// each visitor within the stop's configured stay (the time to walk it) —
// so the model's figure falls evenly over that time. This is the standard
// response to a flood warning: stop admissions, evacuate (docs/PETRA.md).

// closedSpan is when a closure covered a zone: [from, to).
type closedSpan struct{ from, to time.Time }

// closedSpans are the spans, past or present, in which closures covered
// each zone.
func (s *State) closedSpans() map[string][]closedSpan {
	out := map[string][]closedSpan{}
	far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, id := range slices.Sorted(maps.Keys(s.closures)) {
		c := s.closures[id]
		to := far
		if !c.Until.IsZero() {
			to = c.Until
		}
		if !c.Lifted.IsZero() && c.Lifted.Before(to) {
			to = c.Lifted
		}
		if !to.After(c.From) {
			continue
		}
		for _, zc := range s.cfg.Zones {
			if c.Covers(zc.ID) {
				out[zc.ID] = append(out[zc.ID], closedSpan{c.From, to})
			}
		}
	}
	return out
}

// presence is the share of a group present at t in a stop it reaches at
// in and would leave at out, under the closures cl of the stop's zone.
func presence(cl []closedSpan, in, out time.Time, stay int, t time.Time) float64 {
	if t.Before(in) || !t.Before(out) {
		return 0
	}
	share := 1.0
	for _, c := range cl {
		if !in.Before(c.from) && in.Before(c.to) {
			return 0 // turned away
		}
		if c.from.After(in) && !c.from.After(t) {
			walk := time.Duration(max(stay, 1)) * time.Minute
			share = min(share, max(0, 1-float64(t.Sub(c.from))/float64(walk)))
		}
	}
	return share
}

// touches reports whether any closure of cl begins before out and ends
// after in.
func touches(cl []closedSpan, in, out time.Time) bool {
	for _, c := range cl {
		if c.from.Before(out) && c.to.After(in) {
			return true
		}
	}
	return false
}

// admitRec is one admission: n visitors of a booking entered at At.
type admitRec struct {
	Booking string
	Route   string
	N       int
	At      time.Time
}

// admitsKeep is how long an admission stays in the log: longer than any
// route takes, at any dwell factor the learner accepts.
const admitsKeep = 16 * time.Hour

// logAdmission notes n visitors of booking b let in at at.
func (s *State) logAdmission(b *Booking, n int, at time.Time) {
	if n <= 0 {
		return
	}
	s.admits = append(s.admits, admitRec{Booking: b.ID, Route: b.Route, N: n, At: at})
}

// rebuildAdmits rebuilds the admission log from the scan records after a
// Restore: each recorded admission at its time, and any admitted visitor
// no record accounts for (a scan without a scan id) at the wave's slot.
func (s *State) rebuildAdmits() {
	s.admitsGen++
	s.admits = nil
	s.admitsFromRecords(nil)
}

// rebuildAdmitsOf rebuilds the admission log's entries of the bookings in
// ids (Revert: their admissions as the store has them), keeping the others.
func (s *State) rebuildAdmitsOf(ids map[string]bool) {
	if len(ids) == 0 {
		return
	}
	s.admitsGen++
	s.admits = slices.DeleteFunc(s.admits, func(a admitRec) bool { return ids[a.Booking] })
	s.admitsFromRecords(ids)
}

// admitsFromRecords adds to the admission log the admissions of the
// bookings in only (nil: every booking), from the scan records and the
// bookings' admitted counts, and keeps the log in time order.
func (s *State) admitsFromRecords(only map[string]bool) {
	seen := map[string]int{}
	for _, id := range slices.Sorted(maps.Keys(s.scans)) {
		rec := s.scans[id]
		if only != nil && !only[rec.Booking] {
			continue
		}
		b, ok := s.bookings.peek(rec.Booking)
		if !ok {
			continue
		}
		switch {
		case rec.Offline != nil && rec.Offline.Admitted > 0:
			s.admits = append(s.admits, admitRec{Booking: b.ID, Route: b.Route, N: rec.Offline.Admitted, At: rec.Offline.At})
			seen[b.ID] += rec.Offline.Admitted
		case rec.Offline == nil && rec.Result.Admitted > 0:
			s.admits = append(s.admits, admitRec{Booking: b.ID, Route: b.Route, N: rec.Result.Admitted, At: rec.At})
			seen[b.ID] += rec.Result.Admitted
		}
	}
	// Only bookings with someone admitted (their records say so, without
	// materialising the others), in id order.
	var admitted []admitRec
	add := func(b Booking) {
		if left := b.Admitted - seen[b.ID]; left > 0 {
			admitted = append(admitted, admitRec{Booking: b.ID, Route: b.Route, N: left, At: b.Slot})
		}
	}
	if only != nil {
		for id := range only {
			if b, ok := s.bookings.peek(id); ok {
				add(b)
			}
		}
	} else {
		for b := range s.bookings.view("", func(r *bookRec) bool { return r.admitted > 0 }) {
			add(*b)
		}
	}
	slices.SortFunc(admitted, func(a, b admitRec) int { return strings.Compare(a.Booking, b.Booking) })
	s.admits = append(s.admits, admitted...)
	slices.SortStableFunc(s.admits, func(a, b admitRec) int { return a.At.Compare(b.At) })
}

// pruneAdmits drops admissions older than admitsKeep.
func (s *State) pruneAdmits(now time.Time) {
	i := 0
	for i < len(s.admits) && now.Sub(s.admits[i].At) > admitsKeep {
		i++
	}
	if i > 0 {
		s.admitsGen++
		s.admits = slices.Delete(s.admits, 0, i)
	}
}

// spansOf returns the stop spans of a route under the dwell factors f,
// each route's computed once per call of spansOf; false for a route the
// configuration no longer has.
func (s *State) spansOf(f map[string]float64) func(route string) ([]stopSpan, bool) {
	cache := map[string][]stopSpan{}
	return func(route string) ([]stopSpan, bool) {
		if sp, ok := cache[route]; ok {
			return sp, true
		}
		r, found := s.cfg.Route(route)
		if !found {
			return nil, false
		}
		sp := routeSpans(r, f)
		cache[route] = sp
		return sp, true
	}
}

// modelAt is the zone model's occupancy of every zone at now: the admitted
// visitors placed along their routes by the time since their admission,
// with the learned dwell factors and the closures.
func (s *State) modelAt(now time.Time) map[string]int {
	acc := map[string]float64{}
	f := s.dwellFactors()
	cl := s.closedSpans()
	spans := s.spansOf(f)
	for _, a := range s.admits {
		sp, ok := spans(a.Route)
		if !ok {
			continue
		}
		el := now.Sub(a.At).Minutes()
		for _, st := range sp {
			if el >= st.Arrive && el < st.Leave {
				in, out := a.At.Add(minutes(st.Arrive)), a.At.Add(minutes(st.Leave))
				acc[st.Zone] += float64(a.N) * presence(cl[st.Zone], in, out, st.Stay, now)
			}
		}
	}
	out := map[string]int{}
	for z, v := range acc {
		out[z] = int(math.Round(v))
	}
	return out
}

// minutes is m minutes as a duration.
func minutes(m float64) time.Duration { return time.Duration(m * float64(time.Minute)) }
