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

// stage asks the outbox, if any, for the turn's deliveries.
func (e *Engine) stage(records []scheduler.Effect, events []scheduler.Event) []store.WebhookDelivery {
	if e.opts.Outbox == nil {
		return nil
	}
	return e.opts.Outbox.Stage(e.state, records, events)
}

// commit writes the turn's records and deliveries in one synced batch.
func (e *Engine) commit(records []scheduler.Effect, out []store.WebhookDelivery) error {
	if len(out) == 0 {
		return e.st.Commit(records)
	}
	return e.st.(store.OutboxCommitter).CommitOutbox(records, out)
}

// committed hands the durable deliveries to the outbox's worker.
func (e *Engine) committed(out []store.WebhookDelivery) {
	if len(out) > 0 {
		e.opts.Outbox.Committed(out)
	}
}
