package scheduler_test

import (
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/tafweej/tafweej/internal/plantest"
	"github.com/tafweej/tafweej/scheduler"
)

// qualityFloor is the share of the best bound known that the planner must
// place on every generated Petra day.
const qualityFloor = 0.99

// quickQualityDays are the days TestPlannerReachesKnownBounds plans in the
// default run: the two that CBC proved optimal (so 99% of the bound is 99%
// of the optimum), which are also the quickest to plan (about a second
// each, under the race detector too).
var quickQualityDays = []string{"prebooked-2", "closure-1"}

// TestPlannerReachesKnownBounds plans the generated Petra days with the
// default budget and checks that each places at least 99% of the best
// upper bound known on its optimum (internal/plantest's
// testdata/petra-bounds.json, proven by CBC; make planner-bounds). The
// default run plans quickQualityDays; TAFWEEJ_PLAN_QUALITY=all (make
// planner-quality) plans all 22. The bound is CBC's rounded down
// (plantest.IntegralBound): a plan places whole visitors. A day whose model changed since its bound
// was proven fails: its bound must be proven again. Each day logs the
// planner's CPU time, and the run ends with a summary (days at 99%, worst,
// mean, CPU in all). TAFWEEJ_PLAN_BUDGET=F (make planner-quality
// BUDGET=F) plans at F times the default budget, to measure what a
// change of the search or of its budget costs in quality.
func TestPlannerReachesKnownBounds(t *testing.T) {
	if testing.Short() {
		t.Skip("plans Petra days at the default budget (seconds each)")
	}
	all := os.Getenv("TAFWEEJ_PLAN_QUALITY") == "all"
	budget := 1.0
	if v := os.Getenv("TAFWEEJ_PLAN_BUDGET"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 16 {
			t.Fatalf("TAFWEEJ_PLAN_BUDGET %q is not valid (accepted: a share of the default budget, more than 0 and at most 16)", v)
		}
		budget = f
	}
	known, err := plantest.KnownBounds()
	if err != nil {
		t.Fatal(err)
	}
	var n, ok99 int
	var worst, sum, cpuAll float64 = 2, 0, 0
	t.Cleanup(func() {
		if n > 0 {
			t.Logf("budget %.3g × default: %d of %d days at %.2f of the bound or more; worst %.4f, mean %.4f; planner CPU %.1f s in all", budget, ok99, n, qualityFloor, worst, sum/float64(n), cpuAll)
		}
	})
	for _, c := range plantest.PetraDays(petra(t)) {
		if !all && !slices.Contains(quickQualityDays, c.Name) {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			inst, err := c.State.DayInstance(c.Now, c.Date, c.Requests)
			if err != nil {
				t.Fatal(err)
			}
			hash, _, err := plantest.ModelHash(inst)
			if err != nil {
				t.Fatal(err)
			}
			b, ok := known.Lookup(c.Name, hash)
			if !ok {
				t.Fatalf("no bound known for the model of %s (%s): it changed since the bounds were proven; run make planner-bounds", c.Name, hash[:12])
			}
			var opts scheduler.PlanOptions
			if budget != 1 {
				opts.Iterations = max(int(budget*float64(scheduler.DefaultIterations(len(inst.Requests)))), 1)
			}
			cpu0 := cpuSeconds()
			res, err := scheduler.PlanInstance(inst, opts)
			cpu := cpuSeconds() - cpu0
			if err != nil {
				t.Fatal(err)
			}
			scheduler.CheckPlan(t, c.State, c.Now, c.Date, c.Requests, res)
			if v, err := plantest.LPValue(inst, res); err != nil || v != res.Visitors {
				t.Fatalf("the plan is not a solution of the day's model (%v) or is worth %d, not %d visitors", err, v, res.Visitors)
			}
			bound := plantest.IntegralBound(b.Bound) // every plan places whole visitors
			ratio := float64(res.Visitors) / bound
			t.Logf("%d visitors, bound %.0f (CBC's %.1f rounded down; %s), %.4f of it; %.2f s of CPU", res.Visitors, bound, b.Bound, b.Status, ratio, cpu)
			n, sum, cpuAll, worst = n+1, sum+ratio, cpuAll+cpu, min(worst, ratio)
			if ratio >= qualityFloor {
				ok99++
			}
			if float64(res.Visitors) > bound {
				t.Fatalf("%d visitors above the proven bound %.0f: the planner and the model disagree", res.Visitors, bound)
			}
			if ratio < qualityFloor {
				t.Errorf("%d visitors: %.4f of the bound %.0f, below %.2f", res.Visitors, ratio, bound, qualityFloor)
			}
		})
	}
}
