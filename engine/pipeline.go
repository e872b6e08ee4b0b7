package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// Pipelined turns.
//
// A turn is applied on the owner goroutine, then handed to the writer and
// the loop goes on to apply the next turn while it is written: the
// apply of turn N+1 overlaps the synced write of turn N, and with a store
// that pipelines (store.Pipeliner: a replicated store appends to the log
// with several appends in flight, each stating the one it follows) the
// writes of several turns are in flight at once. Options.Pipeline bounds
// the turns applied and not yet durable; 1 is the loop of old: apply,
// write, answer, then the next turn, and then the loop makes the write
// itself (push) rather than hand it to the writer's goroutines: nothing
// would overlap it, and each hand-off is a goroutine to wake in every
// turn's latency.
//
// What does not change:
//   - A caller is answered, its events published, its webhook deliveries
//     handed over and its result counted only once its turn is durable,
//     and turns are finished strictly in the order they were applied.
//   - A failed write fails the turns after it: they were applied on top of
//     it. The writer writes nothing of a turn that follows a failed one
//     (a Pipe fails every write after its failed one; the sync writer
//     keeps the failure), and a log append states the append it follows,
//     so the log refuses it too. The loop then waits until every turn in
//     flight is back, undoes them newest first with the undo machinery
//     (undo.go: State.Revert from the records read back, or a reload for
//     a turn that is not revertible), answers every one of their callers
//     with ErrStore, and only then applies more.
//   - Reads see only committed state: a turn that carries a read is the
//     last applied until it is durable (a barrier), and its reads run when
//     it is finished, with nothing in flight. So are the planned-day
//     allotment after a tick and the off-loop re-plans, which build their
//     planning instances from the state: they start only when the pipeline
//     is empty (a turn that ticked, or a re-plan waiting to start, stops
//     new turns until then).
//   - A command that panics rolls its turn back by a reload, after the
//     turns in flight are finished.

// defaultPipeline is Options.Pipeline's default: what measured best.
// BenchmarkPipelineBook (64 clients, synced Badger, 2 cores shared with
// other builds, 8 interleaved runs): 18.4k bookings/s at depth 1 against
// 7.2k at depth 4 (p=0.000): the loop's own group commit already gives
// each fsync every command that arrived during the last one, and deeper
// only cuts the turns smaller. The replicated bench (docs/cluster.md,
// "Throughput") showed no gain either under load.
const defaultPipeline = 1

// pending is a turn applied and handed to the writer, not yet finished.
type pending struct {
	batch   []*call
	results []reply
	records [][]scheduler.Effect // by call
	outs    [][]store.WebhookDelivery
	events  [][]scheduler.Event
	mark    scheduler.TickMark // the tick's position before the turn
	now     time.Time
	ticked  bool
	reads   bool
	gen     uint64

	// Set by the writer before the turn comes back: errs[i] is the error
	// of call i whose records are not durable (nil if all are).
	errs   []error
	chunks []chunk // writes started (a Pipe)
}

// chunk is one write of a turn started on a Pipe: the calls idx.
type chunk struct {
	idx   []int
	wait  func() error
	start time.Time
	n     int
}

// pipeline is the engine's part of pipelined turns; inflight, gen and
// ticked are owned by the run goroutine.
type pipeline struct {
	depth    int
	inflight []*pending // oldest first
	toStart  chan *pending
	toWait   chan *pending
	done     chan *pending
	pipe     store.Pipe // nil: each write is made whole by startWrite (the starter, or the loop at depth 1)
	gen      uint64     // turns of an older generation follow a failed one
	ticked   bool       // a finished turn ticked: allot once empty
}

// errEarlierFailed answers the callers of a turn that followed a failed one.
var errEarlierFailed = errors.New("a turn before this one failed to be written")

// startPipe starts the writer's goroutines.
func (e *Engine) startPipe() func() {
	d := e.opts.Pipeline
	p := &e.pipe
	*p = pipeline{depth: d, gen: 1,
		toStart: make(chan *pending, d), toWait: make(chan *pending, d), done: make(chan *pending, d)}
	if d == 1 {
		// One turn at a time: the loop writes it itself (push).
		return func() {}
	}
	if pl, ok := e.st.(store.Pipeliner); ok {
		p.pipe = pl.Pipe()
	}
	stopped := make(chan struct{})
	go func() { // the starter
		defer close(p.toWait)
		var failedGen uint64
		for t := range p.toStart {
			e.startWrite(t, &failedGen)
			p.toWait <- t
		}
	}()
	go func() { // the waiter
		defer close(stopped)
		for t := range p.toWait {
			e.waitWrite(t)
			p.done <- t
		}
	}()
	return func() { close(p.toStart); <-stopped }
}

