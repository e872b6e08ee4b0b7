package scheduler_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/plantest"
	"github.com/tafweej/tafweej/scheduler"
)

// The planner's quality against an exact solver: every instance is written
// as a 0-1 integer program (internal/plantest, built from the Instance
// independently of the planner's own compilation) and solved by CBC
// (Debian package coinor-cbc) under a time limit; the planner's visitors
// are reported as a share of the solver's proven upper bound.

// cbcResult is what CBC proved, and how long it took.
type cbcResult struct {
	objective float64 // best integer solution found
	bound     float64 // upper bound on the optimum
	status    string
	seconds   float64
}

// runCBC solves an LP file with a time limit.
func runCBC(ctx context.Context, lpFile string, limit time.Duration) (cbcResult, string, error) {
	sol := lpFile + ".sol"
	start := time.Now()
	out, err := exec.CommandContext(ctx, "cbc", lpFile, "sec", strconv.Itoa(int(limit.Seconds())), "solve", "solu", sol).CombinedOutput()
	r := cbcResult{seconds: time.Since(start).Seconds()}
	if err != nil {
		return r, string(out), fmt.Errorf("cbc: %v", err)
	}
	p, err := plantest.ParseCBC(string(out))
	if err != nil {
		return r, string(out), err
	}
	r.objective, r.bound, r.status = p.Objective, p.Bound, p.Status
	return r, string(out), nil
}

func readCBCCache(file, key string) (cbcResult, bool) {
	data, err := os.ReadFile(file)
	if err != nil {
		return cbcResult{}, false
	}
	lines := strings.SplitN(string(data), "\n", 3)
	if len(lines) < 2 || lines[0] != key {
		return cbcResult{}, false
	}
	var r cbcResult
	if _, err := fmt.Sscanf(lines[1], "%g %g %g", &r.objective, &r.bound, &r.seconds); err != nil {
		return cbcResult{}, false
	}
	if len(lines) == 3 {
		r.status = strings.TrimSpace(lines[2])
	}
	return r, true
}

func writeCBCCache(file, key string, r cbcResult) {
	os.WriteFile(file, []byte(fmt.Sprintf("%s\n%g %g %g\n%s\n", key, r.objective, r.bound, r.seconds, r.status)), 0o644)
}

// TestPlanModelAgrees: on the generated days, every plan is a feasible
// solution of the independent 0-1 model with the same objective. Runs
// without CBC.
func TestPlanModelAgrees(t *testing.T) {
	cfg := petra(t)
	for _, c := range plantest.PetraDays(cfg) {
		if c.Name != "closure-2" && c.Name != "replan-1" && c.Name != "overbooked-1" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			inst, err := c.State.DayInstance(c.Now, c.Date, c.Requests)
			if err != nil {
				t.Fatal(err)
			}
			res, err := scheduler.PlanInstance(inst, scheduler.PlanOptions{Iterations: 2000})
			if err != nil {
				t.Fatal(err)
			}
			obj, err := plantest.LPValue(inst, res)
			if err != nil {
				t.Fatal(err)
			}
			if obj != res.Visitors {
				t.Fatalf("model counts %d visitors, planner %d", obj, res.Visitors)
			}
		})
	}
}

