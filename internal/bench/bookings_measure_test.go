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
// limit and with the durable HTTP floor (startHTTPFloor), as the bench
// does, and logs the three rates, the ratios and the p50s. Each booking
// is a region "booking" of the execution trace. Skipped without the
// variable.
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
	keys, err := benchKeys(env)
	if err != nil {
		t.Fatal(err)
	}
	booker, last, done := bookingClient(ctx, env, env.url, keys)
	defer done()
	book := func(b []byte) (err error) {
		trace.WithRegion(ctx, "booking", func() { err = booker(b) })
		return err
	}
	rawDB, err := store.OpenRaw(env.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer rawDB.Close()
	// Warm up: connections, caches.
	if _, _, err := requestBench(1, make([][]byte, 200), book); err != nil {
		t.Fatal(err)
	}
	floorDB, err := store.OpenRaw(env.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer floorDB.Close()
	floorURL, stop, err := startHTTPFloor(floorDB, last())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	floor, _, floorDone := bookingClient(ctx, env, floorURL, keys)
	defer floorDone()
	var tTook, rTook, fTook time.Duration
	var lat, fLat []time.Duration
	for _, m := range rounds(n, 1) {
		took, err := rawDB.SyncedWrites(m, 1)
		if err != nil {
			t.Fatal(err)
		}
		rTook += took
		start := time.Now()
		_, l, err := requestBench(1, make([][]byte, m), floor)
		if err != nil {
			t.Fatal(err)
		}
		fTook += time.Since(start)
		fLat = append(fLat, l...)
		start = time.Now()
		if _, l, err = requestBench(1, make([][]byte, m), book); err != nil {
			t.Fatal(err)
		}
		tTook += time.Since(start)
		lat = append(lat, l...)
	}
	tf, raw, fl := float64(n)/tTook.Seconds(), float64(n)/rTook.Seconds(), float64(n)/fTook.Seconds()
	t.Logf("bookings at 1 client: %.0f/s (%.0f µs each, p50 %.3f ms); raw synced writes: %.0f/s (%.0f µs each); "+
		"durable HTTP floor: %.0f/s (%.0f µs each, p50 %.3f ms); ratio %.2f, floor's ratio %.2f",
		tf, 1e6/tf, quantileMs(lat, 0.5), raw, 1e6/raw, fl, 1e6/fl, quantileMs(fLat, 0.5), tf/raw, fl/raw)
}
