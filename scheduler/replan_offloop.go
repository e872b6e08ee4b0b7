package scheduler

import (
	"time"
)

// Re-plans off the owner loop.
//
// The planner is the slow part of a closure's or cut's re-plan (seconds
// for a week of full days), and Apply runs on the goroutine that owns the
// state, which must keep answering scans. With SetReplanOffLoop, a Close,
// Alert or CutCapacity that hits any booking does not re-plan it: as for a
// re-plan in steps (stepped.go) the closure or cut is in force at once
// (admissions and allotment see it from this command on) and is recorded
// with Applying set, which is the durable intent; its hit bookings are
// queued. The re-plan is then driven from outside, in three parts:
//
//  1. ReplanJobs, on the owner goroutine, takes what is to re-plan as pure
//     data: for each date of the queue with bookings still hit, the
//     planner's instance (the day's remaining capacity with the hit
//     bookings lifted off, as replanDate builds it) and that date's share
//     of one budget of iterations for the whole re-plan (shares in
//     proportion to the date's groups, each at least replanMinIterations
//     and at most what replanDate gives as many groups in the loop). The
//     instance shares nothing with the state.
//  2. PlanInstance runs on any goroutine, on each job in turn.
//  3. ApplyReplan, on the owner goroutine, applies one date's plan (or
//     its next Max bookings) against the state as it is then. Bookings made, cancelled, admitted or moved
//     since the job was taken are accounted for: only the queued bookings
//     still hit are re-planned, every placement of the plan is checked
//     again against the room left (fromPlan), a booking whose placement no
//     longer fits gets the first-come rule on what is left, and the better
//     of that outcome and plain first come is applied (replanDatePlan), so
//     nothing is put over capacity and a hit booking is moved, left where
//     it is, or cancelled with an event. Then the queue drops those and
//     every booking no longer hit; the ApplyReplan that empties it clears
//     Applying, in the same records as the bookings it moved.
//
// The planner's plan is deterministic (its budget is a count, it is seeded
// from the instance), but what ApplyReplan makes of it depends on what
// happened meanwhile. A plan that never comes (the planner failed) is an
// ApplyReplan with no plan: first come. ApplyStep still works on a
// closure or cut being applied this way and is the fallback: it re-plans
// the next step of the queue in the loop, with the small budget of a step.
//
// Recovery is that of the steps: after a crash between the closure's
// record and the last ApplyReplan, the closure or cut is recorded as
// applying, Applying lists it, its queue is rebuilt from the bookings
// (those moved before the crash are no longer hit), and ReplanJobs takes
// what is left.

// DefaultReplanBudget is the planner's budget of iterations for the whole
// re-plan of one closure or cut, shared between its dates: about 35 ms of
// an idle core (some 1.7 µs an iteration). One date gets what the visitors
// kept need (they stop growing at about 20,000 iterations on a closure of
// a full day, see replan.go); a week of full dates some 3,000 each, more
// than a step in the loop had (replanStepIterations). The planner runs off
// the loop but on the same cores: on a 2-core machine a bigger budget
// costs the scans answered meanwhile (tafweej bench, "scans during a 7-day
// cut": with 140,000, the cut took 6-9 s and scan p99 was 230-250 ms on a
// loaded machine; with 20,000, 0.7 s and 58 ms).
const DefaultReplanBudget = 20000

// SetReplanOffLoop makes every closure or capacity cut that hits a booking
// wait for ReplanJobs and ApplyReplan (or ApplyStep) to re-plan it,
// instead of re-planning it in the command that makes it.
func (s *State) SetReplanOffLoop(on bool) { s.offLoop = on }

// ReplanJob is the re-plan of one date of a closure or cut being applied,
// to plan on any goroutine: PlanInstance(Instance, Options), then Parts()
// times ApplyReplan{Step, Date, Plan, Max}. Err is set if the date's
// instance could not be built (a configuration changed under stored
// bookings): apply it with no plan.
type ReplanJob struct {
	Step     ApplyStep
	Date     string
	Groups   int // hit bookings to re-plan
	Instance Instance
	Options  PlanOptions
	Err      error
	// Max is the most bookings one ApplyReplan of the job re-plans
	// (ApplyReplan.Max): replanApplySteps steps of SetReplanStep; 0, all
	// of them in one.
	Max int
}

// replanApplySteps is how many steps of bookings (SetReplanStep) one
// ApplyReplan of a job re-plans at most: without the planner, which runs
// off the loop, a step's turn is short; with fewer bookings a command, a
// date's plan is applied in more parts, and loses visitors (each part is
// checked against first come alone).
const replanApplySteps = 4

