package stack

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/scheduler"
)

func TestFailingStoreRefusesWhileFailing(t *testing.T) {
	fs := &FailingStore{Store: Badger(t)}
	e, _ := Engine(t, engine.Options{Store: fs})
	book := func(id string) error {
		_, err := e.Do(context.Background(), scheduler.Book{ID: id, Operator: "op1", Request: scheduler.BookingRequest{
			Date: "2026-12-01", Route: "monastery", PartySize: 10, Window: scheduler.Window{From: 8 * 60, To: 12 * 60}}})
		return err
	}
	fs.Fail.Store(true)
	if err := book("bk_refused"); err == nil || fs.Refused.Load() == 0 {
		t.Fatalf("a failing store refused nothing (err %v)", err)
	}
	fs.Fail.Store(false)
	before := fs.Commits.Load()
	if err := book("bk_kept"); err != nil {
		t.Fatal(err)
	}
	if fs.Commits.Load() <= before {
		t.Fatal("no commit counted once the store works again")
	}
}

func TestNATSAcceptsConnections(t *testing.T) {
	s := NATS(t)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
}
