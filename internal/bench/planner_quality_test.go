package bench

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/tafweej/tafweej/scheduler"
)

// TestPlannerQualityRowHasAFiniteRatio: the quality row's ratio divides by
// the bound it reports (CBC's rounded down to whole visitors), so it is
// only computed when that bound is above zero: a bound CBC prints just
// above 0 (floating point on an empty day) rounds to 0 and must leave the
// row without a ratio, not NaN, which no JSON report can hold.
func TestPlannerQualityRowHasAFiniteRatio(t *testing.T) {
	bin := t.TempDir()
	cbc := "#!/bin/sh\necho 'Result - Optimal solution found'\necho 'Objective value:                0.0000001'\n"
	if err := os.WriteFile(filepath.Join(bin, "cbc"), []byte(cbc), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	row, err := qualityRow(context.Background(), "planner quality, empty day", "visitors placed", scheduler.Instance{SlotMinutes: 15, Resolution: 5, Horizon: 24 * 60},
		scheduler.PlanResult{}, 1, t.TempDir(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if row.Raw == nil || row.Raw.Value != 0 {
		t.Fatalf("raw %+v, want the bound 0 (CBC's 1e-7 rounded down)", row.Raw)
	}
	if _, err := json.Marshal(row); err != nil {
		t.Errorf("the row does not encode: %v (ratio %v)", err, row.Ratio)
	}
}
