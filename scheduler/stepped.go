package scheduler

import (
	"maps"
	"slices"
	"time"
)

// Stepped re-plans: a closure or capacity cut of any size.
//
// A closure (or a cut) that hits more bookings than one step takes
// (SetReplanStep) is not re-planned by the command that makes it: that
// would be one turn of the owner loop lasting seconds and one write too
// big for a store transaction. Instead the command
//
//  1. puts the closure in force at once, in memory (admissions and
//     allotment see it from this command on), and records it with
//     Applying set: its PutClosure (PutCut) effect is the intent, made
//     durable before anything else;
//  2. queues the hit bookings (slot order);
//
// and each ApplyStep then re-plans at most one step of them, on one date,
// as replanDate does (the planner with a small budget, then the better of
// its outcome and first come), checking again that each is still hit (a
// booking cancelled, admitted or moved since is left alone). The step that
// empties the queue records the closure with Applying cleared, in the same
// effects (every step records it with its counts so far). The caller of ApplyStep (the engine) writes each step's records
// in one synced batch, like any command's, and keeps serving other
// commands between steps.
//
// Recovery: the queue is derived, never stored. After Restore, a closure
// recorded as Applying gets its queue rebuilt from the bookings on its
// first ApplyStep: the bookings already moved no longer meet the closure
// (they were moved off it, or cancelled), so they are not hit again and
// never moved twice; those not yet moved are. A cut's queue is rebuilt the
// same way from the buckets still over it. Applying lists what is left to
// drive.
//
// A step re-plans a slice of a date's hit bookings against what the
// earlier steps left: the outcome is a valid re-plan (every placement
// checked against room), but not the one a single pass over the whole date
// would choose. Closures small enough for one step are re-planned in one
// pass, as before.

// DefaultReplanStep is a sensible step size: about 50 KB of records and
// 10 to 40 ms of the owner loop a step on a busy 2-core machine (a step
// turn and the turn after it stay under 100 ms, the bound on a scan's
// answer while a closure applies).
const DefaultReplanStep = 128

// replanStepIterations bounds the planner's budget in one step (about
// 1.7 µs an iteration), so that a step stays short.
const replanStepIterations = replanMinIterations

// ApplyStep re-plans the next step of a closure or capacity cut recorded
// as applying: exactly one of Closure and Cut names it. Applied to one
// that is whole, it changes nothing.
type ApplyStep struct {
	Closure string
	Cut     string
}

func (ApplyStep) isCommand() {}

// stepQueue is what is left of a stepped re-plan: the hit bookings not yet
// re-planned, in slot order then by id.
type stepQueue struct {
	ids []string
}

// SetReplanStep sets the most bookings a closure or cut re-plans in one
// command; one that hits more is applied in steps (ApplyStep). Zero or
// less: never in steps (the default).
func (s *State) SetReplanStep(n int) { s.stepSize = max(n, 0) }

