package engine

import (
	"context"
	"slices"
	"time"

	"github.com/tafweej/tafweej/scheduler"
)

// Re-plans off the owner loop (scheduler/replan_offloop.go).
//
// A Close, Alert or CutCapacity that hits bookings puts its closure or cut
// in force in its own turn (gates refuse entry into a closed zone, a cut's
// lower capacity refuses new bookings, from that turn on) and records it
// as applying: that record is the durable intent. Moving the bookings it
// hits is deferred. After the turn, the loop takes the re-plan's jobs
// (State.ReplanJobs: one planning instance a date, pure data, the budget
// of Options.ReplanBudget shared between the dates) and one goroutine
// plans them one after another, off the loop, sending each date's plan
// back as an ApplyReplan command; the loop applies it in a turn of its own
// against the state as it then is (each placement checked again, first
// come for what no longer fits), writes its records synced like any
// turn's, and serves scans and bookings between those turns. The caller of
// the Close, Alert or CutCapacity is answered when the re-plan is whole
// (bigturn.go holds it), with the closure or cut and its counts.
//
// A plan that cannot be made (the planner failed or panicked) is sent as
// an ApplyReplan without a plan: first come. A date whose ApplyReplan is
// not written (a store failure) is rolled back like any turn; once the
// goroutine is done and the steps are no longer paused (the next tick),
// the loop takes new jobs for what is left. If a closure or cut is still
// applying after replanTries runs (it cannot be, but never wait forever),
// the loop finishes it in steps (ApplyStep), as without this. A crash
// leaves the closure or cut recorded as applying: at start, reload queues
// it again (resumeSteps) and the loop takes the jobs of what is left.

// replanTries is how many off-loop runs a closure or cut gets before the
// loop finishes it in steps.
const replanTries = 3

// replanner is the engine's part of off-loop re-plans (owned by the run
// goroutine).
type replanner struct {
	running map[scheduler.ApplyStep]bool // a goroutine is planning its jobs
	tries   map[scheduler.ApplyStep]int  // off-loop runs started
}

// offLoop reports whether closures and cuts are re-planned off the loop.
func (e *Engine) offLoop() bool { return e.opts.ReplanBudget >= 0 }

// replanBusy reports whether st is left to an off-loop re-plan (running,
// or to start), so that the loop does not step it.
func (e *Engine) replanBusy(st scheduler.ApplyStep) bool {
	return e.offLoop() && (e.replans.running[st] || e.replans.tries[st] < replanTries)
}

// startReplans starts the off-loop re-plan of every closure or cut being
// applied that has none running (after each turn).
func (e *Engine) startReplans(ctx context.Context) {
	for st := range e.replans.tries {
		if !e.replans.running[st] && !slices.Contains(e.steps.queue, st) {
			delete(e.replans.tries, st) // whole
		}
	}
	if !e.offLoop() || e.steps.paused || len(e.steps.queue) == 0 {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			e.panics.Recovered("replan", v)
		}
	}()
	if e.replans.running == nil {
		e.replans.running = map[scheduler.ApplyStep]bool{}
		e.replans.tries = map[scheduler.ApplyStep]int{}
	}
	for _, st := range e.steps.queue {
		if e.replans.running[st] || e.replans.tries[st] >= replanTries {
			continue
		}
		now := e.clock.Now()
		start := time.Now()
		jobs, err := e.state.ReplanJobs(now, st, e.opts.ReplanBudget)
		if err != nil {
			e.log.Error("re-plan: no jobs; finishing in steps", "closure", st.Closure, "cut", st.Cut, "err", err)
			e.replans.tries[st] = replanTries
			continue
		}
		e.replans.running[st] = true
		e.replans.tries[st]++
		groups := 0
		for _, j := range jobs {
			groups += j.Groups
		}
		e.log.Info("re-plan off the loop: started", "closure", st.Closure, "cut", st.Cut, "dates", len(jobs), "bookings", groups,
			"jobs_taken_in", time.Since(start).Round(time.Microsecond))
		go e.runReplan(ctx, st, jobs)
	}
}

// runReplan plans jobs one after another and sends each plan to the loop;
// it runs on a goroutine of its own.
func (e *Engine) runReplan(ctx context.Context, st scheduler.ApplyStep, jobs []scheduler.ReplanJob) {
	start := time.Now()
	// An ApplyReplan of no date drops what is no longer hit: it makes a
	// closure or cut with nothing left to re-plan whole.
	if len(jobs) == 0 {
		jobs = []scheduler.ReplanJob{{Step: st}}
	}
jobs:
	for _, j := range jobs {
		var plan *scheduler.PlanResult
		if j.Err == nil && j.Date != "" {
			t0 := time.Now()
			p, err := e.planWith(j.Instance, j.Options)
			if err != nil {
				e.log.Error("re-plan: no plan for a date; first come", "closure", st.Closure, "cut", st.Cut, "date", j.Date, "err", err)
			} else {
				plan = &p
				e.log.Debug("re-plan: date planned", "date", j.Date, "groups", j.Groups, "iterations", j.Options.Iterations, "took", time.Since(t0).Round(time.Millisecond))
			}
		}
		// At most j.Max bookings a turn (a few steps of Options.ReplanStep,
		// ReplanJobs decides): a date with more takes more commands with
		// the same plan, each checked against first come on its own (a
		// date of a real site is one command).
		for range j.Parts() {
			res, err := e.Do(ctx, scheduler.ApplyReplan{Step: st, Date: j.Date, Plan: plan, Max: j.Max})
			if err != nil {
				e.log.Error("re-plan: a date not applied; taken again later", "closure", st.Closure, "cut", st.Cut, "date", j.Date, "err", err)
				if ctx.Err() != nil {
					return // the engine stops
				}
				break
			}
			if res.Err != nil {
				break jobs // the closure or cut is gone: nothing left to do
			}
		}
	}
	// Back on the loop: the next turn may start another run if the
	// closure or cut is still applying.
	e.onLoop(ctx, func() {
		delete(e.replans.running, st)
		e.log.Info("re-plan off the loop: done", "closure", st.Closure, "cut", st.Cut, "took", time.Since(start).Round(time.Millisecond))
	})
}

// onLoop runs fn on the owner goroutine, after the current turn.
func (e *Engine) onLoop(ctx context.Context, fn func()) {
	_ = e.Read(ctx, func(*scheduler.State, time.Time) { fn() })
}

// stepOf is the closure or cut a command applies a part of: an ApplyStep
// or an ApplyReplan.
func stepOf(cmd scheduler.Command) (scheduler.ApplyStep, bool) {
	switch c := cmd.(type) {
	case scheduler.ApplyStep:
		return c, true
	case scheduler.ApplyReplan:
		return c.Step, true
	}
	return scheduler.ApplyStep{}, false
}

// steppable lists the queued closures and cuts the loop steps itself.
func (e *Engine) steppable() []scheduler.ApplyStep {
	return slices.DeleteFunc(slices.Clone(e.steps.queue), e.replanBusy)
}
