package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// benchRecovery stores n valid bookings (single visitors and small groups
// allotted by the scheduler itself, 1,000 a day over many days, 100
// operators) in a new Badger in batches, closes it, and measures the
// restart: opening the store and rebuilding the owner loop's state.
func benchRecovery(cfg *scheduler.Config, dir string, n int, logf func(string, ...any)) (Row, error) {
	path := filepath.Join(dir, "recovery")
	st, err := store.Open(path, store.Options{})
	if err != nil {
		return Row{}, err
	}
	logf("recovery: storing %d bookings", n)
	t0 := time.Now()
	if err := storeBookings(cfg, st, n, logf); err != nil {
		st.Close()
		return Row{}, err
	}
	if err := st.Close(); err != nil {
		return Row{}, err
	}
	logf("recovery: %d bookings stored in %.1fs; reading them raw", n, time.Since(t0).Seconds())
	// The limit: Badger iterating the same records, values copied out and
	// not decoded, on one goroutine. A first pass warms the page cache for
	// both measurements.
	if _, _, err := store.RawIterateBookings(path); err != nil {
		return Row{}, err
	}
	rawN, rawTook, err := store.RawIterateBookings(path)
	if err != nil {
		return Row{}, err
	}
	if rawN != n {
		return Row{}, fmt.Errorf("bench: recovery: Badger holds %d booking records, want %d", rawN, n)
	}
	logf("recovery: raw iteration %.2fs; restarting", rawTook.Seconds())
	runtime.GC()
	debug.FreeOSMemory()
	rss0, _ := vmRSS()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	st, err = store.Open(path, store.Options{})
	if err != nil {
		return Row{}, err
	}
	defer st.Close()
	// Badger's own heap (its memtable arena and caches) is there whatever
	// the number of bookings: the state's heap a booking is counted from
	// here.
	var mOpen runtime.MemStats
	runtime.ReadMemStats(&mOpen)
	eng, err := engine.New(engine.Options{Config: cfg, Store: st, Clock: newBenchClock(benchBase(cfg.Location()))})
	if err != nil {
		return Row{}, err
	}
	took := time.Since(start)
	var count int
	if err := readState(eng, func(s *scheduler.State) { count = s.BookingCount() }); err != nil {
		return Row{}, err
	}
	if count != n {
		return Row{}, fmt.Errorf("bench: recovery restored %d bookings, want %d", count, n)
	}
	runtime.GC()
	rss1, _ := vmRSS()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	runtime.KeepAlive(eng)
	row := Row{Name: fmt.Sprintf("recovery, %d bookings", n),
		Tafweej: Figure{What: "restart: open Badger and rebuild the scheduler state from every stored booking (engine.New)",
			Value: took.Seconds(), Unit: "s", N: n, Reps: 1},
		Raw: &Figure{What: "Badger opening and iterating the same stored booking records, values copied out, not decoded (concurrency 1)",
			Value: rawTook.Seconds(), Unit: "s", N: rawN, Reps: 1, Concurrency: 1},
		Ratio: rawTook.Seconds() / took.Seconds(), // a time: the limit over Tafweej, higher is better
		Extra: map[string]float64{
			"rss_delta_mb":       float64(rss1-rss0) / (1 << 20),
			"heap_mb":            float64(m1.HeapAlloc) / (1 << 20),
			"heap_delta_mb":      (float64(m1.HeapAlloc) - float64(m0.HeapAlloc)) / (1 << 20),
			"rss_mb":             float64(rss1) / (1 << 20),
			"bytes_per_book":     (float64(m1.HeapAlloc) - float64(mOpen.HeapAlloc)) / float64(n),
			"store_open_heap_mb": (float64(mOpen.HeapAlloc) - float64(m0.HeapAlloc)) / (1 << 20),
			"raw_concurrency":    1,
		},
		Note: "memory after the restart and a GC: RSS from /proc/self/status VmRSS, heap from runtime.MemStats.HeapAlloc, deltas from just before the restart; " +
			"bytes_per_book is the heap the rebuilt state keeps a booking (from once Badger is open: its memtable arena and caches, store_open_heap_mb, do not grow with the bookings); " +
			"ratio is raw time / Tafweej time",
	}
	logf("recovery: %.2fs (raw %.2fs), RSS +%.0f MB, heap +%.0f MB, %.0f B a booking", took.Seconds(), rawTook.Seconds(),
		row.Extra["rss_delta_mb"], row.Extra["heap_delta_mb"], row.Extra["bytes_per_book"])
	return row, nil
}

// readState reads the state of an engine whose loop is not running.
func readState(eng *engine.Engine, f func(*scheduler.State)) error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); eng.Run(ctx) }()
	err := eng.Read(ctx, func(s *scheduler.State, _ time.Time) { f(s) })
	cancel()
	<-done
	return err
}

// storeBookings is the recovery's booking-load generator: it fills a
// store with n valid bookings, as many as a long season holds, without
// going through the service. It books parties of 1 to 4 visitors (cycling)
// from 100 operators on the main trail, window 06:00-15:00, 1,000 a day
// from benchBase on (the next day when one is full), through
// scheduler.State.Apply itself so that every record is one the service
// could have written, and commits the records in batches of 5,000. It is
// not the planner's Petra day (plantest.PetraDay): that one is a day of
// group requests for PlanDay; this one is the stored history a restart
// must load.
func storeBookings(cfg *scheduler.Config, st store.Store, n int, logf func(string, ...any)) error {
	const perDay, batch = 1000, 5000
	base := benchBase(cfg.Location())
	var s *scheduler.State
	var effects []scheduler.Effect
	commit := func() error {
		if len(effects) == 0 {
			return nil
		}
		err := st.Commit(effects)
		effects = effects[:0]
		return err
	}
	made := 0
	for day := 0; made < n; day++ {
		if day%30 == 0 {
			s = scheduler.New(cfg) // days are independent: keep the generator small
		}
		d := base.AddDate(0, 0, day)
		date := d.Format(time.DateOnly)
		now := d.Add(-12 * time.Hour)
		for i := 0; i < perDay && made < n; i++ {
			res, eff := s.Apply(now, scheduler.Book{ID: fmt.Sprintf("bk_r%08d", made), Operator: fmt.Sprintf("op-%03d", made%100),
				Request: scheduler.BookingRequest{Date: date, Route: "main", PartySize: 1 + made%4, Window: scheduler.Window{From: 6 * 60, To: 15 * 60}}})
			if res.Err != nil {
				break // the day is full (or closed): the next day
			}
			for _, e := range eff {
				if _, ok := e.(scheduler.Event); !ok {
					effects = append(effects, e)
				}
			}
			made++
			if len(effects) >= batch {
				if err := commit(); err != nil {
					return fmt.Errorf("bench: store bookings: %w", err)
				}
			}
		}
		if made%100_000 < perDay && made >= 100_000 {
			logf("recovery: %d bookings stored", made)
		}
		if day > 20*n/perDay+400 {
			return fmt.Errorf("bench: store bookings: only %d of %d bookings fit", made, n)
		}
	}
	if err := commit(); err != nil {
		return fmt.Errorf("bench: store bookings: %w", err)
	}
	return nil
}

// vmRSS is the resident set size from /proc/self/status.
func vmRSS() (uint64, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("bench: no VmRSS in /proc/self/status")
}
