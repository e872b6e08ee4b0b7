// Package engine is the owner loop: the one goroutine that owns the live
// scheduler state. Adapters (HTTP, NATS) send it commands; each turn it
// drains the pending commands, applies them to the scheduler, writes all
// their records to the store in one synced batch (group commit), and only
// then answers every caller and publishes the events. It is the only place
// that reads the clock.
package engine

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// ErrStopped is returned to callers once the engine has stopped.
var ErrStopped = errors.New("engine: stopped")

// ErrStore wraps a store failure: the command was not applied.
var ErrStore = errors.New("engine: store write failed")

// Options configures an Engine. Config and Store are required.
type Options struct {
	Config *scheduler.Config
	Store  store.Store
	// Clock is the time source; nil means the wall clock.
	Clock Clock
	// Publish is called with the events of a turn after its records are
	// durable, from the owner goroutine; it must not block for long.
	Publish func(scheduler.Event)
	Logger  *slog.Logger
	// Registerer receives the engine's metrics; nil means none.
	Registerer prometheus.Registerer
	// MaxBatch is the most commands applied in one turn (default 256).
	MaxBatch int
	// TickEvery is how often a Tick command is applied (default 5s of clock time).
	TickEvery time.Duration
	// Plan tunes the day planner that allots the requests of planned days
	// (zero: its defaults).
	Plan scheduler.PlanOptions
	// Space refuses commands while the disk is nearly full (space.go);
	// nil refuses none.
	Space SpaceGate
	// ReplanStep is the most bookings a closure or capacity cut re-plans in
	// one turn in the loop; one that hits more is applied in steps between
	// other commands (bigturn.go). Re-planned off the loop, a date's plan
	// is applied up to 4 steps at a time (replan.go). Zero means
	// scheduler.DefaultReplanStep; negative, never in steps.
	ReplanStep int
	// ReplanBudget is the planner's budget (iterations) for the re-plan of
	// one closure or capacity cut, shared between its dates; the re-plan
	// runs off the owner loop (replan.go). Zero means
	// scheduler.DefaultReplanBudget; negative, re-plan in the loop (in
	// steps beyond ReplanStep bookings), as before.
	ReplanBudget int
	// Outbox, if set, adds each turn's webhook deliveries to its synced
	// batch (see outbox.go); the Store must implement store.OutboxCommitter.
	Outbox Outbox
	// Pipeline is the most turns applied and not yet durable: the next
	// turn is applied while the last ones are written (pipeline.go). 1
	// writes each turn before the next is applied; zero means 1 (pipeline.go
	// has the figures).
	Pipeline int
}

// Engine owns the scheduler state.
type Engine struct {
	opts    Options
	cfg     *scheduler.Config
	st      store.Store
	clock   Clock
	log     *slog.Logger
	m       *metrics
	calls   chan *call
	stopped chan struct{}
	state   *scheduler.State // owned by the run goroutine
	// planning are the planned days whose requests are being planned
	// (owned by the run goroutine).
	planning map[string]bool
	// steps are the closures and cuts being applied in steps, held their
	// callers (both owned by the run goroutine; bigturn.go).
	steps stepper
	// replans are the closures and cuts being re-planned off the loop
	// (owned by the run goroutine; replan.go).
	replans replanner
	panics  *Panics
	// pipe holds the turns being written (owned by the run goroutine;
	// pipeline.go).
	pipe pipeline
	// applyFn and planFn replace State.Apply and PlanInstance in tests
	// (nil: those).
	applyFn func(*scheduler.State, time.Time, scheduler.Command) (scheduler.Result, []scheduler.Effect)
	planFn  func(scheduler.Instance, scheduler.PlanOptions) (scheduler.PlanResult, error)
}

type call struct {
	cmd   scheduler.Command
	read  func(*scheduler.State, time.Time)
	reply chan reply
	// applied, if set (DoPrepared), gets the result as soon as the command
	// is applied, before the turn is written (prepare.go).
	applied chan scheduler.Result
}

type reply struct {
	res scheduler.Result
	err error
}

