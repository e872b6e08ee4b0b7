package bench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/internal/testenv/stack"
)

// TestClusterRows measures the replicated site's rows with a tafweej
// binary built here: a booking rate and its raw R3 limit, and a takeover
// within 5 s. It builds the binary and runs a NATS cluster and two
// services: TAFWEEJ_BENCH_CLUSTER=1 (make bench-cluster).
func TestClusterRows(t *testing.T) {
	if os.Getenv("TAFWEEJ_BENCH_CLUSTER") == "" {
		t.Skip("builds tafweej and runs a NATS cluster: set TAFWEEJ_BENCH_CLUSTER=1 (make bench-cluster)")
	}
	bin := filepath.Join(t.TempDir(), "tafweej")
	if out, err := exec.Command("go", "build", "-o", bin, testenv.Path("cmd", "tafweej")).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// TAFWEEJ_BENCH_PIPELINE sets the instances' --pipeline and
	// TAFWEEJ_BENCH_N the bookings measured (before/after comparisons).
	pipeline, _ := strconv.Atoi(os.Getenv("TAFWEEJ_BENCH_PIPELINE"))
	n := 600
	if v, err := strconv.Atoi(os.Getenv("TAFWEEJ_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	f := Options{Config: stack.Petra(t), ConfigPath: testenv.PetraPath(), Binary: bin, Pipeline: pipeline}
	rows, err := benchCluster(context.Background(), f, t.TempDir(), n, 1, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		t.Logf("%s: %.2f %s (raw %v, ratio %.2f) %v", r.Name, r.Tafweej.Value, r.Tafweej.Unit, r.Raw, r.Ratio, r.Extra)
	}
	if len(rows) != 2 || rows[0].Raw == nil || !(rows[0].Ratio > 0) {
		t.Fatalf("rows %+v, want the replicated bookings with their raw limit, and the takeover", rows)
	}
	if took := rows[1].Tafweej.Value; !(took > 0) || took > 5 {
		t.Errorf("takeover took %v s, want (0, 5]", took)
	}
}
