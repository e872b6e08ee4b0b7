package bench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
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
	f := Options{Config: stack.Petra(t), ConfigPath: testenv.PetraPath(), Binary: bin}
	rows, err := benchCluster(context.Background(), f, t.TempDir(), 600, 1, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		t.Logf("%s: %.2f %s (raw %v, ratio %.2f)", r.Name, r.Tafweej.Value, r.Tafweej.Unit, r.Raw, r.Ratio)
	}
	if len(rows) != 2 || rows[0].Raw == nil || !(rows[0].Ratio > 0) {
		t.Fatalf("rows %+v, want the replicated bookings with their raw limit, and the takeover", rows)
	}
	if took := rows[1].Tafweej.Value; !(took > 0) || took > 5 {
		t.Errorf("takeover took %v s, want (0, 5]", took)
	}
}
