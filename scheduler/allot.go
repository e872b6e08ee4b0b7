package scheduler

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Allotment, split the way nomad splits placement: feasibility (room: how
// many more visitors fit a route at a slot and gate), ranking (earliest slot
// in the window, then the route's gate order) and the plan (effects, in
// book.go).

// limit names what bounds a placement.
type limit int

const (
	limitNone     limit = iota
	limitCapacity       // a gate's wave or a zone's capacity
	limitWalkIn         // the walk-in share kept free
	limitOperator       // the operator's share of a wave or a day
	limitClosed         // a closure
)

// Limit says what bounds the room left in a wave (SlotRoom.LimitedBy):
// the gate's wave (Kind "gate", ID the gate), a zone along the route (Kind
// "zone", ID the zone, At when the group would meet it at its fullest —
// or reach it, when it is closed), or the operator's share (Kind
// "operator", ID the operator). Rule is which rule of room() binds:
// "capacity", "walk_in_share", "operator_wave_share", "operator_day_share"
// or "closed".
type Limit struct {
	Kind string    `json:"kind"`
	ID   string    `json:"id"`
	At   time.Time `json:"at,omitzero"`
	Rule string    `json:"rule"`
}

// Rules of a Limit.
const (
	RuleCapacity          = "capacity"
	RuleWalkInShare       = "walk_in_share"
	RuleOperatorWaveShare = "operator_wave_share"
	RuleOperatorDayShare  = "operator_day_share"
	RuleClosed            = "closed"
)

// bound is what room() found binding: the limit class (for refusals) and
// where it binds (for availability). minute is a minute of the day, -1
// when the bound has no time of its own.
type bound struct {
	why    limit
	kind   string
	id     string
	rule   string
	minute int
}

// room is how many more visitors of operator fit route r entering at
// minute m of day d through gate g, and what bounds that number.
func (s *State) room(d *day, operator string, r *Route, g *Gate, m int) (int, limit) {
	n, b := s.roomBound(d, operator, r, g, m)
	return n, b.why
}

// roomBound is room() with where its bound lies: the one capacity check
// that availability explains and allotment applies.
func (s *State) roomBound(d *day, operator string, r *Route, g *Gate, m int) (int, bound) {
	if zone, at, ok := s.closedStop(d, r, m); ok {
		return 0, bound{why: limitClosed, kind: "zone", id: zone, rule: RuleClosed, minute: at}
	}
	walkIn := operator == WalkInOperator
	share := 1 - s.cfg.Policy.WalkInShare
	slot := m / s.cfg.SlotMinutes

	best := g.WaveCapacity - int(d.wave[g.ID][slot])
	why := bound{why: limitCapacity, kind: "gate", id: g.ID, rule: RuleCapacity, minute: m}
	lower := func(n int, b bound) {
		if n < best {
			best, why = n, b
		}
	}
	if !walkIn {
		lower(floorShare(g.WaveCapacity, share)-int(d.waveOp[g.ID][slot]), bound{limitWalkIn, "gate", g.ID, RuleWalkInShare, m})
		lower(floorShare(g.WaveCapacity, s.cfg.Policy.OperatorWaveShare)-s.opWaveLoad(d, operator, g.ID, slot), bound{limitOperator, "operator", operator, RuleOperatorWaveShare, m})
		lower(floorShare(d.entries, s.cfg.Policy.OperatorDayShare)-d.opDay[operator], bound{limitOperator, "operator", operator, RuleOperatorDayShare, -1})
	}
	for _, st := range r.Stops {
		zc, _ := s.cfg.Zone(st.Zone)
		from, to := s.span(m, st)
		z := d.zone[st.Zone]
		peak, at := int32(0), from
		for i := from; i < to; i++ {
			if z[i] > peak {
				peak, at = z[i], i
			}
		}
		lower(zc.Capacity-int(peak), bound{limitCapacity, "zone", st.Zone, RuleCapacity, at * s.res})
		if !walkIn {
			zo := d.zoneOp[st.Zone]
			peak, at = 0, from
			for i := from; i < to; i++ {
				if zo[i] > peak {
					peak, at = zo[i], i
				}
			}
			lower(floorShare(zc.Capacity, share)-int(peak), bound{limitWalkIn, "zone", st.Zone, RuleWalkInShare, at * s.res})
		}
	}
	return max(best, 0), why
}

// limitOf describes a bound for SlotRoom.LimitedBy.
func (s *State) limitOf(d *day, b bound) *Limit {
	l := &Limit{Kind: b.kind, ID: b.id, Rule: b.rule}
	if b.minute >= 0 {
		l.At = s.at(d, b.minute)
	}
	return l
}

func floorShare(n int, share float64) int {
	// A tiny epsilon keeps 0.2*300 = 60, not 59, whatever the float rounding.
	return int(float64(n)*share + 1e-9)
}

// closedFor reports whether a closure blocks any stop of route r for a group
// entering at minute m of day d.
func (s *State) closedFor(d *day, r *Route, m int) bool {
	_, _, ok := s.closedStop(d, r, m)
	return ok
}

// closedStop finds the first stop of route r that a closure blocks for a
// group entering at minute m of day d: its zone and the minute the group
// would reach it.
func (s *State) closedStop(d *day, r *Route, m int) (zone string, minute int, ok bool) {
	if len(s.closures) == 0 {
		return "", 0, false
	}
	for _, st := range r.Stops {
		for _, c := range s.closures { // any order: the answer is the stop's
			if !c.Covers(st.Zone) {
				continue
			}
			a := s.at(d, m+st.Arrive)
			b := s.at(d, m+st.Arrive+st.Stay)
			from, until := s.blockSpan(c)
			if a.Before(until) && b.After(from) {
				return st.Zone, m + st.Arrive, true
			}
		}
	}
	return "", 0, false
}

// blockSpan is the time a closure blocks allotment: until its end, its
// lifting, or — when it is open-ended and in force — the end of the day it
// started (operations extend it by closing again; admissions stay closed
// for as long as it is in force).
func (s *State) blockSpan(c *Closure) (time.Time, time.Time) {
	end := c.Until
	if !c.Lifted.IsZero() && (end.IsZero() || c.Lifted.Before(end)) {
		end = c.Lifted
	}
	if end.IsZero() {
		f := c.From.In(s.cfg.Location())
		end = time.Date(f.Year(), f.Month(), f.Day()+1, 0, 0, 0, 0, s.cfg.Location())
	}
	return c.From, end
}

// at is the time of minute m of day d.
func (s *State) at(d *day, m int) time.Time {
	return time.Date(d.base.Year(), d.base.Month(), d.base.Day(), 0, m, 0, 0, s.cfg.Location())
}

// minuteOf is the minute of day d at which t falls (may exceed 1440).
func (s *State) minuteOf(d *day, t time.Time) int {
	t = t.In(s.cfg.Location())
	y, mo, dd := t.Date()
	days := civilDays(y, mo, dd) - civilDays(d.base.Date())
	return days*24*60 + t.Hour()*60 + t.Minute()
}

func civilDays(y int, m time.Month, d int) int {
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// placement is where a group is allotted.
type placement struct {
	gate   string
	minute int
}

// candidates are the route's entry minutes on day d within window w that
// are not yet over at now.
func (s *State) candidates(d *day, r *Route, w Window, now time.Time) []int {
	slots := s.routeSlots(d.base, r)
	out := make([]int, 0, len(slots))
	earliest := s.earliestMinute(d, now)
	for _, m := range slots {
		if m >= w.From && m < w.To && m >= earliest {
			out = append(out, m)
		}
	}
	return out
}

// earliestMinute is the first slot start on day d that is still open at
// now: the current wave's, on the day itself; any, on a later day.
func (s *State) earliestMinute(d *day, now time.Time) int {
	nd := now.In(s.cfg.Location())
	y, mo, dd := nd.Date()
	if y == d.base.Year() && mo == d.base.Month() && dd == d.base.Day() {
		m := nd.Hour()*60 + nd.Minute()
		return m - m%s.cfg.SlotMinutes
	}
	if nd.After(d.base) {
		return dayMinutes // the day is past
	}
	return 0
}

// find ranks the candidates (earliest first, then the route's gate order)
// and returns the first where n visitors fit; otherwise the strongest
// limit met.
func (s *State) find(d *day, operator string, r *Route, n int, cands []int) (placement, bool, limit) {
	worst := limitNone
	for _, m := range cands {
		for _, gid := range r.Gates {
			g, _ := s.cfg.Gate(gid)
			got, why := s.room(d, operator, r, g, m)
			if got >= n {
				return placement{gid, m}, true, limitNone
			}
			if why > worst {
				worst = why
			}
		}
	}
	return placement{}, false, worst
}

// alternatives are up to four feasible slots nearest to window w, outside
// the candidates already tried.
func (s *State) alternatives(d *day, operator string, r *Route, n int, w Window, now time.Time) []Alternative {
	type alt struct {
		Alternative
		dist int
	}
	var alts []alt
	earliest := s.earliestMinute(d, now)
	for _, m := range s.routeSlots(d.base, r) {
		if m < earliest {
			continue
		}
		dist := 0
		switch {
		case m < w.From:
			dist = w.From - m
		case m >= w.To:
			dist = m - w.To + 1
		}
		for _, gid := range r.Gates {
			g, _ := s.cfg.Gate(gid)
			if got, _ := s.room(d, operator, r, g, m); got >= n {
				alts = append(alts, alt{Alternative{Slot: s.at(d, m), Gate: gid, Remaining: got}, dist})
			}
		}
	}
	sort.SliceStable(alts, func(i, j int) bool { return alts[i].dist < alts[j].dist })
	var out []Alternative
	for _, a := range alts {
		if len(out) == 4 {
			break
		}
		out = append(out, a.Alternative)
	}
	return out
}

// refusal turns the strongest limit met into an error.
func (s *State) refusal(d *day, operator string, r *Route, n int, w Window, now time.Time, why limit) *Error {
	var e *Error
	switch why {
	case limitClosed:
		e = errorf(CodeClosed, "window", "route %q is closed on %s between %s and %s", r.ID, d.date, clock(w.From), clock(w.To))
	case limitOperator:
		if most := s.maxOperatorGroup(r); n > most {
			e = errorf(CodeInvalid, "party_size", "party_size %d is more than one operator may bring in one wave of route %q (at most %d); split the group into several bookings", n, r.ID, most)
			break
		}
		e = errorf(CodeOverShare, "party_size", "operator %q would exceed its share of the waves or of the day on %s (at most %.0f%% of a wave, %.0f%% of the day)",
			operator, d.date, 100*s.cfg.Policy.OperatorWaveShare, 100*s.cfg.Policy.OperatorDayShare)
	default:
		e = errorf(CodeNoCapacity, "window", "no wave between %s and %s on %s has room for %d visitors on route %q",
			clock(w.From), clock(w.To), d.date, n, r.ID)
	}
	e.Alternatives = s.alternatives(d, operator, r, n, w, now)
	return e
}

func clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// hoursText describes when a route can enter on a date, for error messages.
func (s *State) hoursText(d *day, r *Route) string {
	ms := s.routeSlots(d.base, r)
	if len(ms) == 0 {
		return "no entries"
	}
	if r.Evening {
		var parts []string
		for _, m := range ms {
			parts = append(parts, clock(m))
		}
		return "entries at " + strings.Join(parts, ", ")
	}
	return fmt.Sprintf("entries from %s to %s", clock(ms[0]), clock(ms[len(ms)-1]))
}

// maxOperatorGroup is the largest group one operator may bring in one wave
// of route r, at its most generous gate.
func (s *State) maxOperatorGroup(r *Route) int {
	most := 0
	for _, gid := range r.Gates {
		g, _ := s.cfg.Gate(gid)
		most = max(most, min(floorShare(g.WaveCapacity, s.cfg.Policy.OperatorWaveShare), floorShare(g.WaveCapacity, 1-s.cfg.Policy.WalkInShare)))
	}
	return most
}
