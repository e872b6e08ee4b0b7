package engine

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tafweej/tafweej/scheduler"
)

// blockingPlanner is a planner that reports each call and waits until
// released; then it plans.
type blockingPlanner struct {
	started chan struct{}
	release chan struct{}
	once    sync.Once
}

func newBlockingPlanner(t testing.TB) *blockingPlanner {
	p := &blockingPlanner{started: make(chan struct{}, 64), release: make(chan struct{})}
	t.Cleanup(p.free)
	return p
}

func (p *blockingPlanner) free() { p.once.Do(func() { close(p.release) }) }

func (p *blockingPlanner) plan(inst scheduler.Instance, opts scheduler.PlanOptions) (scheduler.PlanResult, error) {
	select {
	case p.started <- struct{}{}:
	default:
	}
	<-p.release
	opts.Iterations = min(opts.Iterations, 5000) // quick under -race
	return scheduler.PlanInstance(inst, opts)
}

// todayTicket books a group of today (2026-11-29, on the back trail, away
// from the Siq in the morning) and returns its ticket.
func todayTicket(t testing.TB, e *Engine) scheduler.Ticket {
	t.Helper()
	res, err := e.Do(context.Background(), scheduler.Book{ID: "today-group", Operator: "gate-op", Request: scheduler.BookingRequest{
		Date: "2026-11-29", Route: "back-trail", PartySize: 30, Window: scheduler.Window{From: 10 * 60, To: 15 * 60}}})
	if err != nil || res.Err != nil {
		t.Fatal(err, res.Err)
	}
	b := res.Booking
	return scheduler.Ticket{Booking: b.ID, Date: b.Date, Slot: b.Slot, Gate: b.Gate, PartySize: b.PartySize}
}

// cutOverFullDays is a cut of the Siq to 100 visitors over two full days
// and the empty day after them.
func cutOverFullDays(first time.Time) scheduler.CutCapacity {
	return scheduler.CutCapacity{ID: "rain", Zone: "siq", Capacity: 100, From: first, Until: first.AddDate(0, 0, 3), Reason: "rain", Source: "ops"}
}

// checkCutInForce checks that the cut's lower capacity bounds new
// bookings on the empty third day: no wave of the main trail offers
// operators more than their part of 100 in the Siq.
func checkCutInForce(t testing.TB, e *Engine, first time.Time) {
	t.Helper()
	var avail []scheduler.SlotRoom
	var err error
	e.Read(context.Background(), func(s *scheduler.State, now time.Time) {
		avail, err = s.Availability(now, first.AddDate(0, 0, 2).Format(time.DateOnly), "main", "op-new")
	})
	if err != nil || len(avail) == 0 {
		t.Fatalf("availability: %v (%d waves)", err, len(avail))
	}
	for _, a := range avail {
		if a.Remaining > 80 {
			t.Fatalf("wave %s offers %d visitors while the cut of the Siq to 100 applies", a.Slot.Format(time.DateTime), a.Remaining)
		}
	}
}

// TestScansAnsweredWhileReplanRuns: while the planner of a cut's re-plan
// runs (here: blocked until released), the owner loop answers scans and
// reads, and the cut is already in force; once the planner is released
// the cut's caller is answered with the re-plan whole and nothing over
// capacity.
func TestScansAnsweredWhileReplanRuns(t *testing.T) {
	cfg := petra(t)
	st := openStore(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	first, _ := seedFullDays(t, cfg, st, 2)
	e, _ := runEngine(t, cfg, st, Options{})
	p := newBlockingPlanner(t)
	e.planFn = p.plan
	ticket := todayTicket(t, e)

	type answer struct {
		res scheduler.Result
		err error
	}
	cut := make(chan answer, 1)
	go func() {
		res, err := e.Do(context.Background(), cutOverFullDays(first))
		cut <- answer{res, err}
	}()
	select {
	case <-p.started:
	case a := <-cut:
		t.Fatalf("the cut was re-planned without a planner off the loop: %+v %v", a.res.Cut, a.err)
	case <-time.After(30 * time.Second):
		t.Fatal("the cut's re-plan never reached a planner off the loop")
	}
	// The planner is blocked: the loop goes on answering.
	for i := range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		res, err := e.Do(ctx, scheduler.Scan{Gate: ticket.Gate, Ticket: ticket, Count: 1, ScanID: "while-" + string(rune('a'+i)), Device: "d1"})
		cancel()
		if err != nil {
			t.Fatalf("scan %d while the re-plan runs: %v", i, err)
		}
		if res.Scan == nil {
			t.Fatalf("scan %d while the re-plan runs: no decision (%v)", i, res.Err)
		}
	}
	checkCutInForce(t, e, first)
	var applying []string
	e.Read(context.Background(), func(s *scheduler.State, _ time.Time) { _, applying = s.Applying() })
	if len(applying) != 1 || applying[0] != "rain" {
		t.Fatalf("cuts applying while the planner runs: %v, want [rain]", applying)
	}
	select {
	case a := <-cut:
		t.Fatalf("the cut's caller was answered before its re-plan was whole: %+v %v", a.res.Cut, a.err)
	default:
	}

	p.free()
	var a answer
	select {
	case a = <-cut:
	case <-time.After(60 * time.Second):
		t.Fatal("the cut's caller was never answered")
	}
	if a.err != nil || a.res.Err != nil {
		t.Fatal(a.err, a.res.Err)
	}
	if a.res.Cut.Applying || a.res.Cut.Replanned.Moved+a.res.Cut.Replanned.Cancelled == 0 {
		t.Fatalf("cut answered as %+v, want whole, with bookings moved or cancelled", a.res.Cut)
	}
	e.Read(context.Background(), func(s *scheduler.State, now time.Time) {
		if over := s.OverCapacity(now); len(over) > 0 {
			t.Errorf("over capacity after the re-plan: %+v", over[0])
		}
	})
}

