package engine

import (
	"context"

	"github.com/tafweej/tafweej/scheduler"
)

// Preparing an answer while the turn is written.
//
// A turn's synced write is most of a command's time at low load (an
// fsync: a millisecond or more), and the owner loop's goroutine only waits
// for it. A caller that has work to do on the result before it can answer
// (the HTTP API signs a booking's ticket and encodes the 201's body) can
// do it during that wait instead of after: DoPrepared hands it the result
// as soon as the command is applied, then the durable result as Do does.
//
// The contract: prepare runs on the caller's goroutine, at most once, with
// the result exactly as the loop computed it, before its records are
// durable. It must not let anything of it out (no answer, no event, no
// write): the turn may yet fail to commit, and then DoPrepared returns
// ErrStore and the prepared work must be thrown away. When DoPrepared
// returns a nil error, the result is the one prepare saw, now durable. The
// loop never waits for prepare: it goes on to commit as soon as the
// results are handed over (a buffered channel), and the durable answer is
// sent the same way whether or not prepare ran. Reads (Engine.Read) are
// never prepared: they run on committed state only.

// DoPrepared is Do, calling prepare with the command's result as soon as
// it is applied and while its records are being written (see above).
// prepare is not called for a command that was not applied (refused for
// disk space, engine stopped, ctx done first), and may not be called when
// the durable answer is there as soon as the early one: a caller does its
// work after DoPrepared returns if prepare did not run.
func (e *Engine) DoPrepared(ctx context.Context, cmd scheduler.Command, prepare func(scheduler.Result)) (scheduler.Result, error) {
	c := &call{cmd: cmd, reply: make(chan reply, 1), applied: make(chan scheduler.Result, 1)}
	if err := e.enqueue(ctx, c); err != nil {
		return scheduler.Result{}, err
	}
	select {
	case res := <-c.applied:
		prepare(res)
	case r := <-c.reply: // not applied, or answered without an early result
		return r.res, r.err
	case <-e.stopped:
	case <-ctx.Done():
	}
	return e.await(ctx, c)
}

// handApplied gives each call of a turn that asked for it its result as
// applied, before the turn is written (DoPrepared). A call whose command
// was not applied (results[i].err set) gets nothing early.
func (e *Engine) handApplied(batch []*call, results []reply) {
	for i, c := range batch {
		if c.applied != nil && results[i].err == nil {
			select {
			case c.applied <- results[i].res: // buffered: the loop never waits
			default: // already handed over (a turn run again): the caller has it
			}
		}
	}
}