// room reports whether the loop may apply another turn now.
func (e *Engine) room() bool {
	p := &e.pipe
	n := len(p.inflight)
	if n == 0 {
		return true
	}
	if n >= p.depth || p.inflight[n-1].reads || p.ticked || e.replanDue() {
		return false
	}
	return true
}

// replanDue reports whether an off-loop re-plan waits to be started.
func (e *Engine) replanDue() bool {
	if !e.offLoop() || e.steps.paused {
		return false
	}
	for _, st := range e.steps.queue {
		if !e.replans.running[st] && e.replans.tries[st] < replanTries {
			return true
		}
	}
	return false
}

// doneChan is the channel of finished writes while any is in flight.
func (e *Engine) doneChan() <-chan *pending {
	if len(e.pipe.inflight) == 0 {
		return nil
	}
	return e.pipe.done
}

// push hands an applied turn to the writer.
func (e *Engine) push(t *pending) {
	t.gen = e.pipe.gen
	e.pipe.inflight = append(e.pipe.inflight, t)
	e.m.inflight.Set(float64(len(e.pipe.inflight)))
	if e.pipe.depth == 1 {
		// Nothing else is in flight, and the loop would apply nothing
		// more before this turn is back (room): it writes the turn and
		// finishes it itself, rather than hand it to the writer's two
		// goroutines and be woken when it is back (three hand-offs, each
		// a goroutine woken, in every turn's latency). A turn that
		// follows a failed one cannot be here: written undid that one
		// before this was applied.
		var never uint64
		e.startWrite(t, &never)
		e.written(t)
		return
	}
	e.pipe.toStart <- t // buffered to depth: never blocks
}

// drainPipe finishes every turn in flight.
func (e *Engine) drainPipe() {
	for len(e.pipe.inflight) > 0 {
		e.written(<-e.pipe.done)
	}
}

// written finishes the turn t, the oldest in flight, whose write is back.
// If it failed, it first waits for every later turn in flight, undoes
// them all newest first and answers their callers.
func (e *Engine) written(t *pending) {
	p := &e.pipe
	if len(p.inflight) == 0 || p.inflight[0] != t {
		panic("engine: a turn came back out of order") // the writer keeps the order
	}
	defer func() { e.m.inflight.Set(float64(len(p.inflight))) }()
	if t.errs == nil {
		p.inflight = p.inflight[1:]
		e.finish(t)
		return
	}
	turns := p.inflight
	for range turns[1:] {
		<-p.done // in order: the turns after t
	}
	p.inflight = nil
	if poisons(t.errs) {
		// Nothing of the turns after t was written; those of their
		// commands that wrote nothing (a refusal) were decided on t's
		// state too: none is answered as if it stood.
		for _, u := range turns[1:] {
			if u.errs == nil {
				u.errs = make([]error, len(u.batch))
			}
			for i, c := range u.batch {
				if c.read == nil && u.errs[i] == nil && u.results[i].err == nil {
					u.errs[i] = errEarlierFailed
				}
			}
		}
	}
	e.undoTurns(turns)
	p.gen++
	if p.pipe != nil {
		p.pipe.Reset()
	}
	for _, u := range turns {
		e.finish(u)
	}
}

// poisons reports whether errs fail the turns after theirs: any but a
// call too big on its own, which fails alone.
func poisons(errs []error) bool {
	for _, err := range errs {
		if err != nil && !errors.Is(err, store.ErrTooBig) {
			return true
		}
	}
	return false
}

// undoTurns takes back what the failed calls of turns changed, newest
// turn first; nothing is in flight.
func (e *Engine) undoTurns(turns []*pending) {
	var all []scheduler.Effect
	for _, t := range turns {
		for i, err := range t.errs {
			if err != nil {
				all = append(all, t.records[i]...)
			}
		}
	}
	if !scheduler.Revertible(all) {
		e.reloadAfterFailure("the turn archived a day")
		return
	}
	for _, t := range slices.Backward(turns) {
		if t.errs != nil && !e.undo(t.batch, t.records, t.errs, t.mark) {
			return // reloaded: the state is the store's
		}
	}
}

