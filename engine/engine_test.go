package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

func petra(t testing.TB) *scheduler.Config {
	t.Helper()
	cfg, err := scheduler.ParseConfig(testenv.PetraYAML(t))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// failingStore is a real store whose commits fail while Fail is set; it
// counts what it committed and what it refused. It is stack.FailingStore
// (internal/testenv/stack) over again, field for field, because the
// engine's internal tests cannot import stack (stack imports engine) and
// they read the engine's unexported metrics.
type failingStore struct {
	store.Store
	Fail      atomic.Bool
	Commits   atomic.Int64 // commits written
	Refused   atomic.Int64 // commits refused while failing
	OnRefused func(effects []scheduler.Effect)
}

var errInjected = errors.New("engine test: injected commit failure (disk full)")

func (s *failingStore) Commit(effects []scheduler.Effect) error {
	if s.Fail.Load() {
		s.Refused.Add(1)
		if s.OnRefused != nil {
			s.OnRefused(effects)
		}
		return errInjected
	}
	if err := s.Store.Commit(effects); err != nil {
		return err
	}
	s.Commits.Add(1)
	return nil
}

func start(t testing.TB, st store.Store, reg prometheus.Registerer) (*Engine, *scheduler.Config) {
	t.Helper()
	cfg := petra(t)
	clk := NewManualClock(time.Date(2026, 11, 29, 10, 0, 0, 0, cfg.Location()))
	e, err := New(Options{Config: cfg, Store: st, Clock: clk, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return e, cfg
}

func book(i int, op string) scheduler.Book {
	return scheduler.Book{ID: fmt.Sprintf("bk%05d", i), Operator: op, Request: scheduler.BookingRequest{
		Date: "2026-12-01", Route: "main", PartySize: 5, Window: scheduler.Window{From: 6 * 60, To: 15 * 60}}}
}

func openStore(t testing.TB, dir string) store.Store {
	t.Helper()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestGroupCommit: many concurrent commands share synced writes, and every
// acknowledged booking is in the store.
func TestGroupCommit(t *testing.T) {
	dir := t.TempDir()
	cs := &failingStore{Store: openStore(t, dir)}
	e, _ := start(t, cs, nil)
	const n = 400
	var wg sync.WaitGroup
	acked := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.Do(context.Background(), book(i, fmt.Sprintf("op%d", i%20)))
			if err == nil && res.Err == nil {
				acked <- res.Booking.ID
			}
		}()
	}
	wg.Wait()
	close(acked)
	if c := cs.Commits.Load(); c >= n {
		t.Errorf("%d commits for %d bookings: no group commit", c, n)
	} else {
		t.Logf("%d bookings in %d synced commits", n, c)
	}
	snap, err := cs.Load()
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for _, b := range snap.Bookings {
		stored[b.ID] = true
	}
	count := 0
	for id := range acked {
		count++
		if !stored[id] {
			t.Errorf("acknowledged %s not stored", id)
		}
	}
	if count == 0 {
		t.Fatal("nothing was acknowledged")
	}
}

// TestFailedCommitRollsBack: when the store cannot write, callers get an
// error and the state is what the store holds.
func TestFailedCommitRollsBack(t *testing.T) {
	cs := &failingStore{Store: openStore(t, t.TempDir())}
	reg := prometheus.NewRegistry()
	e, _ := start(t, cs, reg)
	if res, err := e.Do(context.Background(), book(1, "op")); err != nil || res.Err != nil {
		t.Fatal(err, res.Err)
	}
	cs.Fail.Store(true)
	if _, err := e.Do(context.Background(), book(2, "op")); !errors.Is(err, ErrStore) {
		t.Fatalf("got %v, want ErrStore", err)
	}
	cs.Fail.Store(false)
	var n int
	e.Read(context.Background(), func(s *scheduler.State, _ time.Time) { n = s.BookingCount() })
	if n != 1 {
		t.Fatalf("%d bookings in memory after a failed commit, want 1", n)
	}
	if got := testutil.ToFloat64(e.m.storeErrors); got != 1 {
		t.Errorf("store error counter %v, want 1", got)
	}
	// The same id can be booked now: the failed one left no trace.
	if res, err := e.Do(context.Background(), book(2, "op")); err != nil || res.Err != nil {
		t.Fatal(err, res.Err)
	}
}

// TestRecovery: a new engine on the same store has the same state.
func TestRecovery(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	cfg := petra(t)
	clk := NewManualClock(time.Date(2026, 11, 29, 10, 0, 0, 0, cfg.Location()))
	e, err := New(Options{Config: cfg, Store: st, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	for i := 0; i < 50; i++ {
		e.Do(ctx, book(i, fmt.Sprintf("op%d", i%3)))
	}
	var before []scheduler.SlotRoom
	e.Read(ctx, func(s *scheduler.State, now time.Time) { before, _ = s.Availability(now, "2026-12-01", "main", "op9") })
	cancel()
	<-done
	st.Close()

	st2 := openStore(t, dir)
	defer st2.Close()
	e2, err := New(Options{Config: cfg, Store: st2, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	var after []scheduler.SlotRoom
	var n int
	e2.state.Apply(clk.Now(), scheduler.Tick{})
	after, _ = e2.state.Availability(clk.Now(), "2026-12-01", "main", "op9")
	n = e2.state.BookingCount()
	if n != 50 {
		t.Fatalf("recovered %d bookings, want 50", n)
	}
	// Compared as JSON: a wave's limit is a pointer, which fmt would print
	// as an address.
	if b, a := must(json.Marshal(before)), must(json.Marshal(after)); !bytes.Equal(b, a) {
		t.Fatalf("capacity picture differs after recovery:\n before %s\n after  %s", b, a)
	}
}

func TestMetricsLint(t *testing.T) {
	reg := prometheus.NewRegistry()
	e, _ := start(t, openStore(t, t.TempDir()), reg)
	e.Do(context.Background(), book(1, "op"))
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("metric %s: %s", p.Metric, p.Text)
	}
}
