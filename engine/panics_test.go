package engine

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/scheduler"
)

// TestPlannedDayOfUnplaceableRequestsSurvivesRestarts: every request of a
// planned day became unplaceable through a config change (max_party_size
// lowered below each party), so the planner gets an empty instance after
// the cut-off. The service neither crashes nor wedges: the requests are
// not placed, with the reason, the date opens to first come, and it stays
// so across a second restart.
func TestPlannedDayOfUnplaceableRequestsSurvivesRestarts(t *testing.T) {
	dir := t.TempDir()
	cfg := petra(t)
	clk := NewManualClock(time.Date(2026, 10, 10, 10, 0, 0, 0, cfg.Location()))
	st := openStore(t, dir)
	r := runRecording(t, cfg, st, clk, nil, scheduler.PlanOptions{})
	for i, size := range []int{55, 58, 60} {
		res, err := r.e.Do(context.Background(), scheduler.SubmitRequest{ID: fmt.Sprintf("rq%d", i), BookingID: fmt.Sprintf("bk%d", i),
			Operator: fmt.Sprintf("op%d", i), Request: scheduler.BookingRequest{Date: plannedDate, Route: "main", PartySize: size,
				Window: scheduler.Window{From: 8 * 60, To: 11 * 60}}})
		if err != nil || res.Err != nil {
			t.Fatal(err, res.Err)
		}
	}
	r.stop()
	st.Close()

	data := testenv.PetraYAML(t)
	smaller, err := scheduler.ParseConfig([]byte(strings.Replace(string(data), "max_party_size: 60", "max_party_size: 50", 1)))
	if err != nil || smaller.Policy.MaxPartySize != 50 {
		t.Fatalf("config with max_party_size 50: %v", err)
	}
	clk.Set(time.Date(2026, 10, 17, 18, 5, 0, 0, cfg.Location())) // after the cut-off
	for restart := range 2 {
		st = openStore(t, dir)
		reg := prometheus.NewRegistry()
		r = runRecording(t, smaller, st, clk, reg, scheduler.PlanOptions{})
		if !pollUntil(10*time.Second, func() bool {
			n, _ := pendingOf(t, r.e, plannedDate)
			return n == 0
		}) {
			t.Fatalf("start %d: requests still pending", restart+1)
		}
		_, qs := pendingOf(t, r.e, plannedDate)
		for _, q := range qs {
			if q.Status != scheduler.RequestNotPlaced || !strings.Contains(q.Reason, "party_size") {
				t.Fatalf("start %d: request %s is %s (%q), want not_placed naming party_size", restart+1, q.ID, q.Status, q.Reason)
			}
		}
		res, err := r.e.Do(context.Background(), scheduler.Book{ID: fmt.Sprintf("walk%d", restart), Operator: "op9",
			Request: scheduler.BookingRequest{Date: plannedDate, Route: "main", PartySize: 5, Window: scheduler.Window{From: 12 * 60, To: 14 * 60}}})
		if err != nil || res.Err != nil {
			t.Fatalf("start %d: first come on the planned day: %v %v", restart+1, err, res.Err)
		}
		if n := testutil.ToFloat64(r.e.panics.total.WithLabelValues("planner")); n != 0 {
			t.Fatalf("start %d: %v planner panics recovered, want none", restart+1, n)
		}
		r.stop()
		st.Close()
	}
}

