package bench

import (
	"context"
	"os"
	"testing"

	"github.com/tafweej/tafweej/internal/testenv/stack"
)

// TestCutScansRow measures the row "scans during a 7-day cut" (the cut
// re-planned in the loop and off it) and checks it as the report's check
// does: scans answered during both cuts, the cut re-planned, and the
// latencies and the ratio computed from this run's figures.
func TestCutScansRow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the service twice and re-plans a week: not under -short")
	}
	cfg := stack.Petra(t)
	row, err := benchCutScans(context.Background(), cfg, t.TempDir(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %.0f scans/s, p50 %.1f ms, p99 %.1f ms; without a cut p50 %.1f ms, p99 %.1f ms; extra %v", row.Name, row.Tafweej.Value, row.Tafweej.P50Ms, row.Tafweej.P99Ms, row.Raw.P50Ms, row.Raw.P99Ms, row.Extra)
	rep := &Report{Rows: []Row{row}}
	for _, p := range rep.Problems(1, false) {
		if p[:4] != "rows" { // the report holds one row of many
			t.Error(p)
		}
	}
}

// TestHajjClosureRow (TAFWEEJ_BENCH_HAJJ=1: books a million people)
// measures the row "re-plan after a closure, Hajj-sized day".
func TestHajjClosureRow(t *testing.T) {
	if os.Getenv("TAFWEEJ_BENCH_HAJJ") == "" {
		t.Skip("set TAFWEEJ_BENCH_HAJJ=1 to book and re-plan the Hajj-sized day")
	}
	row, err := benchHajjClosure(t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %.2f s; extra %v", row.Name, row.Tafweej.Value, row.Extra)
}
