package scheduler

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"
)

// Re-planning after a closure (close, and alerts that close; a capacity
// cut, cut.go, re-plans the bookings over it through replanDate too).
//
// A closure hits the active bookings with nobody admitted yet whose route
// meets its block span (blockSpan). They are lifted off and re-planned one
// date at a time, in date order (a closure may last days; every capacity
// is per day, so the dates are independent). On each date two outcomes are
// computed on the day's remaining capacity, and the better is applied:
//
//   - first come: in slot order, each group at the earliest wave in its
//     window with room, else the earliest wave later that day, else none
//     (the rule before the day planner, which never sees the whole day);
//   - the day planner (PlanInstance) on the hit groups, each with the whole
//     day as its window and its current slot as the preferred start, then
//     checked placement by placement against room(); a group it leaves out
//     (or places where it does not fit) gets the first-come rule on what is
//     left, and a group it puts outside its window moves to the earliest
//     wave in its window that still has room.
//
// "Better" is lexicographic, the planner's own objective with its last
// criterion refined: the most visitors kept; then fairness between
// operators (the leximin of their kept shares of their hit visitors; the
// ticket office is not an operator); then the most visitors kept inside
// their own window; then the fewest minutes moved from the booked slot; a
// tie keeps first come. So a closure never keeps fewer visitors than first
// come would, by construction.
//
// Why the whole day as the planner's window, with the booked slot as the
// preferred start, rather than two passes (window first, then the rest of
// the day): a group's window is only a preference once its slot is closed,
// and a two-pass plan fixes the in-window groups before it sees what the
// rest of the day could take, so it can keep fewer visitors. The price is
// that inside the planner the window is no more than closeness to the
// booked slot, its third criterion: it moves a group out of its window
// whenever that keeps more visitors or is fairer, and among equal plans it
// minimises the total minutes moved, which can put one group just outside
// its window to keep another nearer its slot. The closed waves sit around
// the booked slot and the open ones after the closure, so the nearest open
// wave is almost always the earliest one after the closure — what first
// come picks — and the window pass afterwards restores in-window
// placements where room allows. In-window placement is therefore weaker
// than under first come (where no later group could push an earlier one
// out of its window) exactly where it buys visitors or fairness. (On 17
// closures of full days, replan_test.go's scenarios and 12 more, the
// checked plan kept more visitors in their window than first come on 12,
// as many on 4, fewer on 1: 38 against 41.)

// Budget of the planner on a re-plan, which runs in the owner loop
// (Apply is synchronous): replanIterationsPerGroup search iterations a hit
// group, at least replanMinIterations and at most replanMaxIterations
// (PlanOptions' default, for a day planned offline, is 7,000 a group up
// to 3 million). It is a count, never a clock, so the result is
// deterministic: the planner is seeded from the instance.
//
// Measured with BenchmarkReplanSiqFlood on this 2-core machine (a full
// winter day, 1,500 requests booked first come, about 7,000 visitors; the
// Siq, its entrance and the Treasury closed at 11:00 until 13:00): with
// the groups that came before 11:00 admitted, 39 groups are hit and the
// Close command takes about 48 ms (39,000 iterations); with nobody
// admitted, 149 groups are hit and it takes about 115 ms (60,000
// iterations, the cap). The search costs about 1.7 µs an iteration; the
// rest (instance, first come, checks) a few ms. On 36 such closures
// (other seeds; at 08:30 and at 11:00; morning admitted or not) the
// visitors kept stopped growing at about 20,000 iterations: from 20,000 to
// 600,000 they changed by at most one visitor, on 3 of the 36.
const (
	replanIterationsPerGroup = 1000
	replanMinIterations      = 2000
	replanMaxIterations      = 60000
)

func replanIterations(groups int) int {
	return min(max(replanIterationsPerGroup*groups, replanMinIterations), replanMaxIterations)
}

// replanHit moves or cancels hit, the active, not yet admitted bookings
// whose route meets the closure (hitBy(cl)): moved ones are rescheduled,
// the others cancelled, both with the closure's reason.
func (s *State) replanHit(now time.Time, cl *Closure, hit []*Booking) ([]Effect, ReplanCounts) {
	byDate := map[string][]*Booking{}
	for _, b := range hit {
		byDate[b.Date] = append(byDate[b.Date], b)
	}
	var effects []Effect
	var counts ReplanCounts
	reason := closureReasonPrefix + cl.Reason
	for _, date := range slices.Sorted(maps.Keys(byDate)) {
		e, n := s.replanDate(now, date, byDate[date], reason)
		effects = append(effects, e...)
		counts.add(n)
	}
	return effects, counts
}