// Applying lists the closures and capacity cuts recorded as applying, by
// id: each needs ApplyStep until its Applying is cleared.
func (s *State) Applying() (closures, cuts []string) {
	for _, id := range slices.Sorted(maps.Keys(s.closures)) {
		if s.closures[id].Applying {
			closures = append(closures, id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s.cuts)) {
		if s.cuts[id].Applying {
			cuts = append(cuts, id)
		}
	}
	return closures, cuts
}

func (s *State) stepped(hit []*Booking) bool {
	return s.offLoop && len(hit) > 0 || s.stepSize > 0 && len(hit) > s.stepSize
}

func closureStepKey(id string) string { return "closure\x00" + id }
func cutStepKey(id string) string     { return "cut\x00" + id }

func (s *State) queue(key string, hit []*Booking) {
	if s.steps == nil {
		s.steps = map[string]*stepQueue{}
	}
	q := &stepQueue{ids: make([]string, len(hit))}
	for i, b := range hit {
		q.ids[i] = b.ID
	}
	s.steps[key] = q
}

func (s *State) queueClosure(cl *Closure, hit []*Booking) { s.queue(closureStepKey(cl.ID), hit) }
func (s *State) queueCut(cu *CapacityCut, hit []*Booking) { s.queue(cutStepKey(cu.ID), hit) }

func (s *State) applyStep(now time.Time, c ApplyStep) (Result, []Effect) {
	t, res := s.replanTarget(c)
	if t == nil {
		return res, nil
	}
	effects, counts, done := s.step(now, t.key, t.reason, t.still)
	// Each step records the closure or cut with its counts so far, in the
	// same batch as the bookings it moved.
	res, rec := t.progress(counts, done)
	return res, append(effects, rec)
}

// replanTarget is a closure or capacity cut recorded as applying, as its
// re-plan sees it: its queue (rebuilt from the bookings if missing), the
// reason given to the bookings it moves, and which bookings it still hits.
type replanTarget struct {
	key, reason string
	still       func(*day, *Booking) bool
	// progress adds counts to the closure's or cut's, clears Applying if
	// done, and returns it as the result and the record to write.
	progress func(counts ReplanCounts, done bool) (Result, Effect)
}

// replanTarget is the target of c; nil if c names none being applied,
// with the result to answer (a refusal, or the closure or cut as it is).
func (s *State) replanTarget(c ApplyStep) (*replanTarget, Result) {
	switch {
	case (c.Closure == "") == (c.Cut == ""):
		return nil, Result{Err: errorf(CodeInvalid, "closure", "a step names exactly one of a closure and a capacity cut")}
	case c.Closure != "":
		cl, ok := s.closures[c.Closure]
		if !ok {
			return nil, Result{Err: errorf(CodeNotFound, "closure", "no closure %q", c.Closure)}
		}
		if !cl.Applying {
			out := *cl
			return nil, Result{Closure: &out}
		}
		key := closureStepKey(cl.ID)
		if s.steps[key] == nil {
			s.queueClosure(cl, s.hitBy(cl))
		}
		from, until := s.blockSpan(cl)
		return &replanTarget{key: key, reason: closureReasonPrefix + cl.Reason,
			still: func(_ *day, b *Booking) bool { return s.hits(cl, from, until, b) },
			progress: func(counts ReplanCounts, done bool) (Result, Effect) {
				cl.Replanned.add(counts)
				if done {
					cl.Applying = false
				}
				out := *cl
				return Result{Closure: &out}, PutClosure{*cl}
			}}, Result{}
	default:
		cu, ok := s.cuts[c.Cut]
		if !ok {
			return nil, Result{Err: errorf(CodeNotFound, "cut", "no capacity cut %q", c.Cut)}
		}
		if !cu.Applying {
			out := *cu
			return nil, Result{Cut: &out}
		}
		key := cutStepKey(cu.ID)
		if s.steps[key] == nil {
			var hit []*Booking
			for _, date := range slices.Sorted(maps.Keys(s.days)) {
				d := s.days[date]
				if s.at(d, 0).Before(cu.Until) && s.at(d, dayMinutes).After(cu.From) {
					hit = append(hit, s.overCut(d, cu)...)
				}
			}
			s.queueCut(cu, hit)
		}
		var (
			over map[int]bool
			of   *day
		)
		return &replanTarget{key: key, reason: cutReasonPrefix + cu.Reason,
			still: func(d *day, b *Booking) bool {
				if of != d {
					of, over = d, s.overBuckets(d, cu)
				}
				return s.overBy(d, cu, over, b)
			},
			progress: func(counts ReplanCounts, done bool) (Result, Effect) {
				cu.Replanned.add(counts)
				if done {
					cu.Applying = false
				}
				out := *cu
				return Result{Cut: &out}, PutCut{*cu}
			}}, Result{}
	}
}

// step re-plans the next bookings of queue key: up to stepSize of them, all
// of the date of the first, those still hit (by still). It reports whether
// the queue is now empty (and drops it).
func (s *State) step(now time.Time, key, reason string, still func(*day, *Booking) bool) ([]Effect, ReplanCounts, bool) {
	q := s.steps[key]
	var (
		date string
		d    *day
		hit  []*Booking
		n    int // ids taken off the queue
	)
	// The queue is in slot order, so a date's bookings are (almost always)
	// together: a step takes the run of the first one's date.
	for _, id := range q.ids {
		b, _ := s.bookings.get(id)
		if b != nil && date == "" {
			date = b.Date
			d, _ = s.day(date)
		}
		if b != nil && b.Date != date || s.stepSize > 0 && n >= s.stepSize {
			break
		}
		n++
		if b != nil && d != nil && still(d, b) {
			hit = append(hit, b)
		}
	}
	q.ids = q.ids[n:]
	var effects []Effect
	var counts ReplanCounts
	if len(hit) > 0 {
		effects, counts = s.replanDateWith(now, date, hit, reason, min(replanIterations(len(hit)), replanStepIterations))
	}
	if len(q.ids) == 0 {
		delete(s.steps, key)
		return effects, counts, true
	}
	return effects, counts, false
}
