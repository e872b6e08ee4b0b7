package engine_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/internal/testenv/synth"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// snapStore loads a synthetic snapshot and writes nothing.
type snapStore struct {
	store.Store // nil: any other method panics
	snap        scheduler.Snapshot
}

func (s snapStore) Load() (scheduler.Snapshot, error) { return s.snap, nil }
func (s snapStore) Commit([]scheduler.Effect) error   { return nil }
func (s snapStore) Close() error                      { return nil }

// BenchmarkScrape is one scrape of the engine's metrics (the state's
// gauges read on the owner loop: occupancy, waves, over-capacity dates)
// with a million stored bookings ($TAFWEEJ_BENCH_BOOKINGS) over a thousand
// days.
func BenchmarkScrape(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("TAFWEEJ_BENCH_BOOKINGS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("TAFWEEJ_BENCH_BOOKINGS=%q: want a number of bookings", v)
		}
	}
	cfg, err := scheduler.ParseConfig(testenv.PetraYAML(b))
	if err != nil {
		b.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	clk := engine.NewManualClock(synth.Base(cfg.Location()).AddDate(0, 0, 2).Add(10 * time.Hour))
	e, err := engine.New(engine.Options{Config: cfg, Store: snapStore{snap: synth.Snapshot(cfg, n)}, Clock: clk, Registerer: reg})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	b.ResetTimer()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
