package scheduler

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

	"pgregory.net/rapid"
)

// The planner's quality against an exact solver: every instance is written
// as a 0-1 integer program (planlp.go, built from the Instance
// independently of the planner's own compilation) and solved by CBC
// (Debian package coinor-cbc) under a time limit; the planner's visitors
// are reported as a share of the solver's proven upper bound.

var updateLP = flag.Bool("update-lp", false, "rewrite testdata/plan/*.lp golden files")

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
	p, err := ParseCBC(string(out))
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
	for _, c := range petraCases(cfg) {
		if c.name != "closure-2" && c.name != "replan-1" && c.name != "overbooked-1" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			inst, err := c.s.DayInstance(c.now, c.date, c.reqs)
			if err != nil {
				t.Fatal(err)
			}
			res, err := PlanInstance(inst, PlanOptions{Iterations: 2000})
			if err != nil {
				t.Fatal(err)
			}
			obj, err := buildLP(inst).value(res)
			if err != nil {
				t.Fatal(err)
			}
			if obj != res.Visitors {
				t.Fatalf("model counts %d visitors, planner %d", obj, res.Visitors)
			}
		})
	}
}

// TestLPGolden pins the model writer on a tiny instance
// (testdata/plan/tiny.lp; rewrite with -update-lp).
func TestLPGolden(t *testing.T) {
	inst := Instance{SlotMinutes: 15, Resolution: 15, Horizon: 24 * 60,
		Gates:               []PlanGate{{ID: "g", Capacity: 50, OperatorCapacity: 40, OperatorWaveCapacity: 30, Load: []int{0, 10}}},
		Zones:               []PlanZone{{ID: "z", Capacity: 60, OperatorCapacity: 48}},
		Routes:              []PlanRoute{{ID: "r", Gates: []string{"g"}, Stops: []Stop{{Zone: "z", Arrive: 0, Stay: 30}}, Entries: []int{0, 15, 30}}},
		OperatorDayCapacity: 1000,
		Requests: []PlanRequest{
			{ID: "a", Operator: "o1", Route: "r", PartySize: 25, Window: Window{0, 45}},
			{ID: "b", Operator: "o2", Route: "r", PartySize: 20, Window: Window{0, 30}},
			{ID: "c", Operator: WalkInOperator, Route: "r", PartySize: 15, Window: Window{15, 45}},
			{ID: "d", Operator: "o1", Route: "r", PartySize: 10, Window: Window{0, 15}},
		},
	}
	var buf bytes.Buffer
	if err := buildLP(inst).writeLP(&buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "plan", "tiny.lp")
	if *updateLP {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("model differs from %s (rewrite with -update-lp if intended):\n%s", golden, buf.String())
	}
	// The planner finds the optimum of the tiny case.
	res, err := PlanInstance(inst, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	model := buildLP(inst)
	if _, err := model.value(res); err != nil {
		t.Fatal(err)
	}
	if best := model.bruteForce(); res.Visitors != best {
		t.Fatalf("planner placed %d visitors (%v), the optimum is %d", res.Visitors, res.Placed, best)
	}
}

// bruteForce is the optimum of a small model by enumeration.
func (m lpModel) bruteForce() int {
	byReq := map[string][]int{}
	var reqs []string
	for i, v := range m.vars {
		if byReq[v.req] == nil {
			reqs = append(reqs, v.req)
		}
		byReq[v.req] = append(byReq[v.req], i)
	}
	x := make([]int, len(m.vars))
	feasible := func() bool {
		for _, r := range m.rows {
			sum := 0
			for _, t := range r.terms {
				sum += t.coef * x[t.v]
			}
			if sum > r.rhs {
				return false
			}
		}
		return true
	}
	best := 0
	var walk func(i, obj int)
	walk = func(i, obj int) {
		if !feasible() {
			return
		}
		if i == len(reqs) {
			best = max(best, obj)
			return
		}
		walk(i+1, obj)
		for _, v := range byReq[reqs[i]] {
			x[v] = 1
			walk(i+1, obj+m.vars[v].obj)
			x[v] = 0
		}
	}
	walk(0, 0)
	return best
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
	for _, c := range petraCases(cfg) {
		inst, err := c.s.DayInstance(c.now, c.date, c.reqs)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		res, err := PlanInstance(inst, PlanOptions{Iterations: int(effort * float64(defaultIterations(len(inst.Requests))))})
		if err != nil {
			t.Fatal(err)
		}
		planSecs := time.Since(start).Seconds()
		checkPlan(t, c, res)
		model := buildLP(inst)
		if obj, err := model.value(res); err != nil || obj != res.Visitors {
			t.Fatalf("%s: the plan is not a solution of the model (%v) or counts %d, not %d", c.name, err, obj, res.Visitors)
		}
		var lp bytes.Buffer
		if err := model.writeLP(&lp); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, c.name+".lp")
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
				t.Fatalf("%s: %v\n%s", c.name, err, out)
			}
			writeCBCCache(cache, key, cr)
		}
		if res.Visitors < res.Stats.FirstComeVisitors {
			t.Fatalf("%s: planner %d visitors, fewer than first come's %d", c.name, res.Visitors, res.Stats.FirstComeVisitors)
		}
		if float64(res.Visitors) > cr.bound+0.5 {
			t.Fatalf("%s: planner %d visitors above CBC's bound %.1f: the model and the planner disagree", c.name, res.Visitors, cr.bound)
		}
		rows = append(rows, row{c.name, len(c.reqs), res.Requested, res.Visitors, res.Stats.GreedyVisitors,
			res.Stats.FirstComeVisitors, res.Stats.StartVisitors, planSecs, cr})
		ratio := float64(res.Visitors) / max(cr.bound, 1)
		worst = min(worst, ratio)
		t.Logf("%-13s %4d groups %6d requested  planner %6d  cbc %8.1f bound %8.1f  ratio %.4f  (%s, %.1fs)",
			c.name, len(c.reqs), res.Requested, res.Visitors, cr.objective, cr.bound, ratio, cr.status, cr.seconds)
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

