package scheduler_test

import (
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/internal/testenv/synth"
	"github.com/tafweej/tafweej/scheduler"
)

// benchBookings is the number of stored bookings of the benchmarks of
// restart and status ($TAFWEEJ_BENCH_BOOKINGS, default 1,000,000).
func benchBookings(b *testing.B) int {
	if v := os.Getenv("TAFWEEJ_BENCH_BOOKINGS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatalf("TAFWEEJ_BENCH_BOOKINGS=%q: want a number of bookings", v)
		}
		return n
	}
	return 1_000_000
}

func benchConfig(b *testing.B) *scheduler.Config {
	cfg, err := scheduler.ParseConfig(testenv.PetraYAML(b))
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

// BenchmarkRestore rebuilds the state from a million stored bookings (the
// store's part, decoding, is store's BenchmarkLoad); it reports the heap
// the state keeps a booking and the process's CPU a restore (cpu-s: the
// collector's included; steadier than the time on a loaded machine).
func BenchmarkRestore(b *testing.B) {
	cfg := benchConfig(b)
	n := benchBookings(b)
	snap := synth.Snapshot(cfg, n)
	var kept float64
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		cpu0 := scheduler.ProcessCPU()
		b.StartTimer()
		s, err := scheduler.Restore(cfg, snap)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += scheduler.ProcessCPU() - cpu0
		runtime.GC()
		runtime.ReadMemStats(&m1)
		kept = (float64(m1.HeapAlloc) - float64(m0.HeapAlloc)) / float64(n)
		runtime.KeepAlive(s)
		s = nil
		b.StartTimer()
	}
	b.ReportMetric(kept, "heap-B/booking")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s")
}

// BenchmarkStatusQueries is what GET /v1/status and the metrics scrape ask
// of the state (occupancy, waves, over-capacity dates) with a million
// stored bookings over a thousand days.
func BenchmarkStatusQueries(b *testing.B) {
	cfg := benchConfig(b)
	s, err := scheduler.Restore(cfg, synth.Snapshot(cfg, benchBookings(b)))
	if err != nil {
		b.Fatal(err)
	}
	now := synth.Base(cfg.Location()).AddDate(0, 0, 2).Add(10 * time.Hour)
	b.ResetTimer()
	for b.Loop() {
		s.Occupancy(now)
		s.Waves(now, now.Add(-3*time.Hour), now.Add(6*time.Hour))
		s.OverCapacity(now)
	}
}