// wavesOf is the engine's picture of the waves of 1 December 2026.
func wavesOf(t *testing.T, e *Engine) []scheduler.Wave {
	t.Helper()
	var w []scheduler.Wave
	if err := e.Read(context.Background(), func(s *scheduler.State, now time.Time) {
		from := time.Date(2026, 12, 1, 0, 0, 0, 0, s.Config().Location())
		w = s.Waves(now, from, from.Add(24*time.Hour))
	}); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestPanickingCommandIsRolledBackAndTheLoopGoesOn: a command that panics
// half-way through Apply (here: after the booking is placed in memory) is
// answered with an internal error naming the panic; nothing of it stays in
// memory or reaches the store; the other commands of its turn are applied;
// the owner loop goes on; the panic is counted.
func TestPanickingCommandIsRolledBackAndTheLoopGoesOn(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	defer st.Close()
	cfg := petra(t)
	clk := NewManualClock(time.Date(2026, 11, 29, 10, 0, 0, 0, cfg.Location()))
	reg := prometheus.NewRegistry()
	e, err := New(Options{Config: cfg, Store: st, Clock: clk, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	e.applyFn = func(s *scheduler.State, now time.Time, c scheduler.Command) (scheduler.Result, []scheduler.Effect) {
		res, eff := s.Apply(now, c)
		if b, ok := c.(scheduler.Book); ok && strings.HasPrefix(b.ID, "boom") {
			panic("half-applied " + b.ID)
		}
		return res, eff
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	for i := range 5 {
		if res, err := e.Do(ctx, book(i, "op-a")); err != nil || res.Err != nil {
			t.Fatal(err, res.Err)
		}
	}
	before := wavesOf(t, e)

	// A panicking command among others, sent together so that they share
	// turns.
	var wg sync.WaitGroup
	errs := make([]error, 40)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := book(100+i, "op-b")
			if i%10 == 3 {
				c.ID = fmt.Sprintf("boom%d", i)
			}
			res, err := e.Do(ctx, c)
			if err == nil {
				err = res.Err
			}
			errs[i] = err
		}()
	}
	// A panicking read too.
	rerr := e.Read(ctx, func(*scheduler.State, time.Time) { panic("bad read") })
	wg.Wait()
	var ie *InternalError
	if !errors.As(rerr, &ie) || !errors.Is(rerr, ErrInternal) || ie.ID == "" {
		t.Fatalf("panicking read answered %v, want an *InternalError with an id", rerr)
	}
	for i, err := range errs {
		if i%10 == 3 {
			if !errors.As(err, &ie) || !strings.HasPrefix(ie.ID, "panic-") {
				t.Fatalf("panicking command %d answered %v, want an *InternalError with an id", i, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("command %d, in a turn with a panicking one: %v", i, err)
		}
	}

	// Nothing of the panicking bookings, in memory or in the store; the
	// others everywhere; memory is what a restart would rebuild.
	snap, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := scheduler.Restore(cfg, snap)
	if err != nil {
		t.Fatal(err)
	}
	var inMemory scheduler.Snapshot
	e.Read(ctx, func(s *scheduler.State, _ time.Time) { inMemory = s.Snapshot() })
	if len(inMemory.Bookings) != 5+36 || len(snap.Bookings) != 5+36 {
		t.Fatalf("%d bookings in memory, %d stored; want %d", len(inMemory.Bookings), len(snap.Bookings), 5+36)
	}
	for _, b := range inMemory.Bookings {
		if strings.HasPrefix(b.ID, "boom") {
			t.Fatalf("booking %s of a panicking command is in memory", b.ID)
		}
	}
	got := wavesOf(t, e)
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, cfg.Location())
	if want := fresh.Waves(clk.Now(), from, from.Add(24*time.Hour)); !reflect.DeepEqual(got, want) {
		t.Fatalf("waves in memory differ from the stored state's:\n got %+v\nwant %+v", got, want)
	}
	if len(got) == 0 || reflect.DeepEqual(got, before) {
		t.Fatalf("waves did not change with 36 bookings: %+v", got)
	}
	// The ids are free: the same bookings without the panic go through.
	e.applyFn = nil // the loop is idle: no command in flight
	if res, err := e.Do(ctx, book(999, "op-c")); err != nil || res.Err != nil {
		t.Fatal(err, res.Err)
	}
	if n := testutil.ToFloat64(e.panics.total.WithLabelValues("engine")); n != 4 {
		t.Errorf("tafweej_panics_total{where=engine} %v, want 4", n)
	}
	if n := testutil.ToFloat64(e.panics.total.WithLabelValues("read")); n != 1 {
		t.Errorf("tafweej_panics_total{where=read} %v, want 1", n)
	}
	// Every place that recovers has its series from the start (at zero
	// until it panics), so that a scrape shows the metric at once.
	if n, err := testutil.GatherAndCount(reg, "tafweej_panics_total"); err != nil || n != len(panicSites) {
		t.Errorf("tafweej_panics_total exports %d series (%v), want one per place that recovers (%d)", n, err, len(panicSites))
	}
}

// TestPanickingPlannerAllotsFirstCome: a planner that panics does not kill
// the service; the planned day is allotted first come, as with any
// planner failure, and the panic is counted.
func TestPanickingPlannerAllotsFirstCome(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	cfg := petra(t)
	clk := NewManualClock(time.Date(2026, 10, 10, 10, 0, 0, 0, cfg.Location()))
	e, err := New(Options{Config: cfg, Store: st, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	e.planFn = func(scheduler.Instance, scheduler.PlanOptions) (scheduler.PlanResult, error) { panic("planner bug") }
	var published sync.Mutex
	e.opts.Publish = func(scheduler.Event) { published.Lock(); defer published.Unlock(); panic("publisher bug") }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	submitRequests(t, e, 10)
	clk.Set(time.Date(2026, 10, 17, 18, 0, 5, 0, cfg.Location()))
	e.Do(ctx, scheduler.Tick{})
	qs := waitAllotted(t, e)
	snap, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	checkAllotted(t, qs, snap)
	if n := testutil.ToFloat64(e.panics.total.WithLabelValues("planner")); n != 1 {
		t.Errorf("tafweej_panics_total{where=planner} %v, want 1", n)
	}
	if n := testutil.ToFloat64(e.panics.total.WithLabelValues("publish")); n == 0 {
		t.Error("no publisher panic counted")
	}
}
