package engine

import (
	"errors"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/testenv/synth"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// TestMeasureRestart (TAFWEEJ_RESTART_MEASURE=<bookings>, e.g. 1000000)
// compares the restart of the bench's recovery row, the streamed start
// (engine.New on Badger), with Load then Restore (engine.New on a store
// that does not stream) and with Badger iterating
// the same records raw, and logs the ratios (raw time / restart time).
var errStop = errors.New("stop")

func TestMeasureRestart(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TAFWEEJ_RESTART_MEASURE"))
	if n <= 0 {
		t.Skip("set TAFWEEJ_RESTART_MEASURE=<bookings> to measure the restart")
	}
	cfg := petra(t)
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	snap := synth.Snapshot(cfg, n)
	var effects []scheduler.Effect
	for i, b := range snap.Bookings {
		effects = append(effects, scheduler.PutBooking{Booking: b})
		if len(effects) == 2000 || i == n-1 {
			if err := st.Commit(effects); err != nil {
				t.Fatal(err)
			}
			effects = effects[:0]
		}
	}
	snap = scheduler.Snapshot{}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	rounds, _ := strconv.Atoi(os.Getenv("TAFWEEJ_RESTART_ROUNDS"))
	rounds = max(rounds, 1)
	store.RawIterateBookings(dir) // warms the page cache
	for range rounds {
		_, raw, err := store.RawIterateBookings(dir)
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		start := time.Now()
		st, err := store.Open(dir, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		// The store hidden behind a type without LoadStream: Load then Restore.
		e, err := New(Options{Config: cfg, Store: struct{ store.Store }{st}, Clock: NewManualClock(synth.Base(cfg.Location()))})
		if err != nil {
			t.Fatal(err)
		}
		old := time.Since(start)
		if e.state.BookingCount() != n {
			t.Fatalf("restored %d bookings, want %d", e.state.BookingCount(), n)
		}
		e = nil
		st.Close()

		runtime.GC()
		start = time.Now()
		st, err = store.Open(dir, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var prof *os.File
		if path := os.Getenv("TAFWEEJ_RESTART_PROFILE"); path != "" {
			if prof, err = os.Create(path); err != nil {
				t.Fatal(err)
			}
			pprof.StartCPUProfile(prof)
		}
		e, err = New(Options{Config: cfg, Store: st, Clock: NewManualClock(synth.Base(cfg.Location()))})
		if err != nil {
			t.Fatal(err)
		}
		streamed := time.Since(start)
		if prof != nil {
			pprof.StopCPUProfile()
			prof.Close()
		}
		if e.state.BookingCount() != n {
			t.Fatalf("restored %d bookings, want %d", e.state.BookingCount(), n)
		}
		var estimate int
		st.LoadStream(func(_ scheduler.Snapshot, n int) error { estimate = n; return errStop }, nil)
		st.Close()
		t.Logf("%d bookings (estimated %d): raw %.2fs; Load+Restore %.2fs (ratio %.2f); streamed %.2fs (ratio %.2f)",
			n, estimate, raw.Seconds(), old.Seconds(), raw.Seconds()/old.Seconds(), streamed.Seconds(), raw.Seconds()/streamed.Seconds())
	}
}