// Parts is how many ApplyReplan of Max bookings the job takes (at least
// one): a date with more than Max takes more commands with the same plan.
func (j ReplanJob) Parts() int {
	if j.Max <= 0 {
		return 1
	}
	return max((j.Groups+j.Max-1)/j.Max, 1)
}

// ApplyReplan applies the plan of one date of a closure or cut being
// applied (Step names it, as for ApplyStep); Plan nil means no plan: the
// bookings still hit that date get the first-come rule. Applied to one
// that is whole, it changes nothing.
type ApplyReplan struct {
	Step ApplyStep
	Date string
	Plan *PlanResult
	// Max is the most bookings re-planned by this command (0: all those of
	// the date), the first in slot order: a date with more takes more
	// ApplyReplan of the same plan, each one write. The bookings of one
	// command are compared with first come among themselves.
	Max int
}

func (ApplyReplan) isCommand() {}

// ReplanJobs lists the jobs of the closure or cut st names, if it is being
// applied: one for each date whose queued bookings are still hit, in date
// order, with the date's share of budget iterations (0 or less:
// DefaultReplanBudget) and the most bookings an ApplyReplan of it takes
// (ReplanJob.Max, Parts). It changes nothing but the derived queue (rebuilt
// if missing). Errors are *Error: an unknown closure or cut, or a step
// naming neither or both.
func (s *State) ReplanJobs(now time.Time, st ApplyStep, budget int) ([]ReplanJob, error) {
	t, res := s.replanTarget(st)
	if t == nil {
		if res.Err != nil {
			return nil, res.Err
		}
		return nil, nil
	}
	if budget <= 0 {
		budget = DefaultReplanBudget
	}
	var dates []string
	byDate := map[string][]*Booking{}
	for _, id := range s.steps[t.key].ids {
		v, ok := s.bookings.peek(id) // a query: copies, nothing held
		if !ok {
			continue
		}
		b := &v
		d, err := s.day(b.Date)
		if err != nil || !t.still(d, b) {
			continue
		}
		if byDate[b.Date] == nil {
			dates = append(dates, b.Date)
		}
		byDate[b.Date] = append(byDate[b.Date], b)
	}
	groups := 0
	for _, hit := range byDate {
		groups += len(hit)
	}
	var jobs []ReplanJob
	for _, date := range dates {
		hit := byDate[date]
		j := ReplanJob{Step: st, Date: date, Groups: len(hit), Max: s.stepSize * replanApplySteps}
		j.Instance, j.Err = s.replanInstance(now, date, hit)
		share := int(int64(budget) * int64(len(hit)) / int64(groups))
		j.Options.Iterations = min(max(share, replanMinIterations), replanIterations(len(hit)))
		jobs = append(jobs, j)
	}
	return jobs, nil
}

func (s *State) applyReplan(now time.Time, c ApplyReplan) (Result, []Effect) {
	t, res := s.replanTarget(c.Step)
	if t == nil {
		return res, nil
	}
	q := s.steps[t.key]
	var hit []*Booking
	for _, id := range q.ids {
		b, ok := s.bookings.get(id)
		if !ok || b.Date != c.Date {
			continue
		}
		if d, err := s.day(b.Date); err == nil && t.still(d, b) {
			hit = append(hit, b)
		}
		if c.Max > 0 && len(hit) == c.Max {
			break
		}
	}
	done := make(map[string]bool, len(hit))
	for _, b := range hit {
		done[b.ID] = true
	}
	var effects []Effect
	var counts ReplanCounts
	if len(hit) > 0 {
		effects, counts = s.replanDatePlan(now, c.Date, hit, t.reason, c.Plan)
	}
	// The queue keeps the bookings still hit but for those just
	// re-planned (a cut's over buckets are computed again).
	t, _ = s.replanTarget(c.Step)
	left := q.ids[:0]
	for _, id := range q.ids {
		if done[id] {
			continue
		}
		v, ok := s.bookings.peek(id)
		if !ok {
			continue
		}
		b := &v
		if d, err := s.day(b.Date); err == nil && t.still(d, b) {
			left = append(left, id)
		}
	}
	clear(q.ids[len(left):])
	q.ids = left
	whole := len(q.ids) == 0
	if whole {
		delete(s.steps, t.key)
	}
	res, rec := t.progress(counts, whole)
	return res, append(effects, rec)
}
