package engine

import (
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// failingPipe is a store.Pipe whose writes fail while fail reports true:
// at random, with its waits, if late is set (a write started and failed
// once in flight), else at Start.
type failingPipe struct {
	store.Pipe
	fail func() bool
}

func (p *failingPipe) Start(effects []scheduler.Effect, out []store.WebhookDelivery) (func() error, error) {
	if p.fail() {
		return nil, errInjected
	}
	return p.Pipe.Start(effects, out)
}
