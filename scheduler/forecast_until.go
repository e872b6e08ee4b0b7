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
	// The instants given in minutes after now by floating-point figures
	// (an admission's el against a stop's minutes): the first of them,
	// taken to come meterFloatMargin earlier, and if that is not after
	// now, now.
	first := math.Inf(1)
	type routeOf struct {
		stays []int      // configured minutes of the stops in counted zones (zoneStays)
		sp    []stopSpan // the stops in the route's zones, under the dwell factors (project)
	}
	counted := make([]string, 0, len(zs))
	for _, z := range zs {
		if s.traffic(z) != 0 {
			counted = append(counted, z)
		}
	}
	routes := map[string]*routeOf{}
	for _, a := range s.admits {
		ro, ok := routes[a.Route]
		if !ok {
			if ar, found := s.cfg.Route(a.Route); found {
				ro = &routeOf{}
				for _, st := range ar.Stops {
					if slices.Contains(counted, st.Zone) {
						ro.stays = append(ro.stays, st.Arrive)
					}
				}
				for _, st := range routeSpans(ar, f) {
					if slices.Contains(zs, st.Zone) {
						ro.sp = append(ro.sp, st)
					}
				}
			}
			routes[a.Route] = ro
		}
		if ro == nil {
			continue
		}
		el := now.Sub(a.At).Minutes()
		// zoneStays (a counted zone's mean stay, meanStay): a stop
		// reached at a.At plus its configured minutes counts from
		// that instant until 3 hours after it, inclusive.
		for _, arrive := range ro.stays {
			if d := float64(arrive) - el; d > 0 {
				first = min(first, d)
			} else if d += 180; d >= 0 {
				first = min(first, d)
			}
		}
		for _, st := range ro.sp {
			// project: the stop counts while ceil(Leave−el) > 0, from
			// minute max(ceil(Arrive−el), 0); each ceil steps down when
			// its argument reaches the integer below it, 1−(ceil(y)−y)
			// minutes on. modelAt's instants (at the stop from
			// el = Arrive until Leave) are the last of these steps.
			y := st.Leave - el
			cv := math.Ceil(y)
			if cv <= 0 {
				continue // past the stop for good
			}
			first = min(first, 1-(cv-y))
			if y := st.Arrive - el; y > 0 {
				first = min(first, 1-(math.Ceil(y)-y))
			}
		}
	}
	if !math.IsInf(first, 1) {
		if t := now.Add(minutes(first)).Add(-meterFloatMargin); t.After(now) {
			at(t)
		} else {
			until = now
		}
	}
	return until
}
