package engine

// The engine's part in planned days: allotDue runs the planner off the
// owner loop and brings AllotRequests back through it; a failed commit
// rolls the allotment back.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
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

// recordingEngine runs an engine until the test ends (or stop is called),
// recording its events and counting its log messages.
type recordingEngine struct {
	e      *Engine
	stop   func()
	mu     sync.Mutex
	events []scheduler.Event
	logs   map[string]int // log messages, counted
}

// logged is how many times the engine logged msg.
func (r *recordingEngine) logged(msg string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logs[msg]
}

// countHandler counts the engine's log records by message.
type countHandler struct{ r *recordingEngine }

func (h countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countHandler) Handle(_ context.Context, rec slog.Record) error {
	h.r.mu.Lock()
	h.r.logs[rec.Message]++
	h.r.mu.Unlock()
	return nil
}
func (h countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countHandler) WithGroup(string) slog.Handler      { return h }

func (r *recordingEngine) kinds(kind string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ev := range r.events {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

func runRecording(t *testing.T, cfg *scheduler.Config, st store.Store, clk Clock, reg prometheus.Registerer, plan scheduler.PlanOptions) *recordingEngine {
	t.Helper()
	r := &recordingEngine{logs: map[string]int{}}
	e, err := New(Options{Config: cfg, Store: st, Clock: clk, Registerer: reg, Plan: plan, Logger: slog.New(countHandler{r}),
		Publish: func(ev scheduler.Event) { r.mu.Lock(); r.events = append(r.events, ev); r.mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	var once sync.Once
	r.e = e
	r.stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(r.stop)
	return r
}

// pollUntil polls cond every few milliseconds until it holds or the time
// is up; it reports whether it held.
func pollUntil(total time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(total)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func pendingOf(t *testing.T, e *Engine, date string) (pending int, qs []scheduler.Request) {
	t.Helper()
	if err := e.Read(context.Background(), func(s *scheduler.State, _ time.Time) {
		qs = s.Requests("", date)
		for _, q := range qs {
			if q.Status == scheduler.RequestPending {
				pending++
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	return pending, qs
}

// TestPlannedDayNotWedgedByALowerMaxPartySize: between a request and its
// cut-off the site lowers max_party_size below the request's party (the
// numbers "must be easy to change"). At the cut-off RequestInstance
// refuses the whole date (DayInstance validates every request), allotDue
// logs and skips it on every tick, and nothing else ever resolves it: all
// operators' requests of the day stay pending for ever, and the day never
// opens to first-come bookings either (windowOpen while any is pending).
func TestPlannedDayNotWedgedByALowerMaxPartySize(t *testing.T) {
	dir := t.TempDir()
	cfg := petra(t)
	clk := NewManualClock(time.Date(2026, 10, 10, 10, 0, 0, 0, cfg.Location()))
	st := openStore(t, dir)
	r := runRecording(t, cfg, st, clk, nil, scheduler.PlanOptions{Iterations: 2000})
	for i, size := range []int{55, 30, 20} {
		res, err := r.e.Do(context.Background(), scheduler.SubmitRequest{ID: fmt.Sprintf("rq%d", i), BookingID: fmt.Sprintf("bk%d", i),
			Operator: fmt.Sprintf("op%d", i), Request: scheduler.BookingRequest{Date: plannedDate, Route: "main", PartySize: size,
				Window: scheduler.Window{From: 8 * 60, To: 11 * 60}}})
		if err != nil || res.Err != nil {
			t.Fatal(err, res.Err)
		}
	}
	r.stop()
	st.Close()

	text := strings.Replace(string(testenv.PetraYAML(t)), "max_party_size: 60", "max_party_size: 50", 1)
	smaller, err := scheduler.ParseConfig([]byte(text))
	if err != nil || smaller.Policy.MaxPartySize != 50 {
		t.Fatalf("config with max_party_size 50: %v", err)
	}
	clk.Set(time.Date(2026, 10, 17, 18, 5, 0, 0, cfg.Location())) // after the cut-off
	st = openStore(t, dir)
	defer st.Close()
	r = runRecording(t, smaller, st, clk, nil, scheduler.PlanOptions{Iterations: 2000})
	resolved := pollUntil(2*time.Second, func() bool {
		r.e.Do(context.Background(), scheduler.Tick{})
		n, _ := pendingOf(t, r.e, plannedDate)
		return n == 0
	})
	if !resolved {
		n, _ := pendingOf(t, r.e, plannedDate)
		res, _ := r.e.Do(context.Background(), scheduler.Book{ID: "walk", Operator: "op9", Request: scheduler.BookingRequest{
			Date: plannedDate, Route: "main", PartySize: 5, Window: scheduler.Window{From: 12 * 60, To: 14 * 60}}})
		t.Fatalf("after the cut-off and many ticks, %d requests of %s are still pending and first come is refused (%v): the date is wedged",
			n, plannedDate, res.Err)
	}
}

// TestPlannedDayPlannedOnceWhileTicksGoOn: ticks keep coming while the planner
// runs off the loop; the date is planned and allotted exactly once, and
// what is in memory is what is stored.
func TestPlannedDayPlannedOnceWhileTicksGoOn(t *testing.T) {
	dir := t.TempDir()
	cfg := petra(t)
	clk := NewManualClock(time.Date(2026, 10, 10, 10, 0, 0, 0, cfg.Location()))
	st := openStore(t, dir)
	defer st.Close()
	reg := prometheus.NewRegistry()
	r := runRecording(t, cfg, st, clk, reg, scheduler.PlanOptions{Iterations: 80000})
	submitRequests(t, r.e, 60)
	clk.Set(time.Date(2026, 10, 17, 18, 0, 1, 0, cfg.Location()))
	ticks := 0
	// The planner's 80,000 iterations take a few seconds alone and far
	// longer under -race on a loaded machine; the test is about "once",
	// not speed, so it waits long.
	done := pollUntil(2*time.Minute, func() bool {
		r.e.Do(context.Background(), scheduler.Tick{})
		ticks++
		n, _ := pendingOf(t, r.e, plannedDate)
		return n == 0
	})
	if !done {
		t.Fatal("requests still pending after 2 minutes")
	}
	for range 5 {
		r.e.Do(context.Background(), scheduler.Tick{})
	}
	t.Logf("%d ticks while the day was planned", ticks)
	if n := r.kinds(scheduler.EventRequestsAllotted); n != 1 {
		t.Fatalf("%d requests.allotted events for one date (%d ticks while planning)", n, ticks)
	}
	if n := r.logged("planned day: requests closed, planning"); n != 1 {
		t.Fatalf("the planner was started %d times for one date (%d ticks while planning)", n, ticks)
	}
	_, qs := pendingOf(t, r.e, plannedDate)
	snap, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	checkAllotted(t, qs, snap)
	allotted := 0
	for _, q := range qs {
		if q.Status == scheduler.RequestAllotted {
			allotted++
		}
	}
	if got := testutil.ToFloat64(r.e.m.requests.WithLabelValues("allotted")); int(got) != allotted {
		t.Errorf("tafweej_requests_total{result=allotted} %v, %d allotted", got, allotted)
	}
}

// allotThroughFailure submits requests, makes the store fail from the
// cut-off until an AllotRequests commit has been refused, then lets it
// work again and waits for the allotment.
func allotThroughFailure(t *testing.T) (*recordingEngine, *failingStore, []scheduler.Request) {
	t.Helper()
	cfg := petra(t)
	clk := NewManualClock(time.Date(2026, 10, 10, 10, 0, 0, 0, cfg.Location()))
	var refusedAllotments atomic.Int64 // refused commits that held a PutRequest
	rs := &failingStore{Store: openStore(t, t.TempDir()), OnRefused: func(effects []scheduler.Effect) {
		for _, e := range effects {
			if _, ok := e.(scheduler.PutRequest); ok {
				refusedAllotments.Add(1)
				return
			}
		}
	}}
	t.Cleanup(func() { rs.Close() })
	r := runRecording(t, cfg, rs, clk, prometheus.NewRegistry(), scheduler.PlanOptions{Iterations: 2000})
	submitRequests(t, r.e, 20)
	rs.Fail.Store(true)
	clk.Set(time.Date(2026, 10, 17, 18, 0, 1, 0, cfg.Location()))
	if !pollUntil(10*time.Second, func() bool {
		r.e.Do(context.Background(), scheduler.Tick{})
		return refusedAllotments.Load() > 0
	}) {
		t.Fatal("no allotment was tried while the store failed")
	}
	if n, _ := pendingOf(t, r.e, plannedDate); n != 20 {
		t.Fatalf("%d requests pending in memory after the allotment's commit failed, want all 20", n)
	}
	rs.Fail.Store(false)
	if !pollUntil(10*time.Second, func() bool {
		r.e.Do(context.Background(), scheduler.Tick{})
		n, _ := pendingOf(t, r.e, plannedDate)
		return n == 0
	}) {
		t.Fatal("requests still pending once the store works again")
	}
	_, qs := pendingOf(t, r.e, plannedDate)
	return r, rs, qs
}

// TestAllotmentRolledBackOnFailedCommitThenAllotted: an allotment whose commit fails is rolled
// back (every request pending again, nothing stored); a later tick allots
// the day, and memory and store agree.
func TestAllotmentRolledBackOnFailedCommitThenAllotted(t *testing.T) {
	r, rs, qs := allotThroughFailure(t)
	snap, err := rs.Load()
	if err != nil {
		t.Fatal(err)
	}
	checkAllotted(t, qs, snap)
	var mem scheduler.Snapshot
	r.e.Read(context.Background(), func(s *scheduler.State, _ time.Time) { mem = s.Snapshot() })
	if b1, b2 := must(json.Marshal(mem)), must(json.Marshal(snap)); !bytes.Equal(b1, b2) {
		t.Fatalf("memory has %d bookings and %d requests, the store %d and %d", len(mem.Bookings), len(mem.Requests), len(snap.Bookings), len(snap.Requests))
	}
}

// TestRequestsMetricCountsAnAllotmentOnce: the requests counter counts what
// was allotted, once. observeResult runs before the commit, so an
// allotment rolled back by a failed commit is counted, and counted again
// when a later tick allots the day.
func TestRequestsMetricCountsAnAllotmentOnce(t *testing.T) {
	r, _, qs := allotThroughFailure(t)
	allotted := 0
	for _, q := range qs {
		if q.Status == scheduler.RequestAllotted {
			allotted++
		}
	}
	if got := testutil.ToFloat64(r.e.m.requests.WithLabelValues("allotted")); int(got) != allotted {
		t.Errorf("tafweej_requests_total{result=\"allotted\"} is %v after one failed and one applied allotment; %d requests were allotted", got, allotted)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
