package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/tafweej/tafweej/internal/plantest"
	"github.com/tafweej/tafweej/scheduler"
)

// QuickCBCSeconds is CBC's time limit under --quick: enough for the root
// bound of a Petra day, short enough for CI.
const QuickCBCSeconds = 5

func benchPlanner(ctx context.Context, cfg *scheduler.Config, sz Sizes, planReps int, dir string, logf func(string, ...any)) ([]Row, error) {
	var rows []Row
	// The Petra day of the planner's quality tests (internal/plantest).
	pd := plantest.PetraDay(cfg, 105, plantest.DayKind{Groups: 300})
	reqs, ps, pnow, pdate := pd.Requests, pd.State, pd.Now, pd.Date
	row, res, err := planRow("day planner, Petra day", "PlanDay of a Petra winter day (plantest.PetraDay, seed 105): 300 groups of 10-60 from 7 operators and walk-ins, windows of 1-3 h, the day routes",
		ps, pnow, pdate, reqs, planReps, sz.PlanIterations)
	if err != nil {
		return nil, err
	}
	logf("planner, Petra day: %.3fs, %.0f of %.0f visitors placed", row.Tafweej.Value, row.Extra["placed"], row.Extra["requested"])
	rows = append(rows, row)
	inst, err := ps.DayInstance(pnow, pdate, reqs)
	if err != nil {
		return nil, fmt.Errorf("bench: Petra day: %w", err)
	}
	row, err = qualityRow(ctx, "planner quality, Petra day", "visitors placed by PlanDay on the Petra day above", inst, res, sz.CBCSeconds, dir, logf)
	if err != nil {
		return nil, err
	}
	rows = append(rows, row)
	if !sz.Hajj {
		return rows, nil
	}
	hcfg := plantest.HajjConfig()
	hday := time.Date(2027, 5, 16, 0, 0, 0, 0, hcfg.Location())
	hnow, hdate := hday.Add(-12*time.Hour), hday.Format(time.DateOnly)
	hreqs := plantest.HajjRequests(hcfg, 1_000_000)
	logf("planner, Hajj-sized day: %d groups, 1,000,000 people", len(hreqs))
	hs := scheduler.New(hcfg)
	row, res, err = planRow("day planner, Hajj-sized day", fmt.Sprintf("PlanDay of 1,000,000 people in %d groups of 20-250, 12 gates, 96 slots, 30 zones, 60 establishments", len(hreqs)),
		hs, hnow, hdate, hreqs, 1, sz.PlanIterations)
	if err != nil {
		return nil, err
	}
	logf("planner, Hajj-sized day: %.1fs, %.0f of %.0f visitors placed", row.Tafweej.Value, row.Extra["placed"], row.Extra["requested"])
	rows = append(rows, row)
	if !sz.HajjQuality {
		return rows, nil
	}
	// Some 60,000 options and 11,000 rows: CBC proves its root bound in
	// about 40 s of CPU on this machine.
	inst, err = hs.DayInstance(hnow, hdate, hreqs)
	if err != nil {
		return nil, fmt.Errorf("bench: Hajj-sized day: %w", err)
	}
	row, err = qualityRow(ctx, "planner quality, Hajj-sized day", "visitors placed by PlanDay on the Hajj-sized day above", inst, res, sz.CBCSeconds, dir, logf)
	if err != nil {
		return nil, err
	}
	return append(rows, row), nil
}

func planRow(name, what string, s *scheduler.State, now time.Time, date string, reqs []scheduler.PlanRequest, reps, iterations int) (Row, scheduler.PlanResult, error) {
	var times []float64
	var res scheduler.PlanResult
	var heap, alloc float64
	for range reps {
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		start := time.Now()
		var err error
		if iterations == 0 {
			res, err = s.PlanDay(now, date, reqs)
		} else {
			var inst scheduler.Instance
			if inst, err = s.DayInstance(now, date, reqs); err == nil {
				res, err = scheduler.PlanInstance(inst, scheduler.PlanOptions{Iterations: iterations})
			}
		}
		if err != nil {
			return Row{}, res, fmt.Errorf("bench: %s: %w", name, err)
		}
		times = append(times, time.Since(start).Seconds())
		runtime.ReadMemStats(&m1)
		heap = max(heap, float64(m1.HeapInuse)-float64(m0.HeapInuse))
		alloc = float64(m1.TotalAlloc-m0.TotalAlloc) / (1 << 20)
	}
	return Row{Name: name,
		Tafweej: Figure{What: what, Value: median(times), Unit: "s", N: len(reqs), Reps: reps},
		Extra: map[string]float64{
			"groups":              float64(len(reqs)),
			"requested":           float64(res.Requested),
			"placed":              float64(res.Visitors),
			"placed_pct":          100 * float64(res.Visitors) / float64(max(res.Requested, 1)),
			"greedy_placed":       float64(res.Stats.GreedyVisitors),
			"first_come_placed":   float64(res.Stats.FirstComeVisitors),
			"iterations":          float64(res.Stats.Iterations),
			"min_operator_share":  res.Stats.MinShare,
			"max_operator_share":  res.Stats.MaxShare,
			"heap_growth_mb":      heap / (1 << 20),
			"allocated_mb":        alloc,
			"mean_deviation_mins": res.Stats.MeanDeviationMinutes,
		},
		Note: "the planner's quality against CBC's bound is the next row",
	}, res, nil
}

