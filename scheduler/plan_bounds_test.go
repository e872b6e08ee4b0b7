package scheduler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/plantest"
)

// boundsFile is the known bounds' file, from the scheduler's directory.
const boundsFile = "../internal/plantest/testdata/petra-bounds.json"

// refreshCommand is how the known bounds are made (make planner-bounds).
const refreshCommand = "make planner-bounds [CBC_SECONDS=60] [CBC_DAYS=day,...] [CBC_ARGS='-passCuts 100 ...'] (TAFWEEJ_CBC_REFRESH=1 go test -run '^TestPlannerBoundsRefresh$' ./scheduler/)"

// TestPlannerBoundsRefresh solves the models of the generated Petra days
// with CBC, one at a time under nice, and keeps the tightest bound known
// for each model in internal/plantest/testdata/petra-bounds.json. A day is
// solved again only when its model changed, when it is named in
// TAFWEEJ_CBC_DAYS, or when its bound was proven under a shorter limit
// than TAFWEEJ_CBC_SECONDS (CPU seconds, default 60). TAFWEEJ_CBC_ARGS
// are options given to CBC before its time limit (e.g. heavier root cuts,
// "-passCuts 100 -cuts on -zero on -lift on -strategy 2"), named in the
// bound's source. Runs only with TAFWEEJ_CBC_REFRESH=1 (make
// planner-bounds): it takes minutes of CPU.
func TestPlannerBoundsRefresh(t *testing.T) {
	if os.Getenv("TAFWEEJ_CBC_REFRESH") != "1" {
		t.Skip("solves the Petra days with CBC for minutes: run with TAFWEEJ_CBC_REFRESH=1 (make planner-bounds)")
	}
	if _, err := exec.LookPath("cbc"); err != nil {
		t.Fatal("cbc is not on PATH: install Debian's coinor-cbc (apt-get install coinor-cbc)")
	}
	limit := 60
	if v := os.Getenv("TAFWEEJ_CBC_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("TAFWEEJ_CBC_SECONDS %q is not a positive number of seconds", v)
		}
		limit = n
	}
	extra := strings.Fields(os.Getenv("TAFWEEJ_CBC_ARGS"))
	var only []string
	if v := os.Getenv("TAFWEEJ_CBC_DAYS"); v != "" {
		only = strings.Split(v, ",")
	}
	known, err := plantest.KnownBounds()
	if err != nil {
		t.Fatal(err)
	}
	version, _ := exec.Command("sh", "-c", "echo | cbc 2>&1 | grep -m1 '^Version'").Output()
	dir := os.Getenv("TAFWEEJ_LP_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	out := plantest.Bounds{Command: refreshCommand, Solver: "CBC " + strings.TrimSpace(strings.TrimPrefix(string(version), "Version:")),
		Days: slices.Clone(known.Days)}
	upsert := func(b plantest.Bound) {
		for i := range out.Days {
			if out.Days[i].Day == b.Day {
				out.Days[i] = b
				return
			}
		}
		out.Days = append(out.Days, b)
	}
	save := func() {
		data, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(boundsFile, append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range plantest.PetraDays(petra(t)) {
		inst, err := c.State.DayInstance(c.Now, c.Date, c.Requests)
		if err != nil {
			t.Fatal(err)
		}
		hash, lp, err := plantest.ModelHash(inst)
		if err != nil {
			t.Fatal(err)
		}
		old, have := known.Lookup(c.Name, hash)
		named := slices.Contains(only, c.Name)
		if have && !old.Optimal && (named || old.CPUSeconds < limit && only == nil) || !have {
			file := filepath.Join(dir, c.Name+".lp")
			if err := os.WriteFile(file, lp, 0o644); err != nil {
				t.Fatal(err)
			}
			// The limit is CPU time, and nice'd on a shared machine CBC may
			// get a small part of a core.
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Duration(limit)*time.Second+10*time.Minute)
			start := time.Now()
			args := append(append([]string{"-n", "19", "cbc", file}, extra...), "sec", strconv.Itoa(limit), "solve")
			res, err := exec.CommandContext(ctx, "nice", args...).CombinedOutput()
			cancel()
			if err != nil {
				t.Fatalf("%s: cbc: %v\n%s", c.Name, err, res)
			}
			r, err := plantest.ParseCBC(string(res))
			if err != nil {
				t.Fatalf("%s: %v\n%s", c.Name, err, res)
			}
			nb := plantest.Bound{Day: c.Name, Model: hash, Bound: r.Bound, Best: r.Objective, Optimal: r.Optimal, Status: r.Status,
				CPUSeconds: limit, WallSeconds: float64(time.Since(start).Milliseconds()) / 1000,
				Source: "TestPlannerBoundsRefresh on " + time.Now().UTC().Format(time.DateOnly)}
			if len(extra) > 0 {
				nb.Source += " with CBC options " + strings.Join(extra, " ")
			}
			t.Logf("%-13s bound %.1f, best %.0f (%s, %d s limit, %.1f s)", c.Name, nb.Bound, nb.Best, nb.Status, limit, nb.WallSeconds)
			// Every bound CBC proves holds: the tightest one is kept, with
			// the longest limit tried.
			if have && old.Bound <= nb.Bound {
				old.CPUSeconds = max(old.CPUSeconds, limit)
				old.Best = max(old.Best, nb.Best)
				nb = old
			} else if have {
				nb.Best = max(old.Best, nb.Best)
				nb.CPUSeconds = max(old.CPUSeconds, limit)
			}
			old = nb
		}
		upsert(old)
		save() // after every day: a long refresh may be stopped
	}
	t.Log(fmt.Sprintf("%d days' bounds in %s", len(out.Days), boundsFile))
}
