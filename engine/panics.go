package engine

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tafweej/tafweej/scheduler"
)

// No panic reaches a user or the process. The owner loop recovers a panic
// of each command it applies, answers that caller with an *InternalError
// and commits nothing of the command: the scheduler state may hold half
// of it, so the turn is rolled back as a failed commit rolls it back (the
// state is rebuilt from the store) and the turn's other commands are
// applied again on the rebuilt state. A panicking read is answered the
// same way; reads change nothing, so nothing is rolled back. The planner
// of a planned day, the publication of events and the adapters' handlers
// (HTTP, NATS) recover the same way, through Panics: each recovered panic
// is logged with its stack under an id, the id is what the caller is told,
// and tafweej_panics_total{where} counts it.

// ErrInternal is matched (errors.Is) by an *InternalError.
var ErrInternal = errors.New("engine: internal error")

// InternalError is the answer to a command or read that panicked: nothing
// of it was applied. ID names the panic in the log.
type InternalError struct {
	ID    string
	Where string
}

func (e *InternalError) Error() string {
	return fmt.Sprintf("engine: internal error %s in %s (logged with its stack); nothing of the command was applied", e.ID, e.Where)
}

// Is makes errors.Is(err, ErrInternal) hold.
func (e *InternalError) Is(target error) bool { return target == ErrInternal }

// Panics logs and counts recovered panics. The engine has one (Engine.Panics)
// that the adapters share, so that one metric counts them all.
type Panics struct {
	log   *slog.Logger
	total *prometheus.CounterVec // where
}

// NewPanics returns a Panics that logs to log (nil: nowhere) and counts in
// reg (nil: not exported). A second Panics on the same registry shares the
// first one's counter.
func NewPanics(log *slog.Logger, reg prometheus.Registerer) *Panics {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Panics{log: log, total: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tafweej_panics_total",
		Help: "Panics recovered, by where (engine, read, planner, publish, allot, outbox, http, nats_scan, nats_alert, nats_counter): each was answered with an internal error and logged with its stack; the service went on."},
		[]string{"where"})}
	if reg != nil {
		if err := reg.Register(p.total); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				panic(err)
			}
			if old, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				p.total = old
			}
		}
	}
	for _, w := range panicSites {
		p.total.WithLabelValues(w) // a series at zero from the start
	}
	return p
}

// panicSites are the places that recover panics (the where label).
var panicSites = []string{"engine", "read", "planner", "publish", "allot", "outbox", "http", "nats_scan", "nats_alert", "nats_counter"}

// Recovered logs v, a value recover returned, with the stack of the panic
// and counts it under where (a short constant: it is a label). It returns
// the panic's id, for the answer to the caller. Call it from the deferred
// function that recovered, so that the stack is the panic's.
func (p *Panics) Recovered(where string, v any) (id string) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	id = "panic-" + hex.EncodeToString(b[:])
	p.total.WithLabelValues(where).Inc()
	p.log.Error("panic recovered; answered with an internal error", "where", where, "id", id,
		"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	return id
}

// Panics is the engine's panic recorder, for the adapters' handlers.
func (e *Engine) Panics() *Panics { return e.panics }

// apply applies one command, recovering a panic as an *InternalError.
func (e *Engine) apply(now time.Time, cmd scheduler.Command) (res scheduler.Result, effects []scheduler.Effect, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &InternalError{ID: e.panics.Recovered("engine", v), Where: fmt.Sprintf("command %T", cmd)}
		}
	}()
	if e.applyFn != nil {
		res, effects = e.applyFn(e.state, now, cmd)
	} else {
		res, effects = e.state.Apply(now, cmd)
	}
	return res, effects, nil
}

// read runs a read, recovering a panic as an *InternalError.
func (e *Engine) read(fn func(*scheduler.State, time.Time), now time.Time) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &InternalError{ID: e.panics.Recovered("read", v), Where: "read"}
		}
	}()
	fn(e.state, now)
	return nil
}

// rollback ends a turn in which the command batch[bad] panicked: that call
// is answered with err, the state is rebuilt from the store (dropping
// whatever the turn changed in memory), and the turn's other calls, reads
// included (they run only on committed state), are applied again in a new
// turn.
func (e *Engine) rollback(batch []*call, results []reply, bad int, err error) {
	e.log.Error("command panicked; rolling back the turn", "err", err, "calls", len(batch))
	e.drainPipe() // the turns before it are finished first (pipeline.go)
	if rerr := e.reload(); rerr != nil {
		e.log.Error("reload after a panicking command", "err", rerr)
	}
	var rest []*call
	for i, c := range batch {
		switch {
		case i == bad:
			if c.reply != nil {
				c.reply <- reply{err: err}
			}
		default:
			rest = append(rest, c)
		}
	}
	if len(rest) == 0 {
		return
	}
	e.turn(rest)
}

// publish publishes one event, recovering a panic of the publisher.
func (e *Engine) publish(ev scheduler.Event) {
	defer func() {
		if v := recover(); v != nil {
			e.panics.Recovered("publish", v)
		}
	}()
	e.opts.Publish(ev)
}

// plan runs the day planner, turning a panic into an error (the caller
// then allots first come).
func (e *Engine) plan(inst scheduler.Instance) (res scheduler.PlanResult, err error) {
	return e.planWith(inst, e.opts.Plan)
}

// planWith is plan with the planner's options given (a re-plan's budget).
func (e *Engine) planWith(inst scheduler.Instance, opts scheduler.PlanOptions) (res scheduler.PlanResult, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &InternalError{ID: e.panics.Recovered("planner", v), Where: "the day planner"}
		}
	}()
	if e.planFn != nil {
		return e.planFn(inst, opts)
	}
	return scheduler.PlanInstance(inst, opts)
}

// recoverAllot recovers a panic while the owner loop looks for the planned
// days due (allotDue): the loop goes on, and a later tick tries again.
func (e *Engine) recoverAllot() {
	if v := recover(); v != nil {
		e.panics.Recovered("allot", v)
	}
}
