package engine

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/testenv/synth"
	"github.com/tafweej/tafweej/store"
)

// BenchmarkRestart is the bench's recovery row as a Go benchmark, for
// benchstat: each op is the restart (open Badger, engine.New) of the
// bookings stored in $TAFWEEJ_RESTART_DIR (made there, or in a temporary
// directory without it, with $TAFWEEJ_BENCH_BOOKINGS bookings, default
// 1,000,000). Each op first iterates the same records raw (not timed) and
// reports, besides the restart's time, raw-s (the limit's time), ratio
// (raw time / restart time, higher is better), cpu-s (the restart's CPU,
// every goroutine, user and system), sys-s (the system's part: page
// faults of a heap given back before, as the bench gives it back),
// page-faults (minor: pages mapped afresh) and
// heap-B/booking (the heap the state keeps a booking,
// counted from once Badger is open, after a GC, as the bench does).
func BenchmarkRestart(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("TAFWEEJ_BENCH_BOOKINGS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("TAFWEEJ_BENCH_BOOKINGS=%q: want a number of bookings", v)
		}
	}
	cfg := petra(b)
	dir := os.Getenv("TAFWEEJ_RESTART_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	if held, _, err := store.RawIterateBookings(dir); err != nil || held != n {
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
		fillRestartStore(b, cfg, dir, n)
	}
	store.RawIterateBookings(dir) // warms the page cache
	var raw, took, user, sys time.Duration
	var faults int64
	var heap float64
	for b.Loop() {
		b.StopTimer()
		_, r, err := store.RawIterateBookings(dir)
		if err != nil {
			b.Fatal(err)
		}
		raw += r
		runtime.GC()
		debug.FreeOSMemory() // as the bench: the restart maps its heap afresh
		user0, sys0 := cpuTimes()
		flt0 := minorFaults()
		start := time.Now()
		b.StartTimer()
		st, err := store.Open(dir, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		var m0 runtime.MemStats
		runtime.ReadMemStats(&m0) // not timed: Badger's own heap, whatever the bookings
		b.StartTimer()
		e, err := New(Options{Config: cfg, Store: st, Clock: NewManualClock(synth.Base(cfg.Location()))})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		took += time.Since(start)
		user1, sys1 := cpuTimes()
		faults += minorFaults() - flt0
		user += user1 - user0
		sys += sys1 - sys0
		if got := e.state.BookingCount(); got != n {
			b.Fatalf("restored %d bookings, want %d", got, n)
		}
		runtime.GC()
		var m1 runtime.MemStats
		runtime.ReadMemStats(&m1)
		heap = (float64(m1.HeapAlloc) - float64(m0.HeapAlloc)) / float64(n)
		runtime.KeepAlive(e)
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(raw.Seconds()/float64(b.N), "raw-s")
	b.ReportMetric(raw.Seconds()/took.Seconds(), "ratio")
	b.ReportMetric((user+sys).Seconds()/float64(b.N), "cpu-s")
	b.ReportMetric(sys.Seconds()/float64(b.N), "sys-s")
	b.ReportMetric(float64(faults)/float64(b.N), "page-faults")
	b.ReportMetric(heap, "heap-B/booking")
}

// cpuTimes is the user and system CPU time the process has used.
func cpuTimes() (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// minorFaults is the process's minor page faults so far.
func minorFaults() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Minflt
}