// TestCutReplanResumesAfterCrash: the service stops (a crash) while the
// planner of a cut's re-plan runs. The cut is stored as applying, in
// force after the restart at once, and re-planned then; every booking
// stored before is still stored, unchanged or moved or cancelled with the
// cut's reason.
func TestCutReplanResumesAfterCrash(t *testing.T) {
	cfg := petra(t)
	dir := t.TempDir()
	st := openStore(t, dir)
	first, _ := seedFullDays(t, cfg, st, 2)
	e, stop := runEngine(t, cfg, st, Options{})
	p := newBlockingPlanner(t)
	e.planFn = p.plan
	cut := make(chan error, 1)
	go func() {
		res, err := e.Do(context.Background(), cutOverFullDays(first))
		cut <- errors.Join(err, res.Err)
	}()
	select {
	case <-p.started:
	case <-time.After(30 * time.Second):
		t.Fatal("the cut's re-plan never reached a planner off the loop")
	}
	stop() // the crash, the planner still running
	if err := <-cut; err == nil {
		t.Fatal("the cut's caller was told it was whole, but it never was")
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = openStore(t, dir)
	t.Cleanup(func() { st.Close() })
	before, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(before.Cuts) != 1 || !before.Cuts[0].Applying {
		t.Fatalf("stored cuts after the crash: %+v, want rain applying", before.Cuts)
	}
	e2, _ := runEngine(t, cfg, st, Options{ReplanBudget: 10000})
	checkCutInForce(t, e2, first)
	if !pollUntil(60*time.Second, func() bool {
		var n int
		e2.Read(context.Background(), func(s *scheduler.State, _ time.Time) { _, cu := s.Applying(); n = len(cu) })
		return n == 0
	}) {
		t.Fatal("the cut was not re-planned after the restart")
	}
	after, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	if c := after.Cuts[0]; c.Applying || c.Replanned.Moved+c.Replanned.Cancelled == 0 {
		t.Fatalf("stored cut after the restart: %+v", c)
	}
	stored := map[string]scheduler.Booking{}
	for _, b := range after.Bookings {
		stored[b.ID] = b
	}
	for _, b := range before.Bookings {
		a, ok := stored[b.ID]
		switch {
		case !ok:
			t.Errorf("booking %s lost", b.ID)
		case a.Version != b.Version && !strings.HasPrefix(a.Reason, "capacity cut: rain"):
			t.Errorf("booking %s changed without the cut's reason: %+v", b.ID, a)
		}
	}
	e2.Read(context.Background(), func(s *scheduler.State, now time.Time) {
		if over := s.OverCapacity(now); len(over) > 0 {
			t.Errorf("over capacity after the re-plan: %+v", over[0])
		}
	})
}

// TestCutReplanWithoutPlanIsFirstCome: a planner that panics leaves no
// plan; the cut is still re-planned whole, first come, and nothing is left
// over capacity.
func TestCutReplanWithoutPlanIsFirstCome(t *testing.T) {
	cfg := petra(t)
	st := openStore(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	first, _ := seedFullDays(t, cfg, st, 2)
	e, _ := runEngine(t, cfg, st, Options{})
	var calls atomic.Int64
	e.planFn = func(scheduler.Instance, scheduler.PlanOptions) (scheduler.PlanResult, error) {
		calls.Add(1)
		panic("planner broken")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := e.Do(ctx, cutOverFullDays(first))
	if err != nil || res.Err != nil {
		t.Fatal(err, res.Err)
	}
	if calls.Load() == 0 {
		t.Fatal("the planner was never called")
	}
	if res.Cut.Applying || res.Cut.Replanned.Moved+res.Cut.Replanned.Cancelled == 0 {
		t.Fatalf("cut answered as %+v, want whole, with bookings moved or cancelled", res.Cut)
	}
	e.Read(ctx, func(s *scheduler.State, now time.Time) {
		if over := s.OverCapacity(now); len(over) > 0 {
			t.Errorf("over capacity after the re-plan: %+v", over[0])
		}
	})
}
