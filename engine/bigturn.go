package engine

import (
	"errors"
	"slices"
	"time"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// Big turns: a closure or capacity cut of any size, and turns too big for
// one store transaction.
//
// By default (Options.ReplanBudget ≥ 0) a closure or cut is re-planned off
// the loop (replan.go), in the same frame as below: in force at once,
// recorded as applying, its callers held until whole, resumed after a
// restart. The steps below are then its fallback, used if the off-loop
// runs leave it applying.
//
// A closure (or cut) that hits more bookings than Options.ReplanStep is
// applied in steps (scheduler/stepped.go). Its own command puts it in force
// at once and records it as applying: that turn's write is the intent, and
// nothing of the re-plan is written before it is durable. Then the loop
// runs one ApplyStep every other turn (every turn when nothing else is
// waiting) until the scheduler reports it whole; each step's records are
// one synced write, like any turn's, so scans and bookings are answered
// between steps. The caller of the Close, Alert or CutCapacity is answered
// when the re-plan is whole, with the closure as it then is; until then
// the closure shows "applying": true in GET /v1/closures (a caller that
// stops waiting can follow it there). If a step cannot be written, the
// turn is rolled back like any other and the steps resume at the next
// tick. At start, reload finds the closures and cuts still recorded as
// applying and the loop finishes them; the scheduler rebuilds what is left
// from the bookings, so a booking moved before a crash is not moved again.
//
// Any turn whose records are too big for one transaction (store.ErrTooBig)
// is split between its calls, halving and keeping their order, so that a
// call too big on its own fails alone and the others are written.

// stepper is the engine's part of stepped re-plans.
type stepper struct {
	queue  []scheduler.ApplyStep           // unfinished, served round robin
	held   map[scheduler.ApplyStep][]*call // callers answered when whole
	paused bool                            // a step failed to be written: wait for a tick
	last   bool                            // the last turn had a step
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// stepReady is ready when a step is due: the loop then runs a turn even if
// no call waits.
func (e *Engine) stepReady() <-chan struct{} {
	if len(e.steppable()) == 0 || e.steps.paused {
		return nil
	}
	return closedChan
}

// addStep adds the next step due to the batch, if any.
func (e *Engine) addStep(batch []*call) []*call {
	for _, c := range batch {
		if _, ok := c.cmd.(scheduler.Tick); ok {
			e.steps.paused = false
		}
	}
	due := e.steppable() // those re-planned off the loop are not stepped
	if len(due) == 0 || e.steps.paused {
		return batch
	}
	// Calls waiting after a step get a turn of their own: a scan waits
	// for at most one step's turn before its own.
	if len(batch) > 0 && e.steps.last {
		e.steps.last = false
		return batch
	}
	e.steps.last = true
	next := due[0]
	e.steps.queue = append(slices.DeleteFunc(e.steps.queue, func(q scheduler.ApplyStep) bool { return q == next }), next)
	return append(batch, &call{cmd: next})
}

// resumeSteps queues the closures and cuts the state has as applying (after
// each reload: at start, and after a failed write).
func (e *Engine) resumeSteps() {
	closures, cuts := e.state.Applying()
	var q []scheduler.ApplyStep
	for _, id := range closures {
		q = append(q, scheduler.ApplyStep{Closure: id})
	}
	for _, id := range cuts {
		q = append(q, scheduler.ApplyStep{Cut: id})
	}
	if len(q) > 0 {
		e.log.Info("closures or capacity cuts recorded as applying: finishing them", "closures", closures, "cuts", cuts)
	}
	e.steps.queue = q
	// A caller held for one no longer applying (it cannot be, but never
	// leave one waiting) is answered with what the state has.
	for st := range e.steps.held {
		if !slices.Contains(q, st) {
			e.release(st, e.stepResult(st))
		}
	}
}

// stepResult is the closure or cut of st as the state has it now.
func (e *Engine) stepResult(st scheduler.ApplyStep) reply {
	res, _ := e.state.Apply(e.clock.Now(), st) // whole: no effects
	return reply{res: res}
}

// hold keeps the reply of a Close, Alert or CutCapacity whose re-plan goes
// on in steps, to answer it when whole.
func (e *Engine) hold(c *call, r reply) bool {
	if r.err != nil || r.res.Err != nil {
		return false
	}
	var st scheduler.ApplyStep
	switch c.cmd.(type) {
	case scheduler.Close, scheduler.Alert:
		if r.res.Closure == nil || !r.res.Closure.Applying {
			return false
		}
		st.Closure = r.res.Closure.ID
	case scheduler.CutCapacity:
		if r.res.Cut == nil || !r.res.Cut.Applying {
			return false
		}
		st.Cut = r.res.Cut.ID
	default:
		return false
	}
	if e.steps.held == nil {
		e.steps.held = map[scheduler.ApplyStep][]*call{}
	}
	e.steps.held[st] = append(e.steps.held[st], c)
	if !slices.Contains(e.steps.queue, st) {
		e.steps.queue = append(e.steps.queue, st)
	}
	e.log.Info("applying in steps", "closure", st.Closure, "cut", st.Cut)
	return true
}

// stepped notes the outcome of the steps of a turn: a step not written
// pauses the steps until the next tick; a step that made its closure or
// cut whole ends it and answers its callers.
func (e *Engine) stepped(batch []*call, results []reply) {
	for i, c := range batch {
		st, ok := stepOf(c.cmd)
		if !ok {
			continue
		}
		r := results[i]
		if r.err != nil {
			e.log.Error("step not written; steps resume at the next tick", "closure", st.Closure, "cut", st.Cut, "err", r.err)
			e.steps.paused = true
			continue
		}
		whole := r.res.Err != nil ||
			r.res.Closure != nil && !r.res.Closure.Applying ||
			r.res.Cut != nil && !r.res.Cut.Applying
		if whole {
			e.steps.queue = slices.DeleteFunc(e.steps.queue, func(q scheduler.ApplyStep) bool { return q == st })
			e.log.Info("applied in steps: whole", "closure", st.Closure, "cut", st.Cut)
			e.release(st, r)
		}
	}
}

// release answers the callers held for st.
func (e *Engine) release(st scheduler.ApplyStep, r reply) {
	for _, c := range e.steps.held[st] {
		c.reply <- r
	}
	delete(e.steps.held, st)
}

// commit writes the records of a turn, synced. It returns nil if all are
// durable, else the error of each call (by index) whose records are not: a
// write too big for one transaction is split between calls.
func (e *Engine) commit(records [][]scheduler.Effect, outs [][]store.WebhookDelivery) []error {
	idx := make([]int, 0, len(records))
	for i, r := range records {
		if len(r) > 0 || i < len(outs) && len(outs[i]) > 0 {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil
	}
	errs := make([]error, len(records))
	failed := e.commitCalls(records, outs, idx, errs)
	if !failed {
		return nil
	}
	return errs
}

// commitCalls writes the records of calls idx in one write or, if that is
// too big, in halves; it sets errs for the calls not written and reports
// whether there were any.
func (e *Engine) commitCalls(records [][]scheduler.Effect, outs [][]store.WebhookDelivery, idx []int, errs []error) bool {
	var all []scheduler.Effect
	var out []store.WebhookDelivery
	for _, i := range idx {
		all = append(all, records[i]...)
		if i < len(outs) {
			out = append(out, outs[i]...)
		}
	}
	start := time.Now()
	err := e.write(all, out)
	e.m.storeWrite(time.Since(start), len(all), err)
	if err == nil {
		return false
	}
	if errors.Is(err, store.ErrTooBig) && len(idx) > 1 {
		e.log.Warn("turn too big for one write: splitting it between its commands", "commands", len(idx), "records", len(all))
		h := len(idx) / 2
		a := e.commitCalls(records, outs, idx[:h], errs)
		b := e.commitCalls(records, outs, idx[h:], errs)
		return a || b
	}
	e.log.Error("store commit failed; rolling the commands back", "err", err, "commands", len(idx), "records", len(all))
	for _, i := range idx {
		errs[i] = err
	}
	return true
}