// ReplanCounts is what the re-plan of a closure or a capacity cut did with
// the bookings it hit (the figures an operations officer is told after a
// closure or a cut): Moved were rescheduled to another wave, OutOfWindow of
// them now start outside the window their operator asked for, Cancelled
// found no room left that day. A booking that fits back in its own wave
// (after a cut) is in none of them.
type ReplanCounts struct {
	Moved       int `json:"moved"`
	OutOfWindow int `json:"out_of_window"`
	Cancelled   int `json:"cancelled"`
}

func (c *ReplanCounts) add(o ReplanCounts) {
	c.Moved += o.Moved
	c.OutOfWindow += o.OutOfWindow
	c.Cancelled += o.Cancelled
}

// hitBy lists the active, not yet admitted bookings whose route meets the
// closure's block span, in slot order, then by id.
func (s *State) hitBy(cl *Closure) []*Booking {
	from, until := s.blockSpan(cl)
	var hit []*Booking
	for b := range s.bookings.view("", s.bookings.recUnadmitted) {
		if s.hits(cl, from, until, b) {
			hit = append(hit, s.bookings.hold(b))
		}
	}
	slices.SortFunc(hit, func(a, b *Booking) int {
		return cmp.Or(a.Slot.Compare(b.Slot), cmp.Compare(a.ID, b.ID))
	})
	return hit
}

// hits reports whether closure cl, blocking from until until, hits booking
// b: active, nobody admitted, its route meeting the closure's zones then.
func (s *State) hits(cl *Closure, from, until time.Time, b *Booking) bool {
	if !b.Active() || b.Admitted > 0 {
		return false
	}
	d, err := s.day(b.Date)
	if err != nil {
		return false
	}
	r, _ := s.cfg.Route(b.Route)
	m := s.minuteOf(d, b.Slot)
	for _, st := range r.Stops {
		a, e := s.at(d, m+st.Arrive), s.at(d, m+st.Arrive+st.Stay)
		if cl.Covers(st.Zone) && a.Before(until) && e.After(from) {
			return true
		}
	}
	return false
}

// replanDate re-plans hit, active bookings of date with nobody admitted,
// in slot order and still placed on the day (it lifts them off), and
// applies the better outcome: each is moved (rescheduled, with reason),
// left where it was if that is where the outcome puts it (no effect), or
// cancelled (with reason). A closure's re-plan (replan) and a capacity
// cut's (cut.go) call it once per date.
func (s *State) replanDate(now time.Time, date string, hit []*Booking, reason string) ([]Effect, ReplanCounts) {
	return s.replanDateWith(now, date, hit, reason, replanIterations(len(hit)))
}

// replanDateWith is replanDate with the planner's budget given (a step of a
// stepped re-plan has a smaller one, stepped.go).
func (s *State) replanDateWith(now time.Time, date string, hit []*Booking, reason string, iterations int) ([]Effect, ReplanCounts) {
	// The instance lifts the hit bookings off its own copy of the day, so
	// it is built before they are lifted off the day itself.
	inst, err := s.replanInstance(now, date, hit)
	var plan *PlanResult
	if err == nil {
		// An error means an instance the planner cannot take (a
		// configuration changed under stored bookings): first come stands.
		if res, err := PlanInstance(inst, PlanOptions{Iterations: iterations}); err == nil {
			plan = &res
		}
	}
	return s.replanDatePlan(now, date, hit, reason, plan)
}

// replanInstance is the planner's instance of a re-plan of the hit
// bookings of date: each with the whole day as its window and its current
// slot as the preferred start, lifted off the instance's copy of the day.
func (s *State) replanInstance(now time.Time, date string, hit []*Booking) (Instance, error) {
	d, _ := s.day(date)
	reqs := make([]PlanRequest, len(hit))
	for i, b := range hit {
		reqs[i] = PlanRequest{ID: b.ID, Operator: b.Operator, Route: b.Route, PartySize: b.PartySize,
			Window: Window{From: 0, To: 24 * 60}, Preferred: s.minuteOf(d, b.Slot)}
	}
	return s.DayInstance(now, date, reqs)
}

