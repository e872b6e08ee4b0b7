package scheduler_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/plantest"
	"github.com/tafweej/tafweej/scheduler"
)

// The planner's plans, pinned: the digest of the whole PlanResult (every
// placement, the unplaced, the shares and the search's own counters) of
// generated days at fixed seeds, recorded in testdata/plan_golden.json from
// the planner as it was before its steps were made cheaper. A change meant
// to make the same search faster must leave every digest as it is: the
// same plans, so the same quality, with no need to measure it again.
//
//	go test -run TestPlannerPlansStayBitIdentical ./scheduler/
//	TAFWEEJ_PLAN_GOLDEN=full go test -run TestPlannerPlansStayBitIdentical ./scheduler/  # also the default budget: Petra day, Hajj-sized day (~20 s)
//	TAFWEEJ_PLAN_GOLDEN=all  go test -run TestPlannerPlansStayBitIdentical ./scheduler/  # also the 22 days at the default budget (~3 min)
//
// -update-plan-golden rewrites the file: only for a change that is meant
// to change the plans (and whose quality is then measured on the 22 days).
var updatePlanGolden = flag.Bool("update-plan-golden", false, "rewrite testdata/plan_golden.json")

const planGoldenFile = "testdata/plan_golden.json"

type goldenCase struct {
	name  string
	level int // 0 always, 1 with TAFWEEJ_PLAN_GOLDEN=full, 2 with =all
	plan  func(t *testing.T) scheduler.PlanResult
}

func goldenCases(t *testing.T) []goldenCase {
	cfg := petra(t)
	days := plantest.PetraDays(cfg)
	day := func(name string) plantest.Day {
		for _, d := range days {
			if d.Name == name {
				return d
			}
		}
		t.Fatalf("no generated day %q", name)
		return plantest.Day{}
	}
	planDay := func(c plantest.Day, opts scheduler.PlanOptions) scheduler.PlanResult {
		inst, err := c.State.DayInstance(c.Now, c.Date, c.Requests)
		if err != nil {
			t.Fatal(err)
		}
		res, err := scheduler.PlanInstance(inst, opts)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	petraDay := plantest.PetraDay(cfg, 105, plantest.DayKind{Groups: 300})
	hajj := func(opts scheduler.PlanOptions) scheduler.PlanResult {
		hcfg := plantest.HajjConfig()
		hday := time.Date(2027, 5, 16, 0, 0, 0, 0, hcfg.Location())
		return planDay(plantest.Day{Name: "hajj", State: scheduler.New(hcfg), Now: hday.Add(-12 * time.Hour),
			Date: hday.Format(time.DateOnly), Requests: plantest.HajjRequests(hcfg, 1_000_000)}, opts)
	}
	// A short budget still runs the three constructions and all three
	// searches (visitors, fairness, preference) on every kind of day:
	// walk-ins, pre-booked loads, a re-plan, closures, evenings.
	const short = 120_000
	cases := []goldenCase{
		{"petra-day-105/short", 0, func(*testing.T) scheduler.PlanResult {
			return planDay(petraDay, scheduler.PlanOptions{Iterations: short})
		}},
		{"petra-day-105/seed-42/short", 0, func(*testing.T) scheduler.PlanResult {
			return planDay(petraDay, scheduler.PlanOptions{Iterations: short, Seed: 42})
		}},
		{"petra-day-105/construct-only", 0, func(*testing.T) scheduler.PlanResult {
			return planDay(petraDay, scheduler.PlanOptions{Iterations: -1})
		}},
		{"hajj/short", 0, func(*testing.T) scheduler.PlanResult {
			return hajj(scheduler.PlanOptions{Iterations: 60_000})
		}},
		{"petra-day-105/default", 1, func(*testing.T) scheduler.PlanResult {
			return planDay(petraDay, scheduler.PlanOptions{})
		}},
		{"hajj/default", 1, func(*testing.T) scheduler.PlanResult {
			return hajj(scheduler.PlanOptions{})
		}},
	}
	for _, name := range []string{"normal-01", "light-2", "overbooked-2", "prebooked-2", "replan-1", "closure-1", "closure-2", "summer-over"} {
		c := day(name)
		cases = append(cases, goldenCase{name + "/short", 0, func(*testing.T) scheduler.PlanResult {
			return planDay(c, scheduler.PlanOptions{Iterations: short})
		}})
	}
	for _, c := range days {
		cases = append(cases, goldenCase{c.Name + "/default", 2, func(*testing.T) scheduler.PlanResult {
			return planDay(c, scheduler.PlanOptions{})
		}})
	}
	return cases
}

func planDigest(t *testing.T, res scheduler.PlanResult) string {
	t.Helper()
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return fmt.Sprintf("%s visitors=%d iterations=%d accepted=%d", hex.EncodeToString(sum[:12]), res.Visitors, res.Stats.Iterations, res.Stats.Accepted)
}

func TestPlannerPlansStayBitIdentical(t *testing.T) {
	level := 0
	switch os.Getenv("TAFWEEJ_PLAN_GOLDEN") {
	case "full":
		level = 1
	case "all":
		level = 2
	}
	golden := map[string]string{}
	if b, err := os.ReadFile(planGoldenFile); err == nil {
		if err := json.Unmarshal(b, &golden); err != nil {
			t.Fatalf("%s: %v", planGoldenFile, err)
		}
	} else if !*updatePlanGolden {
		t.Fatalf("%s: %v (record it with -update-plan-golden)", planGoldenFile, err)
	}
	for _, c := range goldenCases(t) {
		if c.level > level {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			got := planDigest(t, c.plan(t))
			if *updatePlanGolden {
				golden[c.name] = got
				return
			}
			want, ok := golden[c.name]
			if !ok {
				t.Fatalf("no digest recorded for %s (got %s)", c.name, got)
			}
			if got != want {
				t.Fatalf("plan changed:\n got %s\nwant %s", got, want)
			}
		})
	}
	if *updatePlanGolden {
		ordered, err := json.MarshalIndent(golden, "", "  ") // keys sorted
		if err != nil {
			t.Fatal(err)
		}
		ordered = append(ordered, '\n')
		if err := os.MkdirAll(filepath.Dir(planGoldenFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(planGoldenFile, ordered, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
