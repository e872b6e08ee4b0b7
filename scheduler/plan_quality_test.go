package scheduler_test

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/tafweej/tafweej/internal/plantest"
	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/scheduler"
)

// The planner on generated Petra days (internal/plantest's, the same days
// as tafweej bench and TestPlannerVsCBC), checked independently of the
// planner by scheduler.CheckPlan.

// petra is the Petra configuration without planned days, as the internal
// tests' petra.
func petra(t testing.TB) *scheduler.Config {
	t.Helper()
	cfg, err := scheduler.ParseConfig(testenv.PetraYAML(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Policy.RequestWindow = nil
	return cfg
}

// mustPlan plans a day as PlanDay does, with the tests' budget.
func mustPlan(t testing.TB, c plantest.Day) scheduler.PlanResult {
	t.Helper()
	inst, err := c.State.DayInstance(c.Now, c.Date, c.Requests)
	if err != nil {
		t.Fatal(err)
	}
	res, err := scheduler.PlanInstance(inst, scheduler.PlanOptions{Iterations: scheduler.TestIterations})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func snapJSON(t testing.TB, s *scheduler.State) string {
	b, err := json.Marshal(s.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPlanDayNeverOverCapacity(t *testing.T) {
	cfg := petra(t)
	for _, c := range []plantest.Day{
		func() plantest.Day {
			c := plantest.PetraDay(cfg, 1, plantest.DayKind{Groups: 300})
			c.Name = "normal"
			return c
		}(),
		func() plantest.Day {
			c := plantest.PetraDay(cfg, 2, plantest.DayKind{Groups: 480})
			c.Name = "overbooked"
			return c
		}(),
		func() plantest.Day {
			c := plantest.PetraDay(cfg, 3, plantest.DayKind{Groups: 300, PreBooked: 0.4, Closure: true})
			c.Name = "closure"
			return c
		}(),
		func() plantest.Day {
			c := plantest.PetraDay(cfg, 4, plantest.DayKind{Groups: 300, PreBooked: 0.4, Replan: true})
			c.Name = "replan"
			return c
		}(),
	} {
		t.Run(c.Name, func(t *testing.T) {
			res := mustPlan(t, c)
			scheduler.CheckPlan(t, c.State, c.Now, c.Date, c.Requests, res)
			if res.Visitors == 0 || res.Requested == 0 {
				t.Fatalf("nothing planned: %+v", res.Stats)
			}
			t.Logf("%d/%d visitors, %d groups unplaced, shares %.3f-%.3f, greedy %d, %d iterations, mean deviation %.1f min",
				res.Visitors, res.Requested, len(res.Unplaced), res.Stats.MinShare, res.Stats.MaxShare, res.Stats.GreedyVisitors,
				res.Stats.Iterations, res.Stats.MeanDeviationMinutes)
		})
	}
}

func TestPlanDayDeterministic(t *testing.T) {
	cfg := petra(t)
	c := plantest.PetraDay(cfg, 7, plantest.DayKind{Groups: 320, PreBooked: 0.2})
	a := mustPlan(t, c)
	b := mustPlan(t, c)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same input gave two plans")
	}
	// The order of the requests is not part of the input.
	shuffled := c
	shuffled.Requests = slices.Clone(c.Requests)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled.Requests), func(i, j int) {
		shuffled.Requests[i], shuffled.Requests[j] = shuffled.Requests[j], shuffled.Requests[i]
	})
	if s := mustPlan(t, shuffled); !reflect.DeepEqual(a, s) {
		t.Fatal("the same requests in another order gave another plan")
	}
	// Another seed is another search, still feasible.
	inst, err := c.State.DayInstance(c.Now, c.Date, c.Requests)
	if err != nil {
		t.Fatal(err)
	}
	o, err := scheduler.PlanInstance(inst, scheduler.PlanOptions{Seed: 42, Iterations: scheduler.TestIterations})
	if err != nil {
		t.Fatal(err)
	}
	scheduler.CheckPlan(t, c.State, c.Now, c.Date, c.Requests, o)
}

func TestPlanDayDoesNotChangeState(t *testing.T) {
	cfg := petra(t)
	c := plantest.PetraDay(cfg, 9, plantest.DayKind{Groups: 200, PreBooked: 0.5, Replan: true})
	before := snapJSON(t, c.State)
	days := scheduler.DayCount(c.State)
	mustPlan(t, c)
	other := c
	other.Date = "2026-12-24" // a day the state has never seen
	other.Requests = slices.Clone(c.Requests)
	for i := range other.Requests {
		other.Requests[i].ID = "new-" + other.Requests[i].ID
	}
	mustPlan(t, other)
	if snapJSON(t, c.State) != before || scheduler.DayCount(c.State) != days {
		t.Fatal("PlanDay changed the state")
	}
}

// TestPlanDayReplansBookings: re-planning a first-come day's own bookings
// (their ids repeated as requests) lifts them off first, so the plan may
// move them, and places at least as many visitors as first come did.
func TestPlanDayReplansBookings(t *testing.T) {
	cfg := petra(t)
	c := plantest.PetraDay(cfg, 11, plantest.DayKind{Groups: 250, PreBooked: 1, Replan: true})
	booked := 0
	for _, b := range c.State.Bookings("", c.Date) {
		if b.Active() {
			booked += b.PartySize
		}
	}
	res := mustPlan(t, c)
	scheduler.CheckPlan(t, c.State, c.Now, c.Date, c.Requests, res)
	if res.Requested != booked || res.Visitors < booked {
		t.Fatalf("re-planned %d of %d booked visitors; want all of them", res.Visitors, booked)
	}
}
