package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/tafweej/tafweej/internal/testenv/stack"
)

// smallSizes measure every figure of a quick run on fewer operations and
// the planner with a shorter local search (its default, 2.1 million
// iterations for the Petra day, is most of a quick run's time under
// -race), so that the default suite checks the whole report in about a
// minute; the --quick sizes are the CLI's (`make bench-quick` runs them).
var smallSizes = Sizes{Counters: 100, Scans: []int{20, 50, 100}, BookingsSerial: 20, BookingsPar: 128,
	RawWrites: 50, Stored: 2000, CBCSeconds: QuickCBCSeconds, PlanIterations: 30_000}

// TestRunReportsEveryFigure runs the bench on the real service, on small
// sizes, and checks the report: every row, every figure measured and
// positive, every ratio the quotient of the two figures of its row, every
// scan admitting, the planner no worse than first come and, with cbc on
// PATH, within [90%, 100%] of CBC's bound (Report.Problems).
func TestRunReportsEveryFigure(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the service and measures it: not under -short")
	}
	cfg := stack.Petra(t)
	sz := smallSizes
	var progress bytes.Buffer
	rep, err := Run(context.Background(), Options{Config: cfg, ConfigPath: "configs/petra.yaml", Dir: t.TempDir(),
		Quick: true, Reps: 3, CBCSeconds: QuickCBCSeconds, Sizes: &sz}, &progress)
	t.Logf("progress:\n%s", progress.String())
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	if !strings.Contains(progress.String(), "done") {
		t.Errorf("no progress lines:\n%s", progress.String())
	}
	// The report survives JSON as `tafweej bench --json` prints it.
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&back); err != nil {
		t.Fatalf("the report does not decode as a Report: %v", err)
	}
	if !back.Quick || back.Sizes.Stored != sz.Stored || back.Sizes.Hajj || back.Sizes.CBCSeconds != QuickCBCSeconds {
		t.Errorf("quick %v, stored %d, hajj %v, cbc seconds %d: want the sizes asked for", back.Quick, back.Sizes.Stored, back.Sizes.Hajj, back.Sizes.CBCSeconds)
	}
	_, lookErr := exec.LookPath("cbc")
	for _, p := range back.Problems(1, lookErr == nil) {
		t.Error(p)
	}
	var table bytes.Buffer
	Print(&table, &back)
	for _, r := range back.Rows {
		if !strings.Contains(table.String(), r.Name) {
			t.Errorf("the table has no row %q:\n%s", r.Name, table.String())
		}
	}
}

// TestProblemsCatchesAWrongRatio: the check can fail.
func TestProblemsCatchesAWrongRatio(t *testing.T) {
	rep := &Report{Sizes: Sizes{Stored: 10}}
	if len(rep.Problems(1, false)) == 0 {
		t.Fatal("a report without rows passed")
	}
}