// genInstance draws a small standalone instance: gates and zones with
// random capacities and loads (negative slack included), routes whose
// stops may overlap in one zone, walk-ins and operators with shares.
func genInstance(t *rapid.T, maxReqs int) Instance {
	inst := Instance{SlotMinutes: 15, Resolution: rapid.SampledFrom([]int{5, 15}).Draw(t, "res"), Horizon: 8 * 60,
		OperatorDayCapacity: rapid.IntRange(0, 400).Draw(t, "day")}
	nSlots := inst.Horizon / inst.SlotMinutes
	nBuckets := inst.Horizon / inst.Resolution
	load := func(n, most int, label string) []int {
		if rapid.Bool().Draw(t, label+"-none") {
			return nil
		}
		out := make([]int, n)
		for i := range out {
			out[i] = rapid.IntRange(-5, most).Draw(t, label)
		}
		return out
	}
	for g := range rapid.IntRange(1, 3).Draw(t, "gates") {
		c := rapid.IntRange(0, 120).Draw(t, "gcap")
		inst.Gates = append(inst.Gates, PlanGate{ID: fmt.Sprintf("g%d", g), Capacity: c,
			OperatorCapacity: rapid.IntRange(0, c).Draw(t, "gop"), OperatorWaveCapacity: rapid.IntRange(0, c).Draw(t, "gwave"),
			Load: load(nSlots, 40, "gload"), OperatorLoad: load(nSlots, 30, "gopload")})
	}
	for z := range rapid.IntRange(1, 3).Draw(t, "zones") {
		c := rapid.IntRange(0, 200).Draw(t, "zcap")
		inst.Zones = append(inst.Zones, PlanZone{ID: fmt.Sprintf("z%d", z), Capacity: c,
			OperatorCapacity: rapid.IntRange(0, c).Draw(t, "zop"), Load: load(nBuckets, 60, "zload"), OperatorLoad: load(nBuckets, 40, "zopload")})
	}
	for r := range rapid.IntRange(1, 3).Draw(t, "routes") {
		rt := PlanRoute{ID: fmt.Sprintf("r%d", r)}
		for _, g := range inst.Gates {
			if rapid.Bool().Draw(t, "usegate") || len(rt.Gates) == 0 {
				rt.Gates = append(rt.Gates, g.ID)
			}
		}
		for range rapid.IntRange(0, 3).Draw(t, "stops") {
			rt.Stops = append(rt.Stops, Stop{Zone: rapid.SampledFrom(inst.Zones).Draw(t, "zone").ID,
				Arrive: inst.Resolution * rapid.IntRange(0, 12).Draw(t, "arrive"), Stay: inst.Resolution * rapid.IntRange(1, 8).Draw(t, "stay")})
		}
		for m := 0; m < inst.Horizon; m += inst.SlotMinutes {
			if rapid.IntRange(0, 3).Draw(t, "entry") > 0 {
				rt.Entries = append(rt.Entries, m)
			}
		}
		inst.Routes = append(inst.Routes, rt)
	}
	ops := []string{"a", "b", WalkInOperator}
	for i := range rapid.IntRange(1, maxReqs).Draw(t, "reqs") {
		from := 15 * rapid.IntRange(0, nSlots-1).Draw(t, "from")
		w := Window{from, from + 15*rapid.IntRange(1, 6).Draw(t, "len")}
		inst.Requests = append(inst.Requests, PlanRequest{ID: fmt.Sprintf("q%02d", i), Operator: rapid.SampledFrom(ops).Draw(t, "op"),
			Route: rapid.SampledFrom(inst.Routes).Draw(t, "route").ID, PartySize: rapid.IntRange(1, 60).Draw(t, "size"),
			Window: w, Preferred: rapid.IntRange(w.From, w.To-1).Draw(t, "pref")})
	}
	return inst
}

// TestPlanInstanceProperty: on random instances, every plan is a feasible
// solution of the independent model, and on the smallest the planner finds
// the optimum.
func TestPlanInstanceProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		inst := genInstance(t, 7)
		res, err := PlanInstance(inst, PlanOptions{Iterations: 3000})
		if err != nil {
			t.Fatal(err)
		}
		m := buildLP(inst)
		obj, err := m.value(res)
		if err != nil {
			t.Fatal(err)
		}
		if obj != res.Visitors || len(res.Placed)+len(res.Unplaced) != len(inst.Requests) {
			t.Fatalf("model counts %d visitors, planner %d; %d placed and %d unplaced of %d", obj, res.Visitors, len(res.Placed), len(res.Unplaced), len(inst.Requests))
		}
		if best := m.bruteForce(); res.Visitors != best {
			t.Fatalf("planner placed %d visitors, the optimum is %d", res.Visitors, best)
		}
	})
}