// replanDatePlan is replanDate with the planner's plan given (nil: none,
// first come stands), made on an instance of date with the hit bookings
// lifted off, at this or an earlier state of the day: every placement is
// checked again (fromPlan).
func (s *State) replanDatePlan(now time.Time, date string, hit []*Booking, reason string, plan *PlanResult) ([]Effect, ReplanCounts) {
	d, _ := s.day(date)
	for _, b := range hit {
		s.unplace(d, b)
	}
	c := &slotsMemo{}
	best := s.firstCome(now, d, hit, c)
	if plan != nil {
		if planned := s.fromPlan(now, d, hit, *plan, c); planned.better(best) {
			best = planned
		}
	}

	var effects []Effect
	var counts ReplanCounts
	for i, b := range hit {
		p, ok := best.at[i], best.kept[i]
		switch {
		case !ok:
			counts.Cancelled++
			b.Status, b.Reason = StatusCancelled, reason
			b.UpdatedAt = now
			b.Version++
			effects = append(effects, PutBooking{*b}, Event{Kind: EventBookingCancelled, At: now, Data: *b})
		case p.gate == b.Gate && p.minute == s.minuteOf(d, b.Slot):
			// Back in its own wave: nothing changed, nothing to report.
			// After a closure this cannot happen (room() refuses a closed
			// wave, and the wave of a hit booking is closed); after a
			// capacity cut a group may fit back where it was.
			s.place(d, b)
		default:
			counts.Moved++
			if p.minute < b.Window.From || p.minute >= b.Window.To {
				counts.OutOfWindow++
			}
			b.Gate, b.Slot = p.gate, s.at(d, p.minute)
			b.Status, b.Reason = StatusRescheduled, reason
			b.UpdatedAt = now
			b.Version++
			s.place(d, b)
			effects = append(effects, PutBooking{*b}, Event{Kind: EventBookingRescheduled, At: now, Data: *b})
		}
	}
	return effects, counts
}

// replanOutcome is where the hit bookings of one date would go: at[i] for
// hit[i] when kept[i], and the figures by which outcomes are compared.
type replanOutcome struct {
	hit  []*Booking
	at   []placement
	kept []bool

	visitors int // kept
	inWindow int // kept inside their own window
	moved    int // minutes between the booked slots and the new ones, summed
	shares   []keptShare
}

// keptShare is one operator's kept visitors out of its hit visitors.
type keptShare struct{ kept, hit int }

func (a keptShare) compare(b keptShare) int { return cmp.Compare(a.kept*b.hit, b.kept*a.hit) }

// better reports whether o beats p: more visitors kept; then fairer (the
// lowest operator share higher, then the next); then more visitors in
// their window; then fewer minutes moved.
func (o *replanOutcome) better(p *replanOutcome) bool {
	if c := cmp.Compare(o.visitors, p.visitors); c != 0 {
		return c > 0
	}
	for i := range min(len(o.shares), len(p.shares)) {
		if c := o.shares[i].compare(p.shares[i]); c != 0 {
			return c > 0
		}
	}
	if c := cmp.Compare(o.inWindow, p.inWindow); c != 0 {
		return c > 0
	}
	return o.moved < p.moved
}

func newOutcome(hit []*Booking) *replanOutcome {
	return &replanOutcome{hit: hit, at: make([]placement, len(hit)), kept: make([]bool, len(hit))}
}

// keep puts hit booking i at p on day d, for the trial.
func (s *State) keep(d *day, o *replanOutcome, i int, p placement) {
	b := o.hit[i]
	o.at[i], o.kept[i] = p, true
	s.add(d, b.Operator, b.Route, p.gate, p.minute, b.PartySize)
}

// drop takes hit booking i off day d again.
func (s *State) drop(d *day, o *replanOutcome, i int) {
	b := o.hit[i]
	s.add(d, b.Operator, b.Route, o.at[i].gate, o.at[i].minute, -b.PartySize)
	o.kept[i] = false
}

// settle takes the trial off the day and computes the outcome's figures.
func (s *State) settle(d *day, o *replanOutcome) *replanOutcome {
	asked, got := map[string]int{}, map[string]int{}
	for i, b := range o.hit {
		asked[b.Operator] += b.PartySize
		if !o.kept[i] {
			continue
		}
		s.drop(d, o, i)
		o.kept[i] = true
		m := o.at[i].minute
		o.visitors += b.PartySize
		got[b.Operator] += b.PartySize
		if b.Window.From <= m && m < b.Window.To {
			o.inWindow += b.PartySize
		}
		booked := s.minuteOf(d, b.Slot)
		o.moved += max(m-booked, booked-m)
	}
	for _, op := range slices.Sorted(maps.Keys(asked)) {
		if op != WalkInOperator {
			o.shares = append(o.shares, keptShare{got[op], asked[op]})
		}
	}
	slices.SortStableFunc(o.shares, keptShare.compare)
	return o
}

