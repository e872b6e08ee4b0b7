package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// closedStore is openStore, closed when the test ends (after the engine,
// whose cleanup is registered later).
func closedStore(t *testing.T) store.Store {
	st := openStore(t, t.TempDir())
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// readings are n counter readings of sensor siq-n1, seq 1..n, in order.
func readings(clk time.Time, n int) []scheduler.Command {
	cmds := make([]scheduler.Command, n)
	for i := range cmds {
		cmds[i] = scheduler.CounterReading{Sensor: "siq-n1", Zone: "siq", Boot: "b1", Seq: uint64(i + 1),
			In: int64(2 * (i + 1)), Out: int64(i + 1), At: clk}
	}
	return cmds
}

// TestDoAllAppliesInOrderInFewWrites: the commands of one DoAll are
// applied in the order given (a sensor's readings: none is taken for a
// duplicate of a later one) and share synced writes, where one Do at a
// time would make a write each.
func TestDoAllAppliesInOrderInFewWrites(t *testing.T) {
	st := &failingStore{Store: closedStore(t)}
	e, _ := start(t, st, nil)
	const n = 200
	before := st.Commits.Load()
	res, errs := e.DoAll(context.Background(), readings(e.Now(), n))
	writes := st.Commits.Load() - before
	for i := range n {
		if errs[i] != nil || res[i].Counter != scheduler.CounterApplied {
			t.Fatalf("reading %d: %+v, %v; want applied", i+1, res[i], errs[i])
		}
	}
	var got scheduler.SensorState
	if err := e.Read(context.Background(), func(s *scheduler.State, _ time.Time) {
		for _, ss := range s.Sensors() {
			if ss.Sensor == "siq-n1" {
				got = ss
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if got.Seq != n {
		t.Errorf("siq-n1 at seq %d after DoAll, want %d", got.Seq, n)
	}
	// The loop may wake before all are queued, so more than one turn; one
	// Do at a time would make n.
	if writes > 10 {
		t.Errorf("%d readings made %d synced writes, want at most 10", n, writes)
	}
	t.Logf("%d readings in %d synced writes", n, writes)
}

// TestDoAllFailsEveryCommandOfAFailedWrite: a command whose write fails is
// answered ErrStore (its caller naks and it is redelivered), never as
// applied.
func TestDoAllFailsEveryCommandOfAFailedWrite(t *testing.T) {
	st := &failingStore{Store: closedStore(t)}
	e, _ := start(t, st, nil)
	st.Fail.Store(true)
	_, errs := e.DoAll(context.Background(), readings(e.Now(), 20))
	for i, err := range errs {
		if !errors.Is(err, ErrStore) {
			t.Fatalf("reading %d while the store fails: %v, want ErrStore", i+1, err)
		}
	}
	st.Fail.Store(false)
	res, errs := e.DoAll(context.Background(), readings(e.Now(), 20))
	for i := range res {
		if errs[i] != nil || res[i].Counter != scheduler.CounterApplied {
			t.Fatalf("reading %d again: %+v, %v; want applied (nothing of the failed writes was kept)", i+1, res[i], errs[i])
		}
	}
}

// TestDoAllOnAStoppedEngine: every command gets ErrStopped.
func TestDoAllOnAStoppedEngine(t *testing.T) {
	cfg := petra(t)
	e, err := New(Options{Config: cfg, Store: closedStore(t), Clock: NewManualClock(time.Date(2026, 11, 29, 10, 0, 0, 0, cfg.Location()))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Run(ctx); err != nil {
		t.Fatal(err)
	}
	_, errs := e.DoAll(context.Background(), readings(e.Now(), 3))
	for i, err := range errs {
		if !errors.Is(err, ErrStopped) {
			t.Errorf("reading %d on a stopped engine: %v, want ErrStopped", i+1, err)
		}
	}
}
