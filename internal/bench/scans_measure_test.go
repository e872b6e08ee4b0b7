package bench

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/tafweej/tafweej/internal/testenv/stack"
	"github.com/tafweej/tafweej/store"
)

// TestMeasureScanRows runs the gate scan rows of `tafweej bench` (1, 10
// and 100 gates, the service user's connection, and with
// TAFWEEJ_SCAN_MEASURE_TRUST=1 the registered devices' rows too) on the
// real service, to profile the scan path without the rest of the bench:
//
//	TAFWEEJ_SCAN_MEASURE=900 go test -run TestMeasureScanRows -cpuprofile cpu.out ./internal/bench
//
// The value is the scans per row and repetition; TAFWEEJ_SCAN_REPS the
// repetitions (default 1). Skipped unless set.
func TestMeasureScanRows(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TAFWEEJ_SCAN_MEASURE"))
	if n <= 0 {
		t.Skip("set TAFWEEJ_SCAN_MEASURE=<scans per row> to measure")
	}
	reps, _ := strconv.Atoi(os.Getenv("TAFWEEJ_SCAN_REPS"))
	reps = max(reps, 1)
	gates := []int{1, 10, 100}
	if g := os.Getenv("TAFWEEJ_SCAN_GATES"); g != "" {
		gates = nil
		for _, f := range strings.Split(g, ",") {
			v, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("TAFWEEJ_SCAN_GATES %q: want gate counts separated by commas", g)
			}
			gates = append(gates, v)
		}
	}
	ctx := context.Background()
	env, err := startBenchEnv(ctx, stack.Petra(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer env.stop()
	logRow := func(row Row) {
		t.Logf("%-24s %5.0f/s p50/p99 %5.2f/%6.2f ms | durable %5.0f/s %5.2f/%6.2f ms | ratio %.2f | CPU µs a scan %.0f, a durable request %.0f | bare %.0f/s | %s", row.Name,
			row.Tafweej.Value, row.Tafweej.P50Ms, row.Tafweej.P99Ms, row.Raw.Value, row.Raw.P50Ms, row.Raw.P99Ms, row.Ratio,
			row.Extra["cpu_us_per_scan"], row.Extra["cpu_us_per_durable_request"], row.RawBare.Value, row.Note)
	}
	for i, g := range gates {
		row, err := benchScans(ctx, env, g, n, reps, i, t.Logf)
		if err != nil {
			t.Fatal(err)
		}
		logRow(row)
	}
	if os.Getenv("TAFWEEJ_SCAN_MEASURE_TRUST") != "1" {
		return
	}
	// The registered devices' rows (trust.go): the 1- and 10-gate rows
	// again, each gate device on a connection of its own.
	defer env.registerDevices()()
	for i, g := range []int{1, 10} {
		for len(env.trust.gates) < g {
			nc, err := env.trust.connect(env, store.DeviceGate, "visitor-centre")
			if err != nil {
				t.Fatal(err)
			}
			env.trust.gates = append(env.trust.gates, nc)
		}
		row, err := benchScans(ctx, env, g, n, reps, 3+i, t.Logf)
		if err != nil {
			t.Fatal(err)
		}
		row.Name += ", registered devices"
		logRow(row)
	}
}
