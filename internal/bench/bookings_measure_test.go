package bench

import (
	"context"
	"os"
	"runtime/trace"
	"strconv"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/testenv/stack"
	"github.com/tafweej/tafweej/store"
)

// TestMeasureBookingsOneClient measures the "bookings, 1 client(s)" row on
// more bookings than the bench makes, for profiling the booking path:
//
//	TAFWEEJ_BOOKINGS_MEASURE=5000 go test -run TestMeasureBookingsOneClient \
//	    -cpuprofile cpu.prof -trace trace.out ./internal/bench
//
// It books in rounds interleaved with the raw synced writes of the row's
// limit, as the bench does, and logs both rates, their ratio and the
// bookings' p50/p99. Skipped without the variable.
func TestMeasureBookingsOneClient(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TAFWEEJ_BOOKINGS_MEASURE"))
	if n <= 0 {
		t.Skip("set TAFWEEJ_BOOKINGS_MEASURE to the number of bookings")
	}
	ctx := context.Background()
	env, err := startBenchEnv(ctx, stack.Petra(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer env.stop()
	booker, done, err := newBooker(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	// Each booking is a region "booking" of an execution trace (-trace).
	book := func(b []byte) (err error) {
		trace.WithRegion(ctx, "booking", func() { err = booker(b) })
		return err
	}
	defer done()
	rawDB, err := store.OpenRaw(env.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer rawDB.Close()
	// Warm up: connections, caches.
	if _, _, err := requestBench(1, make([][]byte, 200), book); err != nil {
		t.Fatal(err)
	}
	var tTook, rTook time.Duration
	var lat []time.Duration
	for _, m := range rounds(n, 1) {
		took, err := rawDB.SyncedWrites(m, 1)
		if err != nil {
			t.Fatal(err)
		}
		rTook += took
		start := time.Now()
		_, l, err := requestBench(1, make([][]byte, m), book)
		if err != nil {
			t.Fatal(err)
		}
		tTook += time.Since(start)
		lat = append(lat, l...)
	}
	tf, raw := float64(n)/tTook.Seconds(), float64(n)/rTook.Seconds()
	t.Logf("bookings at 1 client: %.0f/s (%.0f µs each), p50 %.3f ms, p99 %.3f ms; raw synced writes: %.0f/s (%.0f µs each); ratio %.2f",
		tf, 1e6/tf, quantileMs(lat, 0.5), quantileMs(lat, 0.99), raw, 1e6/raw, tf/raw)
}
