package engine

import (
	"errors"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"syscall"
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
// TAFWEEJ_RESTART_DIR=<dir> keeps the store there and reuses it when it
// holds that many bookings (so that two builds measure the same store);
// TAFWEEJ_RESTART_OLD=0 leaves out Load then Restore;
// TAFWEEJ_RESTART_PROFILE and TAFWEEJ_RESTART_TRACE name files for a CPU
// profile and an execution trace of the streamed restart (the last round's),
// TAFWEEJ_RESTART_RAW_PROFILE one for a CPU profile of the raw iteration.
var errStop = errors.New("stop")

func TestMeasureRestart(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TAFWEEJ_RESTART_MEASURE"))
	if n <= 0 {
		t.Skip("set TAFWEEJ_RESTART_MEASURE=<bookings> to measure the restart")
	}
	cfg := petra(t)
	dir := os.Getenv("TAFWEEJ_RESTART_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	if held, _, err := store.RawIterateBookings(dir); err != nil || held != n {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		fillRestartStore(t, cfg, dir, n)
	}
	withOld := os.Getenv("TAFWEEJ_RESTART_OLD") != "0"
	rounds, _ := strconv.Atoi(os.Getenv("TAFWEEJ_RESTART_ROUNDS"))
	rounds = max(rounds, 1)
	store.RawIterateBookings(dir) // warms the page cache
	for range rounds {
		var rawProf *os.File
		if path := os.Getenv("TAFWEEJ_RESTART_RAW_PROFILE"); path != "" {
			var err error
			if rawProf, err = os.Create(path); err != nil {
				t.Fatal(err)
			}
			pprof.StartCPUProfile(rawProf)
		}
		rawCPU0 := cpuTime()
		_, raw, err := store.RawIterateBookings(dir)
		rawCPU := cpuTime() - rawCPU0
		if rawProf != nil {
			pprof.StopCPUProfile()
			rawProf.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
		var old time.Duration
		if withOld {
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
			old = time.Since(start)
			if e.state.BookingCount() != n {
				t.Fatalf("restored %d bookings, want %d", e.state.BookingCount(), n)
			}
			e = nil
			st.Close()
		}

		runtime.GC()
		cpu0 := cpuTime()
		start := time.Now()
		st, err := store.Open(dir, store.Options{})
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
		var tr *os.File
		if path := os.Getenv("TAFWEEJ_RESTART_TRACE"); path != "" {
			if tr, err = os.Create(path); err != nil {
				t.Fatal(err)
			}
			trace.Start(tr)
		}
		e, err := New(Options{Config: cfg, Store: st, Clock: NewManualClock(synth.Base(cfg.Location()))})
		if err != nil {
			t.Fatal(err)
		}
		streamed := time.Since(start)
		cpu := cpuTime() - cpu0
		if tr != nil {
			trace.Stop()
			tr.Close()
		}
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
		t.Logf("%d bookings (estimated %d): raw %.2fs (%.2fs of CPU); Load+Restore %.2fs (ratio %.2f); streamed %.2fs (ratio %.2f, %.2fs of CPU)",
			n, estimate, raw.Seconds(), rawCPU.Seconds(), old.Seconds(), raw.Seconds()/old.Seconds(), streamed.Seconds(), raw.Seconds()/streamed.Seconds(), cpu.Seconds())
	}
}

// fillRestartStore stores synth's n bookings in a new store in dir.
func fillRestartStore(t testing.TB, cfg *scheduler.Config, dir string, n int) {
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
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// cpuTime is the CPU time the process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
