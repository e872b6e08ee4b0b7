package engine

import (
	"time"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// undo takes back, after a failed commit, what the turn's unwritten calls
// changed in memory: the store reads back the records those calls wrote
// (store.RecordReader) and the scheduler puts each back as it is durable
// (scheduler.State.Revert), so one bad write costs a few reads, not a
// reload of every booking. A Tick among them puts the tick's position back.
// If the store cannot read them back, the whole state is reloaded as
// before, and undo reports false. Reads of the turn run after this, on
// committed state only.
func (e *Engine) undo(batch []*call, records [][]scheduler.Effect, errs []error, mark scheduler.TickMark) bool {
	start := time.Now()
	var effects []scheduler.Effect
	var tick *scheduler.TickMark
	for i, err := range errs {
		if err == nil {
			continue
		}
		effects = append(effects, records[i]...)
		if _, ok := batch[i].cmd.(scheduler.Tick); ok {
			tick = &mark
		}
	}
	if !scheduler.Revertible(effects) {
		e.reloadAfterFailure("the turn archived a day")
		return false
	}
	rr, ok := e.st.(store.RecordReader)
	if !ok {
		e.reloadAfterFailure("the store cannot read records back")
		return false
	}
	durable, err := rr.Records(effects)
	if err != nil {
		e.reloadAfterFailure(err.Error())
		return false
	}
	e.state.Revert(effects, durable, tick)
	e.resumeSteps()
	e.log.Info("failed commit undone", "records", len(effects), "took", time.Since(start).Round(time.Microsecond))
	return true
}

func (e *Engine) reloadAfterFailure(why string) {
	e.log.Warn("failed commit: reloading the whole state", "why", why)
	if err := e.reload(); err != nil {
		e.log.Error("reload after failed commit", "err", err)
	}
}