// TestPlannerVsCBC compares the planner with CBC on the generated Petra
// days and prints the table of the report. It needs cbc on PATH, runs only
// when named with -run (it takes about 25 minutes) and never under
// -short. TAFWEEJ_CBC_SECONDS sets CBC's time limit per instance (CPU
// seconds, default 60); TAFWEEJ_LP_DIR keeps the models and CBC's answers
// there (a rerun solves only the models that changed); TAFWEEJ_PLAN_EFFORT
// multiplies the planner's default budget (default 1).
func TestPlannerVsCBC(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short: solves 22 integer programs with CBC, up to a minute each")
	}
	if run := flag.Lookup("test.run"); run == nil || !strings.Contains(run.Value.String(), "TestPlannerVsCBC") {
		t.Skip("solves 22 integer programs with CBC, up to a minute each: run it by name (go test -run TestPlannerVsCBC -v ./scheduler/)")
	}
	if _, err := exec.LookPath("cbc"); err != nil {
		t.Skip("cbc is not on PATH: install Debian's coinor-cbc (apt-get install coinor-cbc) to compare the planner with an exact solver")
	}
	limit := 60 * time.Second
	if v := os.Getenv("TAFWEEJ_CBC_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("TAFWEEJ_CBC_SECONDS %q is not a number of seconds", v)
		}
		limit = time.Duration(n) * time.Second
	}
	effort := 1.0
	if v := os.Getenv("TAFWEEJ_PLAN_EFFORT"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			t.Fatalf("TAFWEEJ_PLAN_EFFORT %q is not a positive multiple of the default budget", v)
		}
		effort = f
	}
	dir := os.Getenv("TAFWEEJ_LP_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	cfg := petra(t)
	type row struct {
		name                      string
		groups, requested, placed int
		greedy, firstCome, start  int
		planSecs                  float64
		cbc                       cbcResult
	}
	var rows []row
	worst := 2.0
	for _, c := range plantest.PetraDays(cfg) {
		inst, err := c.State.DayInstance(c.Now, c.Date, c.Requests)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		res, err := scheduler.PlanInstance(inst, scheduler.PlanOptions{Iterations: int(effort * float64(scheduler.DefaultIterations(len(inst.Requests))))})
		if err != nil {
			t.Fatal(err)
		}
		planSecs := time.Since(start).Seconds()
		scheduler.CheckPlan(t, c.State, c.Now, c.Date, c.Requests, res)
		if obj, err := plantest.LPValue(inst, res); err != nil || obj != res.Visitors {
			t.Fatalf("%s: the plan is not a solution of the model (%v) or counts %d, not %d", c.Name, err, obj, res.Visitors)
		}
		var lp bytes.Buffer
		if err := plantest.WriteLP(&lp, inst); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, c.Name+".lp")
		if err := os.WriteFile(file, lp.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		// CBC's answer is kept beside the model, keyed by the model and the
		// time limit, so that a rerun with TAFWEEJ_LP_DIR solves only what
		// changed.
		key := fmt.Sprintf("%x %d", sha256.Sum256(lp.Bytes()), int(limit.Seconds()))
		cache := file + ".cbc"
		cr, ok := readCBCCache(cache, key)
		if !ok {
			ctx, cancel := context.WithTimeout(context.Background(), 4*limit+5*time.Minute) // the limit is CPU time
			var out string
			cr, out, err = runCBC(ctx, file, limit)
			cancel()
			if err != nil {
				t.Fatalf("%s: %v\n%s", c.Name, err, out)
			}
			writeCBCCache(cache, key, cr)
		}
		if res.Visitors < res.Stats.FirstComeVisitors {
			t.Fatalf("%s: planner %d visitors, fewer than first come's %d", c.Name, res.Visitors, res.Stats.FirstComeVisitors)
		}
		if float64(res.Visitors) > cr.bound+0.5 {
			t.Fatalf("%s: planner %d visitors above CBC's bound %.1f: the model and the planner disagree", c.Name, res.Visitors, cr.bound)
		}
		rows = append(rows, row{c.Name, len(c.Requests), res.Requested, res.Visitors, res.Stats.GreedyVisitors,
			res.Stats.FirstComeVisitors, res.Stats.StartVisitors, planSecs, cr})
		ratio := float64(res.Visitors) / max(cr.bound, 1)
		worst = min(worst, ratio)
		t.Logf("%-13s %4d groups %6d requested  planner %6d  cbc %8.1f bound %8.1f  ratio %.4f  (%s, %.1fs)",
			c.Name, len(c.Requests), res.Requested, res.Visitors, cr.objective, cr.bound, ratio, cr.status, cr.seconds)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nplanner budget: %g × the default; CBC: %v of CPU per instance\n", effort, limit)
	fmt.Fprintf(&b, "\n| instance | groups | requested | greedy | first come | start | planner | planner s | CBC best | CBC bound | planner / bound | CBC s | CBC status |\n")
	fmt.Fprintf(&b, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d | %.2f | %.0f | %.1f | %.4f | %.1f | %s |\n",
			r.name, r.groups, r.requested, r.greedy, r.firstCome, r.start, r.placed, r.planSecs, r.cbc.objective, r.cbc.bound,
			float64(r.placed)/max(r.cbc.bound, 1), r.cbc.seconds, r.cbc.status)
	}
	fmt.Fprintf(&b, "\nworst planner / bound: %.4f (aim: 0.99)\n", worst)
	t.Log(b.String())
}
