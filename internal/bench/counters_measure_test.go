package bench

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tafweej/tafweej/internal/service"
	"github.com/tafweej/tafweej/internal/testenv/stack"
)

// TestMeasureCounterRows runs the counter rows of `tafweej bench` (the
// service user's connection, then every counter a registered device) on
// the real service, to profile the counter path without the rest of the
// bench:
//
//	TAFWEEJ_COUNTER_MEASURE=5000 go test -run TestMeasureCounterRows -cpuprofile cpu.out ./internal/bench
//
// The value is the messages per row and repetition; TAFWEEJ_COUNTER_REPS
// the repetitions (default 1). Skipped unless set.
func TestMeasureCounterRows(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TAFWEEJ_COUNTER_MEASURE"))
	if n <= 0 {
		t.Skip("set TAFWEEJ_COUNTER_MEASURE=<messages per row> to measure")
	}
	reps, _ := strconv.Atoi(os.Getenv("TAFWEEJ_COUNTER_REPS"))
	reps = max(reps, 1)
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	env, err := startBenchEnv(ctx, stack.Petra(t), t.TempDir(), func(o *service.Options) { o.Registerer = reg })
	if err != nil {
		t.Fatal(err)
	}
	defer env.stop()
	// The store's synced commits during a row (its Tafweej part: the raw
	// loop does not touch the store): how many, and their time.
	commits := func() (n, seconds float64) {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "tafweej_store_write_duration_seconds" {
				h := mf.GetMetric()[0].GetHistogram()
				return float64(h.GetSampleCount()), h.GetSampleSum()
			}
		}
		return 0, 0
	}
	measure := func(name string) {
		n0, s0 := commits()
		row, err := benchCounters(ctx, env, n, reps, t.Logf)
		if err != nil {
			t.Fatal(err)
		}
		n1, s1 := commits()
		t.Logf("%-40s %5.0f/s | raw %5.0f/s | ratio %.2f | %.0f synced commits (%.1f readings each), %.2f ms each",
			name, row.Tafweej.Value, row.Raw.Value, row.Ratio, n1-n0, float64(n*reps)/max(n1-n0, 1), 1e3*(s1-s0)/max(n1-n0, 1))
	}
	measure("counter messages")
	defer env.registerDevices()()
	measure("counter messages, registered devices")
}
