package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// 20 October 2026 is a planned day in configs/petra.yaml; its requests
// close on 17 October at 18:00.
const plannedDate = "2026-10-20"

func submitRequests(t *testing.T, e *Engine, n int) int {
	t.Helper()
	visitors := 0
	for i := range n {
		size := 20 + i%5*10
		res, err := e.Do(context.Background(), scheduler.SubmitRequest{
			ID: fmt.Sprintf("rq%03d", i), BookingID: fmt.Sprintf("bk%03d", i), Operator: fmt.Sprintf("op%d", i%6),
			Request: scheduler.BookingRequest{Date: plannedDate, Route: "main", PartySize: size,
				Window: scheduler.Window{From: 8 * 60, To: 10 * 60}}})
		if err != nil || res.Err != nil {
			t.Fatalf("submit %d: %v %v", i, err, res.Err)
		}
		visitors += size
	}
	return visitors
}

// waitAllotted polls until no request of the planned day is pending.
func waitAllotted(t *testing.T, e *Engine) []scheduler.Request {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var qs []scheduler.Request
		pending := 0
		e.Read(context.Background(), func(s *scheduler.State, _ time.Time) {
			qs = s.Requests("", plannedDate)
			for _, q := range qs {
				if q.Status == scheduler.RequestPending {
					pending++
				}
			}
		})
		if pending == 0 {
			return qs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests still pending after 30 s", pending)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func checkAllotted(t *testing.T, qs []scheduler.Request, snap scheduler.Snapshot) {
	t.Helper()
	bookings := map[string]scheduler.Booking{}
	for _, b := range snap.Bookings {
		bookings[b.ID] = b
	}
	stored := map[string]scheduler.Request{}
	for _, q := range snap.Requests {
		stored[q.ID] = q
	}
	allotted := 0
	for _, q := range qs {
		if stored[q.ID].Status != q.Status {
			t.Fatalf("request %s is %s in memory, %s in the store", q.ID, q.Status, stored[q.ID].Status)
		}
		switch q.Status {
		case scheduler.RequestAllotted:
			b, ok := bookings[q.Booking]
			if !ok || b.PartySize != q.PartySize || b.Date != plannedDate {
				t.Fatalf("request %s allotted, its booking %s not stored", q.ID, q.Booking)
			}
			allotted++
		case scheduler.RequestNotPlaced:
		default:
			t.Fatalf("request %s is %s", q.ID, q.Status)
		}
	}
	if allotted == 0 {
		t.Fatal("nothing was allotted")
	}
}

// TestPlannedDayAllotted: requests wait until the cut-off; the next tick
// plans them off the owner loop and allots them durably.
func TestPlannedDayAllotted(t *testing.T) {
	st := openStore(t, t.TempDir())
	cfg := petra(t)
	clk := NewManualClock(time.Date(2026, 10, 10, 10, 0, 0, 0, cfg.Location()))
	reg := prometheus.NewRegistry()
	e, err := New(Options{Config: cfg, Store: st, Clock: clk, Registerer: reg, Plan: scheduler.PlanOptions{Iterations: 20000}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	submitRequests(t, e, 60)
	res, err := e.Do(ctx, scheduler.Book{ID: "early", Operator: "op9", Request: scheduler.BookingRequest{
		Date: plannedDate, Route: "main", PartySize: 5, Window: scheduler.Window{From: 8 * 60, To: 10 * 60}}})
	if err != nil || res.Err == nil {
		t.Fatalf("first come before the allotment: %v %v", err, res.Err)
	}
	// A tick before the cut-off allots nothing.
	e.Do(ctx, scheduler.Tick{})
	var due []string
	e.Read(ctx, func(s *scheduler.State, now time.Time) { due = s.RequestsDue(now) })
	if len(due) != 0 {
		t.Fatalf("due before the cut-off: %v", due)
	}

	clk.Set(time.Date(2026, 10, 17, 18, 0, 5, 0, cfg.Location()))
	e.Do(ctx, scheduler.Tick{})
	qs := waitAllotted(t, e)
	snap, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	checkAllotted(t, qs, snap)
	if got := testutil.ToFloat64(e.m.requests.WithLabelValues("submitted")); got != 60 {
		t.Errorf("tafweej_requests_total{result=submitted} %v, want 60", got)
	}
	if got := testutil.CollectAndCount(e.m.planDur); got != 1 {
		t.Errorf("planner duration histogram has %d series", got)
	}
	// The date is open to first come now.
	res, err = e.Do(ctx, scheduler.Book{ID: "late", Operator: "op9", Request: scheduler.BookingRequest{
		Date: plannedDate, Route: "main", PartySize: 5, Window: scheduler.Window{From: 6 * 60, To: 15 * 60}}})
	if err != nil || res.Err != nil {
		t.Fatalf("first come after the allotment: %v %v", err, res.Err)
	}
}

// TestPlannedDayAllottedAfterRestart: the service was down at the cut-off;
// the pending requests are allotted as soon as it starts again.
func TestPlannedDayAllottedAfterRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := petra(t)
	clk := NewManualClock(time.Date(2026, 10, 16, 9, 0, 0, 0, cfg.Location()))
	run := func(st store.Store, fn func(e *Engine)) {
		e, err := New(Options{Config: cfg, Store: st, Clock: clk, Plan: scheduler.PlanOptions{Iterations: 20000}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { e.Run(ctx); close(done) }()
		fn(e)
		cancel()
		<-done
	}
	st := openStore(t, dir)
	run(st, func(e *Engine) { submitRequests(t, e, 30) })
	st.Close()

	clk.Set(time.Date(2026, 10, 18, 7, 0, 0, 0, cfg.Location()))
	st = openStore(t, dir)
	defer st.Close()
	run(st, func(e *Engine) {
		qs := waitAllotted(t, e) // no tick but the one at start
		snap, err := st.Load()
		if err != nil {
			t.Fatal(err)
		}
		checkAllotted(t, qs, snap)
	})
}
