package scheduler_test

import (
	"os"
	"slices"
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
// planner-quality) plans all 22. A day whose model changed since its bound
// was proven fails: its bound must be proven again.
func TestPlannerReachesKnownBounds(t *testing.T) {
	if testing.Short() {
		t.Skip("plans Petra days at the default budget (seconds each)")
	}
	all := os.Getenv("TAFWEEJ_PLAN_QUALITY") == "all"
	known, err := plantest.KnownBounds()
	if err != nil {
		t.Fatal(err)
	}
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
			res, err := scheduler.PlanInstance(inst, scheduler.PlanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			scheduler.CheckPlan(t, c.State, c.Now, c.Date, c.Requests, res)
			if v, err := plantest.LPValue(inst, res); err != nil || v != res.Visitors {
				t.Fatalf("the plan is not a solution of the day's model (%v) or is worth %d, not %d visitors", err, v, res.Visitors)
			}
			ratio := float64(res.Visitors) / b.Bound
			t.Logf("%d visitors, bound %.1f (%s), %.4f of it", res.Visitors, b.Bound, b.Status, ratio)
			if float64(res.Visitors) > b.Bound+0.5 {
				t.Fatalf("%d visitors above the proven bound %.1f: the planner and the model disagree", res.Visitors, b.Bound)
			}
			if ratio < qualityFloor {
				t.Errorf("%d visitors: %.4f of the bound %.1f, below %.2f", res.Visitors, ratio, b.Bound, qualityFloor)
			}
		})
	}
}
