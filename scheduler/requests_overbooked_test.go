package scheduler_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/plantest"
	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/scheduler"
)

// plannedPetra is the Petra configuration with its planned days.
func plannedPetra(t testing.TB) *scheduler.Config {
	t.Helper()
	cfg, err := scheduler.ParseConfig(testenv.PetraYAML(t))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Policy.RequestWindow == nil {
		t.Fatal("configs/petra.yaml has no policy.request_window")
	}
	return cfg
}

// recorder applies commands and keeps every effect, as the internal
// tests' recorder does.
type recorder struct {
	s       *scheduler.State
	effects []scheduler.Effect
}

func (r *recorder) do(t testing.TB, now time.Time, c scheduler.Command) scheduler.Result {
	t.Helper()
	res, eff := r.s.Apply(now, c)
	if res.Err != nil && len(eff) > 0 {
		t.Fatalf("%T refused (%v) but returned %d effects", c, res.Err, len(eff))
	}
	r.effects = append(r.effects, eff...)
	return res
}

func code(err error) string {
	var e *scheduler.Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err != nil {
		return "?" + err.Error()
	}
	return ""
}

// TestAllotRequestsOverbooked plans an overbooked planned day: the plan
// keeps every capacity, places at least what first come would have placed
// from the same requests, and says why each left-out request was not
// placed.
func TestAllotRequestsOverbooked(t *testing.T) {
	cfg := plannedPetra(t)
	cfg.Policy.RequestWindow.Periods = nil // every date is planned
	c := plantest.PetraDay(petra(t), 3, plantest.DayKind{Groups: 320})
	base, _ := time.ParseInLocation(time.DateOnly, c.Date, cfg.Location())
	cutoff, _ := cfg.RequestCutoff(base)
	r := &recorder{s: scheduler.New(cfg)}
	fc := scheduler.New(petra(t)) // the same requests, first come first served
	submitAt := cutoff.Add(-48 * time.Hour)
	firstCome := 0
	for i, pq := range c.Requests {
		if pq.Operator == scheduler.WalkInOperator {
			continue
		}
		req := scheduler.BookingRequest{Date: c.Date, Route: pq.Route, PartySize: pq.PartySize, Window: pq.Window}
		at := submitAt.Add(time.Duration(i) * time.Second)
		res := r.do(t, at, scheduler.SubmitRequest{ID: pq.ID, BookingID: "bk-" + pq.ID, Operator: pq.Operator, Request: req, Preferred: pq.Preferred})
		if res.Err != nil {
			if code(res.Err) == scheduler.CodeOverShare {
				continue // an operator asked for more than its day share
			}
			t.Fatalf("submit %s: %v", pq.ID, res.Err)
		}
		if res, _ := fc.Apply(at, scheduler.Book{ID: pq.ID, Operator: pq.Operator, Request: req}); res.Err == nil {
			firstCome += pq.PartySize
		}
	}
	after := cutoff.Add(time.Hour)
	inst, err := r.s.RequestInstance(after, c.Date)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := scheduler.PlanInstance(inst, scheduler.PlanOptions{Iterations: scheduler.TestIterations})
	if err != nil {
		t.Fatal(err)
	}
	res := r.do(t, after, scheduler.AllotRequests{Date: c.Date, Plan: plan})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	sum := res.Allotted
	t.Logf("%d requests, %d visitors asked: planned %d placed (%d not placed), first come %d", sum.Requests, sum.Requested, sum.Visitors, sum.NotPlaced, firstCome)
	if sum.NotPlaced == 0 {
		t.Fatal("the day is meant to be overbooked")
	}
	if sum.Visitors < firstCome {
		t.Fatalf("the planned day placed %d visitors, first come %d", sum.Visitors, firstCome)
	}
	scheduler.CheckDayLoads(t, r.s, c.Date)
	placed := 0
	for _, q := range r.s.Requests("", c.Date) {
		switch q.Status {
		case scheduler.RequestAllotted:
			b, ok := r.s.Booking("", q.Booking)
			if !ok || b.PartySize != q.PartySize || b.Operator != q.Operator {
				t.Fatalf("request %s allotted without its booking", q.ID)
			}
			placed += q.PartySize
		case scheduler.RequestNotPlaced:
			if !strings.Contains(q.Reason, "no room") {
				t.Fatalf("request %s not placed with reason %q", q.ID, q.Reason)
			}
		default:
			t.Fatalf("request %s is %s after the allotment", q.ID, q.Status)
		}
	}
	if placed != sum.Visitors {
		t.Fatalf("allotted requests hold %d visitors, the summary says %d", placed, sum.Visitors)
	}
}