// New loads the stored state and rebuilds the scheduler from it.
func New(opts Options) (*Engine, error) {
	if opts.Config == nil || opts.Store == nil {
		return nil, errors.New("engine: Config and Store are required")
	}
	if err := checkOutbox(opts); err != nil {
		return nil, err
	}
	if opts.Clock == nil {
		opts.Clock = WallClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.TickEvery <= 0 {
		opts.TickEvery = 5 * time.Second
	}
	if opts.Publish == nil {
		opts.Publish = func(scheduler.Event) {}
	}
	if opts.ReplanStep == 0 {
		opts.ReplanStep = scheduler.DefaultReplanStep
	}
	if opts.Pipeline <= 0 {
		opts.Pipeline = defaultPipeline
	}
	e := &Engine{
		opts:     opts,
		cfg:      opts.Config,
		st:       opts.Store,
		clock:    opts.Clock,
		log:      opts.Logger,
		m:        newMetrics(opts.Registerer),
		calls:    make(chan *call, 4096),
		stopped:  make(chan struct{}),
		planning: map[string]bool{},
		panics:   NewPanics(opts.Logger, opts.Registerer),
	}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(&stateCollector{e: e}, &overCollector{e: e})
	}
	if opts.Space != nil {
		prepareSpace(opts.Space)
	}
	start := time.Now()
	if err := e.reload(); err != nil {
		return nil, err
	}
	e.log.Info("state recovered", "bookings", e.state.BookingCount(), "took", time.Since(start).Round(time.Millisecond))
	e.reportOverCapacity()
	return e, nil
}

func (e *Engine) reload() error {
	s, err := e.restore()
	if err != nil {
		return err
	}
	s.SetReplanStep(e.opts.ReplanStep)
	s.SetReplanOffLoop(e.offLoop())
	e.state = s
	e.resumeSteps()
	return nil
}

// Now is the engine's clock.
func (e *Engine) Now() time.Time { return e.clock.Now() }

// Clock is the engine's time source.
func (e *Engine) Clock() Clock { return e.clock }

// Config is the site configuration.
func (e *Engine) Config() *scheduler.Config { return e.cfg }

// Do applies a command and returns its result once its records are durable.
// The error is non-nil only if the command could not be applied (engine
// stopped, store failure, disk nearly full: store.ErrInsufficientStorage,
// ctx done); a refusal is in Result.Err.
func (e *Engine) Do(ctx context.Context, cmd scheduler.Command) (scheduler.Result, error) {
	c := &call{cmd: cmd, reply: make(chan reply, 1)}
	return e.send(ctx, c)
}

// Read runs fn on the owner goroutine with the state and the current time.
// The state is committed: fn runs after the turn's records are durable (or
// rolled back), so it never sees a change that will not last. fn must not
// keep references into the state after it returns, nor modify it.
func (e *Engine) Read(ctx context.Context, fn func(s *scheduler.State, now time.Time)) error {
	c := &call{read: fn, reply: make(chan reply, 1)}
	_, err := e.send(ctx, c)
	return err
}

func (e *Engine) send(ctx context.Context, c *call) (scheduler.Result, error) {
	if err := e.enqueue(ctx, c); err != nil {
		return scheduler.Result{}, err
	}
	return e.await(ctx, c)
}