// finish answers a durable (or failed and undone) turn's callers,
// publishes its events, hands over its deliveries and notes its steps.
func (e *Engine) finish(t *pending) {
	answered := 0
	for i, err := range t.errs {
		if err != nil {
			t.results[i] = reply{err: fmt.Errorf("%w: %v", ErrStore, err)}
			t.events[i] = nil
			if t.outs != nil {
				t.outs[i] = nil
			}
		}
	}
	for i, c := range t.batch {
		if c.read != nil {
			// Reads see only committed state: nothing is in flight now
			// (a turn with a read is the last applied until it is
			// finished), and a failed turn has been undone.
			if err := e.read(c.read, t.now); err != nil {
				t.results[i] = reply{err: err}
			}
		} else if t.results[i].err == nil {
			e.m.observeResult(c.cmd, t.results[i].res) // counted once durable
		}
		if c.reply != nil && !e.hold(c, t.results[i]) {
			c.reply <- t.results[i]
			answered++
		}
	}
	if answered == 1 {
		// The caller answered is next to run on this P, but would wait
		// there for the loop to block, or for an idle P's thread to be
		// woken and take it (tens of µs on this VM, the largest hand-off
		// of a scan at one gate): let it run now; the loop goes on where
		// a P is free. Not after answering several: the loop, put in the
		// global run queue, could then wait behind them and whatever else
		// is runnable, and the next turn with it (a 10-gate row seemed
		// to lose throughput once; more runs put that within noise, but
		// a turn of one caller is where the hand-off shows).
		runtime.Gosched()
	}
	e.committed(t.outs)
	for _, evs := range t.events {
		for _, ev := range evs {
			e.publish(ev)
		}
	}
	e.stepped(t.batch, t.results)
	if t.ticked {
		e.pipe.ticked = true
	}
}

// quiet runs what needs the committed state and no turn in flight: the
// planned-day allotment after a tick, the off-loop re-plans.
func (e *Engine) quiet(ctx context.Context) {
	if len(e.pipe.inflight) > 0 {
		return
	}
	if e.pipe.ticked {
		e.pipe.ticked = false
		e.allotDue(ctx)
	}
	e.startReplans(ctx)
}

// startWrite starts writing turn t (the starter goroutine; at depth 1 the
// loop, which writes the turn whole: push). A turn of a
// generation that follows a failed write is not written.
func (e *Engine) startWrite(t *pending, failedGen *uint64) {
	idx := make([]int, 0, len(t.records))
	for i, r := range t.records {
		if len(r) > 0 || i < len(t.outs) && len(t.outs[i]) > 0 {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return
	}
	if t.gen <= *failedGen {
		t.errs = make([]error, len(t.records))
		for _, i := range idx {
			t.errs[i] = errEarlierFailed
		}
		return
	}
	if e.pipe.pipe == nil {
		t.errs = e.commit(t.records, t.outs)
	} else {
		errs := make([]error, len(t.records))
		if e.startCalls(t, idx, errs) {
			t.errs = errs
		}
	}
	if poisons(t.errs) {
		*failedGen = t.gen // a call too big on its own fails alone
	}
}

// startCalls starts the write of calls idx of t on the pipe in one write
// or, if that is too big, in halves; it sets errs for the calls not
// started and reports whether there were any.
func (e *Engine) startCalls(t *pending, idx []int, errs []error) bool {
	var all []scheduler.Effect
	var out []store.WebhookDelivery
	for _, i := range idx {
		all = append(all, t.records[i]...)
		if i < len(t.outs) {
			out = append(out, t.outs[i]...)
		}
	}
	start := time.Now()
	wait, err := e.pipe.pipe.Start(all, out)
	if err == nil {
		t.chunks = append(t.chunks, chunk{idx: idx, wait: wait, start: start, n: len(all)})
		return false
	}
	if errors.Is(err, store.ErrTooBig) && len(idx) > 1 {
		e.log.Warn("turn too big for one write: splitting it between its commands", "commands", len(idx), "records", len(all))
		h := len(idx) / 2
		a := e.startCalls(t, idx[:h], errs)
		b := e.startCalls(t, idx[h:], errs)
		return a || b
	}
	e.m.storeWrite(time.Since(start), len(all), err)
	e.log.Error("store commit failed; rolling the commands back", "err", err, "commands", len(idx), "records", len(all))
	for _, i := range idx {
		errs[i] = err
	}
	return true
}

// waitWrite waits for the writes of t started on the pipe (the waiter
// goroutine), in order.
func (e *Engine) waitWrite(t *pending) {
	for _, c := range t.chunks {
		err := c.wait()
		e.m.storeWrite(time.Since(c.start), c.n, err)
		if err == nil {
			continue
		}
		e.log.Error("store commit failed; rolling the commands back", "err", err, "commands", len(c.idx), "records", c.n)
		if t.errs == nil {
			t.errs = make([]error, len(t.records))
		}
		for _, i := range c.idx {
			t.errs[i] = err
		}
	}
	t.chunks = nil
}
