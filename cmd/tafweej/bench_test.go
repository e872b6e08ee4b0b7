package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/tafweej/tafweej/internal/bench"
	"github.com/tafweej/tafweej/internal/testenv"
)

// TestBenchQuickJSON runs `tafweej bench --quick --json` in this process,
// on the real service, and checks the report: the quick sizes, and every
// row, figure and ratio as bench.Report.Problems says. It takes minutes
// (50,000 stored bookings, the planner's full search), more than ten under
// -race on a loaded machine, so it runs with TAFWEEJ_BENCH_QUICK=1
// (`make bench-quick`); the default suite checks the same report on
// smaller sizes (internal/bench TestRunReportsEveryFigure).
func TestBenchQuickJSON(t *testing.T) {
	if os.Getenv("TAFWEEJ_BENCH_QUICK") == "" {
		t.Skip("the whole --quick bench takes minutes: set TAFWEEJ_BENCH_QUICK=1 (make bench-quick)")
	}
	var out, progress bytes.Buffer
	root := newRoot()
	// The replicated rows run the tafweej binary, not this test's.
	root.SetArgs([]string{"bench", "--quick", "--json", "--no-cluster", "--config", testenv.PetraPath(), "--dir", t.TempDir()})
	root.SetOut(&out)
	root.SetErr(&progress)
	if err := root.Execute(); err != nil {
		t.Fatalf("bench: %v\nprogress:\n%s", err, progress.String())
	}
	if !strings.Contains(progress.String(), "done") {
		t.Errorf("no progress lines on stderr:\n%s", progress.String())
	}
	var rep bench.Report
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("output is not a report: %v\n%s", err, out.String())
	}
	if !rep.Quick || rep.Sizes.Stored != 50_000 || rep.Sizes.Hajj {
		t.Errorf("quick = %v, stored = %d, hajj = %v; want a quick run with 50,000 bookings and no Hajj day", rep.Quick, rep.Sizes.Stored, rep.Sizes.Hajj)
	}
	if rep.Sizes.CBCSeconds != bench.QuickCBCSeconds {
		t.Errorf("cbc seconds %d, want %d under --quick", rep.Sizes.CBCSeconds, bench.QuickCBCSeconds)
	}
	_, lookErr := exec.LookPath("cbc")
	for _, p := range rep.Problems(1, lookErr == nil) {
		t.Error(p)
	}
}

// TestBenchFlags: bad flags are usage errors and measure nothing.
func TestBenchFlags(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--reps", "0"},
		{"bench", "--config", "does-not-exist.yaml"},
		{"bench", "--cbc-seconds", "-1"},
	} {
		root := newRoot()
		var out bytes.Buffer
		root.SetArgs(args)
		root.SetOut(&out)
		root.SetErr(&out)
		err := root.Execute()
		var ue *usageError
		if err == nil || !asUsage(err, &ue) {
			t.Errorf("%q: error %v, want a usage error", args, err)
		}
		if out.Len() != 0 {
			t.Errorf("%q: printed %q, want nothing", args, out.String())
		}
	}
}

func asUsage(err error, target **usageError) bool {
	ue, ok := err.(*usageError)
	if ok {
		*target = ue
	}
	return ok
}