// enqueue queues c for the loop.
func (e *Engine) enqueue(ctx context.Context, c *call) error {
	select {
	case e.calls <- c:
		return nil
	case <-e.stopped:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

// await waits for the answer of a queued call.
func (e *Engine) await(ctx context.Context, c *call) (scheduler.Result, error) {
	// Once queued the command will be applied; wait for it even if ctx ends,
	// unless the engine stops, so that the caller never misses a durable
	// change it asked for... but do not block forever on a cancelled ctx.
	select {
	case r := <-c.reply:
		return r.res, r.err
	case <-e.stopped:
		select {
		case r := <-c.reply:
			return r.res, r.err
		default:
			return scheduler.Result{}, ErrStopped
		}
	case <-ctx.Done():
		return scheduler.Result{}, ctx.Err()
	}
}

// Run is the owner loop; it returns when ctx is done, once the turns
// being written are finished.
func (e *Engine) Run(ctx context.Context) error {
	defer close(e.stopped)
	stopPipe := e.startPipe()
	defer stopPipe()
	ticker := e.clock.NewTicker(e.opts.TickEvery)
	defer ticker.Stop()
	e.turn([]*call{{cmd: scheduler.Tick{}}})
	e.drainPipe()
	e.quiet(ctx)
	for {
		// Another turn is applied only while there is room in the
		// pipeline (pipeline.go); a written turn is finished any time.
		var calls chan *call
		var ticks <-chan time.Time
		var step <-chan struct{}
		if e.room() {
			calls, ticks, step = e.calls, ticker.C(), e.stepReady()
		}
		var batch []*call
		select {
		case <-ctx.Done():
			e.drainPipe()
			return nil
		case t := <-e.doneChan():
			e.written(t)
			e.quiet(ctx)
			continue
		case <-ticks:
			batch = append(make([]*call, 0, 8), &call{cmd: scheduler.Tick{}})
		case c := <-calls:
			batch = append(make([]*call, 0, 8), c)
		case <-step:
			// a step of a closure or cut being applied
		}
		// Drain what else is pending: one synced write serves them all.
	drain:
		for len(batch) < e.opts.MaxBatch {
			select {
			case c := <-e.calls:
				batch = append(batch, c)
			default:
				break drain
			}
		}
		batch = e.addStep(batch)
		e.turn(batch)
		e.quiet(ctx)
	}
}

// allotDue starts the allotment of every planned day whose cut-off has
// passed (after every Tick, the clock's or one sent with Do): the planning instance is built here, on the owner goroutine, the
// planner runs on its own goroutine (seconds for a busy day, while the
// loop goes on serving scans and bookings), and its plan comes back as an
// AllotRequests command, which checks every placement again. If anything
// fails on the way, the requests stay pending and a later tick tries again.
func (e *Engine) allotDue(ctx context.Context) {
	defer e.recoverAllot()
	now := e.clock.Now()
	for _, date := range e.state.RequestsDue(now) {
		if e.planning[date] {
			continue
		}
		inst, instErr := e.state.RequestInstance(now, date)
		e.planning[date] = true
		e.log.Info("planned day: requests closed, planning", "date", date, "requests", len(inst.Requests))
		go func() {
			start := time.Now()
			plan, err := scheduler.PlanResult{}, instErr
			if err == nil {
				plan, err = e.plan(inst)
			}
			took := time.Since(start)
			if err != nil {
				// Never leave a day unallotted: with no plan, every request
				// is allotted first come first served.
				e.log.Error("planned day: no plan; allotting first come", "date", date, "err", err)
				plan = scheduler.PlanResult{}
			} else {
				e.m.planDur.Observe(took.Seconds())
			}
			res, err := e.Do(ctx, scheduler.AllotRequests{Date: date, Plan: plan})
			switch {
			case err != nil:
				e.log.Error("planned day: allotment not applied; a later tick retries", "date", date, "err", err)
			case res.Err != nil:
				e.log.Error("planned day: allotment refused; a later tick retries", "date", date, "err", res.Err)
			default:
				a := res.Allotted
				e.log.Info("planned day: requests allotted", "date", date, "requests", a.Requests, "allotted", a.Allotted,
					"not_placed", a.NotPlaced, "visitors", a.Visitors, "requested", a.Requested, "planner", took.Round(time.Millisecond))
			}
		}()
	}
}

// turn applies a batch of calls and hands their records to the writer
// (pipeline.go), which writes them in one synced write; the callers are
// answered and the events published once they are durable (finish).
func (e *Engine) turn(batch []*call) {
	start := time.Now()
	now := e.clock.Now()
	t := &pending{batch: batch, now: now, mark: e.state.TickMark(),
		results: make([]reply, len(batch)),
		records: make([][]scheduler.Effect, len(batch)), // by call
		events:  make([][]scheduler.Event, len(batch)),
	}
	for i, c := range batch {
		if c.read != nil {
			t.reads = true
			continue // answered once the turn is durable (finish)
		}
		if err := e.refuseForSpace(c.cmd); err != nil {
			if a, ok := c.cmd.(scheduler.AllotRequests); ok {
				delete(e.planning, a.Date) // pending again for a later tick
			}
			t.results[i] = reply{err: err}
			continue
		}
		res, effects, err := e.apply(now, c.cmd)
		if err != nil {
			e.rollback(batch, t.results, i, err)
			return
		}
		switch c := c.cmd.(type) {
		case scheduler.Tick:
			t.ticked = true
		case scheduler.AllotRequests:
			delete(e.planning, c.Date) // allotted, or pending again for a later tick
		}
		t.results[i] = reply{res: res}
		for _, ef := range effects {
			if ev, ok := ef.(scheduler.Event); ok {
				t.events[i] = append(t.events[i], ev)
			} else {
				t.records[i] = append(t.records[i], ef)
			}
		}
	}
	// Callers that prepare their answer do it while the turn is written.
	e.handApplied(batch, t.results)
	// outs[i] are call i's webhook deliveries, written with its records.
	t.outs = e.stage(t.records, t.events)
	e.m.applyDur.Observe(time.Since(start).Seconds())
	// The writer sets errs[i] for each call whose records are not
	// durable; a turn too big for one write is split between calls
	// (bigturn.go).
	e.push(t)
}
