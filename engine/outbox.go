package engine

import (
	"errors"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// Outbox turns a turn's changes into messages for the outside world (the
// operators' webhooks) that must not be lost once the change is
// acknowledged.
//
// The contract: after a turn's commands are applied and before anything is
// written, the owner goroutine calls Stage with the state (read only: Stage
// must not keep references into it nor change it), the turn's records and
// its events. The deliveries it returns are written in the same synced
// transaction as the records (store.OutboxCommitter), so a change that was
// acknowledged always has its deliveries on disk, and a turn that failed to
// commit has none. Committed is then called, still on the owner goroutine,
// with the deliveries that are now durable; it must not block (hand them to
// a worker). Neither is called for a turn whose records failed to commit.
type Outbox interface {
	Stage(s *scheduler.State, records []scheduler.Effect, events []scheduler.Event) []store.WebhookDelivery
	Committed(out []store.WebhookDelivery)
}

// errNoOutboxStore: Options.Outbox needs a store that commits deliveries
// with the records.
var errNoOutboxStore = errors.New("engine: Options.Outbox needs a Store that implements store.OutboxCommitter")

// checkOutbox reports whether the options can carry an outbox.
func checkOutbox(opts Options) error {
	if opts.Outbox == nil {
		return nil
	}
	if _, ok := opts.Store.(store.OutboxCommitter); !ok {
		return errNoOutboxStore
	}
	return nil
}

// stage asks the outbox, if any, for each call's deliveries (by index, as
// records and events are), so that a turn split between its calls (bigturn.go)
// writes each call's deliveries with its records. A booking moved by two
// calls of one turn is told with the wave it had before the turn as its
// old wave for both (the outbox sees one call at a time).
func (e *Engine) stage(records [][]scheduler.Effect, events [][]scheduler.Event) [][]store.WebhookDelivery {
	if e.opts.Outbox == nil {
		return nil
	}
	outs := make([][]store.WebhookDelivery, len(records))
	for i := range records {
		if len(events[i]) > 0 {
			outs[i] = e.stageCall(records[i], events[i])
		}
	}
	return outs
}

// stageCall is one call's Stage; a panic in the outbox costs that call's
// deliveries (logged with its stack and counted), never the owner loop or
// the change itself.
func (e *Engine) stageCall(records []scheduler.Effect, events []scheduler.Event) (out []store.WebhookDelivery) {
	defer func() {
		if v := recover(); v != nil {
			id := e.panics.Recovered("outbox", v)
			e.log.Error("webhook deliveries of a change not staged: the outbox panicked", "panic_id", id, "events", len(events))
			out = nil
		}
	}()
	return e.opts.Outbox.Stage(e.state, records, events)
}

// write writes records and deliveries in one synced batch.
func (e *Engine) write(records []scheduler.Effect, out []store.WebhookDelivery) error {
	if len(out) == 0 {
		return e.st.Commit(records)
	}
	return e.st.(store.OutboxCommitter).CommitOutbox(records, out)
}

// committed hands the durable deliveries to the outbox's worker.
func (e *Engine) committed(outs [][]store.WebhookDelivery) {
	for _, out := range outs {
		if len(out) > 0 {
			e.opts.Outbox.Committed(out)
		}
	}
}
