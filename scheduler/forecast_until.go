package scheduler

import (
	"math"
	"slices"
	"time"
)

// How long a metering verdict holds
//
// A group the forecast holds back is scanned again at instants of its own
// (each visitor's ticket, device after device), and the memo of one
// instant (forecast_memo.go) served none of those scans. Between commands
// that change what the check reads (meterGen), the check still depends on
// the time it is asked at, but only through these (meterVerdict and what
// it calls):
//   - the minute of now: the spread projection is made for now's minute
//     (spreadProjection), and RetryAt is a whole minute after now's
//     (worked out again from the delay at each scan);
//   - each admission's minute offsets in the projection: a stop of it
//     counts from minute ceil(Arrive−el) to ceil(Leave−el), el being the
//     minutes since it entered, which step by one at instants of the
//     admission's own phase;
//   - whether an admission is at a stop now (the zone model of now that
//     the gap to the counters is taken from: modelAt);
//   - which admissions reached a stop in the last 3 hours (the zones'
//     mean stays: meanStay, zoneStays);
//   - the capacity cuts in force (holdThreshold, zoneCapacity);
//   - closures, whose walk-out shares change continuously with now: with
//     a closure on any zone of the route, a verdict holds at its instant
//     only.
// ZoneAt is kept as a minute offset from now and worked out again too. So
// meterUntil, the first instant after now at which any of these may
// change, bounds the verdict: until then, with meterGen unchanged, the
// check would give the same answer (TestMeterMemoAnswersAsTheCheck checks
// it against the check made afresh as time moves on by random steps).

// meterFloatMargin is how much earlier than worked out an instant given by
// floating-point minutes (an admission's el against a stop's minutes) is
// taken to come: far more than the rounding of those figures (under a
// nanosecond), far less than the time between two scans.
const meterFloatMargin = time.Microsecond

// meterUntil is the instant before which the metering check of route r,
// made at now, gives the same verdict if nothing else changes (meterGen);
// now itself if it may change at any instant.
func (s *State) meterUntil(now time.Time, r *Route) time.Time {
	f := s.dwellFactors()
	sp := routeSpans(r, f)
	zs := zonesOf(sp)
	cl := s.closedSpans()
	for _, z := range zs {
		if len(cl[z]) > 0 {
			return now
		}
	}
	// The spread projection's minute.
	until := now.Truncate(time.Minute).Add(time.Minute)
	at := func(t time.Time) {
		if t.After(now) && t.Before(until) {
			until = t
		}
	}
	for _, cu := range s.cuts {
		if slices.Contains(zs, cu.Zone) {
			at(cu.From)
			at(cu.Until)
			if !cu.Lifted.IsZero() {
				at(cu.Lifted)
			}
		}
	}
	// The next instant a figure changes, given in floating-point minutes
	// after an admission: taken to come meterFloatMargin earlier, and
	// within that margin of now, at once.
	atEl := func(a time.Time, el float64) {
		if t := a.Add(minutes(el)).Add(-meterFloatMargin); t.After(now) {
			at(t)
		} else {
			until = now
		}
	}
	type routeOf struct {
		stops []Stop     // as configured (zoneStays)
		sp    []stopSpan // under the dwell factors (project, modelAt)
	}
	routes := map[string]*routeOf{}
	for _, a := range s.admits {
		ro, ok := routes[a.Route]
		if !ok {
			if ar, found := s.cfg.Route(a.Route); found {
				ro = &routeOf{stops: ar.Stops, sp: routeSpans(ar, f)}
			}
			routes[a.Route] = ro
		}
		if ro == nil {
			continue
		}
		// zoneStays: a stop reached from a.At plus its configured
		// minutes counts from that instant until 3 hours later.
		for _, st := range ro.stops {
			if slices.Contains(zs, st.Zone) {
				t := a.At.Add(time.Duration(st.Arrive) * time.Minute)
				at(t)
				at(t.Add(3*time.Hour + time.Nanosecond))
			}
		}
		el := now.Sub(a.At).Minutes()
		for _, st := range ro.sp {
			if !slices.Contains(zs, st.Zone) {
				continue
			}
			// project: the stop counts while ceil(Leave−el) > 0, from
			// minute max(ceil(Arrive−el), 0); each ceil steps down when
			// its argument reaches the integer below it. modelAt's
			// instants (at the stop from el = Arrive until Leave) are
			// the last of these steps.
			cv := ceilMinutes(st.Leave - el)
			if cv <= 0 {
				continue // past the stop for good
			}
			atEl(a.At, st.Leave-float64(cv-1))
			if ca := ceilMinutes(st.Arrive - el); ca > 0 {
				atEl(a.At, st.Arrive-float64(ca-1))
			}
		}
	}
	return until
}

// ceilMinutes is ceil(x) as the projection takes it.
func ceilMinutes(x float64) int { return int(math.Ceil(x)) }