// firstComeAt is where the first-come rule puts booking b on day d with
// the current loads: the earliest wave in its window with room, else the
// earliest later that day.
func (s *State) firstComeAt(now time.Time, d *day, b *Booking, c *slotsMemo) (placement, bool) {
	r, _ := s.cfg.Route(b.Route)
	if p, ok, _ := s.find(d, b.Operator, r, b.PartySize, c.candidates(s, d, r, b.Window, now)); ok {
		return p, true
	}
	p, ok, _ := s.find(d, b.Operator, r, b.PartySize, c.candidates(s, d, r, Window{From: 0, To: dayMinutes}, now))
	return p, ok
}

// slotsMemo keeps the candidate slots (State.candidates) of one re-plan of
// one day at one time, by route and window: they do not change while the
// re-plan tries its outcomes.
type slotsMemo struct {
	m map[slotsKey][]int
}

type slotsKey struct {
	route string
	w     Window
}

func (c *slotsMemo) candidates(s *State, d *day, r *Route, w Window, now time.Time) []int {
	k := slotsKey{r.ID, w}
	if out, ok := c.m[k]; ok {
		return out
	}
	if c.m == nil {
		c.m = map[slotsKey][]int{}
	}
	out := s.candidates(d, r, w, now)
	c.m[k] = out
	return out
}

// firstCome is the first-come outcome: the hit bookings in slot order,
// each where firstComeAt puts it. Day d is left as it was.
func (s *State) firstCome(now time.Time, d *day, hit []*Booking, c *slotsMemo) *replanOutcome {
	o := newOutcome(hit)
	for i, b := range hit {
		if p, ok := s.firstComeAt(now, d, b, c); ok {
			s.keep(d, o, i, p)
		}
	}
	return s.settle(d, o)
}

// fromPlan is the planner's outcome, checked: each placement in the plan's
// order (slot, gate, id) must be at a gate of the route, at a wave not yet
// over, with room; what the plan leaves out or places where it does not
// fit gets the first-come rule on what is left; then a group kept outside
// its window moves to the earliest wave in its window with room. Day d is
// left as it was.
func (s *State) fromPlan(now time.Time, d *day, hit []*Booking, res PlanResult, c *slotsMemo) *replanOutcome {
	o := newOutcome(hit)
	index := make(map[string]int, len(hit))
	for i, b := range hit {
		index[b.ID] = i
	}
	for _, p := range res.Placed {
		i, ok := index[p.ID]
		if !ok || o.kept[i] {
			continue
		}
		b := hit[i]
		r, _ := s.cfg.Route(b.Route)
		g, ok := s.cfg.Gate(p.Gate)
		if !ok || !slices.Contains(r.Gates, p.Gate) || !slices.Contains(c.candidates(s, d, r, Window{From: 0, To: dayMinutes}, now), p.Minute) {
			continue
		}
		if room, _ := s.room(d, b.Operator, r, g, p.Minute); room >= b.PartySize {
			s.keep(d, o, i, placement{p.Gate, p.Minute})
		}
	}
	for i, b := range hit {
		if o.kept[i] {
			continue
		}
		if p, ok := s.firstComeAt(now, d, b, c); ok {
			s.keep(d, o, i, p)
		}
	}
	for i, b := range hit {
		if !o.kept[i] || b.Window.From <= o.at[i].minute && o.at[i].minute < b.Window.To {
			continue
		}
		was := o.at[i]
		s.drop(d, o, i)
		r, _ := s.cfg.Route(b.Route)
		if p, ok, _ := s.find(d, b.Operator, r, b.PartySize, c.candidates(s, d, r, b.Window, now)); ok {
			s.keep(d, o, i, p)
		} else {
			s.keep(d, o, i, was)
		}
	}
	return s.settle(d, o)
}

// ReplanRequests are the planner's requests for a whole-day re-plan of
// date: every active booking with nobody admitted yet (its current slot as
// the preferred start) and every booking a closure cancelled. closed names
// the latter.
func (s *State) ReplanRequests(date string) (reqs []PlanRequest, closed map[string]bool) {
	closed = map[string]bool{}
	for _, b := range s.Bookings("", date) {
		byClosure := b.Status == StatusCancelled && strings.HasPrefix(b.Reason, closureReasonPrefix)
		if !(b.Active() && b.Admitted == 0) && !byClosure {
			continue
		}
		closed[b.ID] = byClosure
		slot := b.Slot.In(s.cfg.Location())
		reqs = append(reqs, PlanRequest{ID: b.ID, Operator: b.Operator, Route: b.Route, PartySize: b.PartySize,
			Window: b.Window, Preferred: slot.Hour()*60 + slot.Minute()})
	}
	return reqs, closed
}
