package engine

import (
	"context"

	"github.com/tafweej/tafweej/scheduler"
)

// DoAll applies cmds as Do applies each one, in the order given, and
// returns their results and errors by index once each is durable (or
// could not be applied). The commands are queued one after the other
// before any answer is awaited, so the loop applies as many of them
// together as it can in one turn: one synced write serves them all, where
// one Do at a time would wait for a write each. The loop applies queued
// commands in the order they were queued, so a later command of cmds is
// never applied before an earlier one; if one cannot be queued (the engine
// stopped, ctx done), neither it nor any after it is applied, and each of
// them gets that error. A command applied in a turn whose write fails gets
// ErrStore, as with Do; the commands of cmds in other turns are unaffected.
func (e *Engine) DoAll(ctx context.Context, cmds []scheduler.Command) ([]scheduler.Result, []error) {
	res := make([]scheduler.Result, len(cmds))
	errs := make([]error, len(cmds))
	calls := make([]*call, 0, len(cmds))
	for i, cmd := range cmds {
		c := &call{cmd: cmd, reply: make(chan reply, 1)}
		if err := e.enqueue(ctx, c); err != nil {
			for j := i; j < len(cmds); j++ {
				errs[j] = err
			}
			break
		}
		calls = append(calls, c)
	}
	for i, c := range calls {
		res[i], errs[i] = e.await(ctx, c)
	}
	return res, errs
}
