package bench

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/tafweej/tafweej/internal/testenv/stack"
)

// TestMeasureBookingRows runs the booking rows of `tafweej bench` (1 and
// 64 clients, each against its synced-write limit) on the real service
// and nothing else, e.g. to compare two builds' rows alternately:
//
//	TAFWEEJ_BOOKING_ROWS=500,5000 go test -run TestMeasureBookingRows -v ./internal/bench
//
// The value is the bookings of the 1-client and of the 64-client row.
// Skipped unless set.
func TestMeasureBookingRows(t *testing.T) {
	v := os.Getenv("TAFWEEJ_BOOKING_ROWS")
	if v == "" {
		t.Skip("set TAFWEEJ_BOOKING_ROWS=<bookings at 1 client>,<bookings at 64> to measure")
	}
	var serial, par int
	if n, err := fmt.Sscanf(v, "%d,%d", &serial, &par); err != nil || n != 2 || serial <= 0 || par <= 0 {
		t.Fatalf("TAFWEEJ_BOOKING_ROWS %q: want two counts of bookings, e.g. 500,5000", v)
	}
	ctx := context.Background()
	env, err := startBenchEnv(ctx, stack.Petra(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer env.stop()
	rows, err := benchBookings(ctx, env, Sizes{BookingsSerial: serial, BookingsPar: par}, 1, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		raw := 0.0
		if row.Raw != nil {
			raw = row.Raw.Value
		}
		t.Logf("%-22s %6.0f/s p50/p99 %5.2f/%6.2f ms | limit %6.0f/s | ratio %.2f | %v", row.Name,
			row.Tafweej.Value, row.Tafweej.P50Ms, row.Tafweej.P99Ms, raw, row.Ratio, row.Extra)
	}
}