// qualityRow compares a plan with the upper bound on the optimum that CBC
// proves within its time limit: the instance is written as a 0-1 program
// (plantest.WriteLP) in dir and solved by the cbc command. Without cbc on
// PATH, or with a limit of 0, the row says so and has no limit.
func qualityRow(ctx context.Context, name, what string, inst scheduler.Instance, res scheduler.PlanResult, limit int, dir string, logf func(string, ...any)) (Row, error) {
	row := Row{Name: name,
		Tafweej: Figure{What: what, Value: float64(res.Visitors), Unit: "visitors", N: len(inst.Requests), Reps: 1},
		Extra:   map[string]float64{"requested": float64(res.Requested)}}
	// The plan must be a solution of the model it is compared with.
	if v, err := plantest.LPValue(inst, res); err != nil || v != res.Visitors {
		return row, fmt.Errorf("bench: %s: the plan is not a solution of its 0-1 model (%v) or is worth %d, not %d visitors", name, err, v, res.Visitors)
	}
	cbc, err := exec.LookPath("cbc")
	switch {
	case limit == 0:
		row.Note = "not compared with an exact solver: --cbc-seconds 0"
		return row, nil
	case err != nil:
		row.Note = "not compared with an exact solver: cbc is not on PATH (Debian: apt-get install coinor-cbc)"
		logf("%s: cbc is not on PATH, no bound", name)
		return row, nil
	}
	var lp bytes.Buffer
	if err := plantest.WriteLP(&lp, inst); err != nil {
		return row, fmt.Errorf("bench: %s: %w", name, err)
	}
	file := filepath.Join(dir, strings.NewReplacer(" ", "-", ",", "").Replace(name)+".lp")
	if err := os.WriteFile(file, lp.Bytes(), 0o644); err != nil {
		return row, fmt.Errorf("bench: %s: %w", name, err)
	}
	logf("%s: CBC on the 0-1 model (%d KB), limit %d s of CPU", name, lp.Len()>>10, limit)
	// The limit is CPU time; the wall clock may run longer on a busy machine.
	cctx, cancel := context.WithTimeout(ctx, 4*time.Duration(limit)*time.Second+2*time.Minute)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(cctx, cbc, file, "sec", strconv.Itoa(limit), "solve").CombinedOutput()
	secs := time.Since(start).Seconds()
	if err != nil {
		row.Note = fmt.Sprintf("cbc failed after %.1f s: %v", secs, err)
		logf("%s: %s", name, row.Note)
		return row, nil
	}
	r, err := plantest.ParseCBC(string(out))
	if err != nil {
		row.Note = fmt.Sprintf("cbc's answer is unreadable: %v", err)
		logf("%s: %s", name, row.Note)
		return row, nil
	}
	bound := plantest.IntegralBound(r.Bound) // a plan places whole visitors
	if float64(res.Visitors) > bound {
		return row, fmt.Errorf("bench: %s: the plan's %d visitors exceed CBC's bound %.1f: the model and the planner disagree", name, res.Visitors, r.Bound)
	}
	raw := Figure{What: fmt.Sprintf("CBC's proven upper bound on the optimum, rounded down to whole visitors (coinor-cbc, %d s CPU limit)", limit),
		Value: bound, Unit: "visitors", N: len(inst.Requests), Reps: 1, Concurrency: 1}
	row.Raw = &raw
	if raw.Value > 0 { // the bound divided by, not CBC's: under 1 it rounds to 0
		row.Ratio = row.Tafweej.Value / raw.Value
	}
	optimal := 0.0
	if r.Optimal {
		optimal = 1
	}
	row.Extra["cbc_bound"] = r.Bound // as CBC printed it
	row.Extra["cbc_best"] = r.Objective
	row.Extra["cbc_seconds"] = secs
	row.Extra["cbc_optimal"] = optimal
	row.Note = fmt.Sprintf("ratio = planner visitors / CBC's bound rounded down to whole visitors; CBC: %s, best integer solution %.0f", r.Status, r.Objective)
	logf("%s: planner %d, CBC bound %.1f (best %.0f, %s, %.1f s): %.2f%%", name, res.Visitors, r.Bound, r.Objective, r.Status, secs, 100*row.Ratio)
	return row, nil
}
