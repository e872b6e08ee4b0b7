package store

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/tafweej/tafweej/scheduler"
)

var loadN = flag.Int("load-n", 0, "bookings for BenchmarkLoad/n=custom (or $TAFWEEJ_BENCH_LOAD_N), e.g. 1000000")

// BenchmarkRawBadgerSyncedWrite is the disk's limit: one synced transaction
// of one record per op, one after the other.
func BenchmarkRawBadgerSyncedWrite(b *testing.B) {
	db, err := badger.Open(badgerOptions(b.TempDir(), Options{}.withDefaults()))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	val := make([]byte, 256)
	b.ResetTimer()
	for i := range b.N {
		key := fmt.Appendf(nil, "raw/%09d", i)
		if err := db.Update(func(txn *badger.Txn) error { return txn.Set(key, val) }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
}

// BenchmarkCommit commits batches of bookings, as the owner loop does for
// one turn (group commit): one op is one synced Commit.
func BenchmarkCommit(b *testing.B) {
	for _, batch := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s, err := Open(b.TempDir(), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			effects := make([]scheduler.Effect, batch)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				for j := range effects {
					effects[j] = scheduler.PutBooking{Booking: booking(fmt.Sprintf("bk-%09d", i*batch+j), 8, 0)}
				}
				if err := s.Commit(effects); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "bookings/s")
		})
	}
}

// BenchmarkLoad measures Load at start: the store holds n bookings (and
// idempotency records for a tenth of them), written, closed and reopened.
// One op is one booking loaded, so that -benchtime=2000x loads once: ns/op,
// B/op and allocs/op are per booking; s/load is a whole Load, snapshot-MB
// the heap the loaded snapshot holds, s/open the Open before it. The
// workers=1 run shows what parallel decoding gains.
func BenchmarkLoad(b *testing.B) {
	sizes := []int{100_000}
	if n := *loadN; n > 0 {
		sizes = append(sizes, n)
	} else if n, _ := strconv.Atoi(os.Getenv("TAFWEEJ_BENCH_LOAD_N")); n > 0 {
		sizes = append(sizes, n)
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			fill(b, dir, n)
			for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
				b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) { benchLoad(b, dir, n, workers) })
			}
		})
	}
}

func benchLoad(b *testing.B, dir string, n, workers int) {
	var base, before, after, held runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&base)
	start := time.Now()
	s, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	open := time.Since(start)
	s.loadWorkers = workers

	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.ResetTimer()
	loads := 0
	var snap scheduler.Snapshot
	for done := 0; done < b.N; done += n {
		snap = scheduler.Snapshot{}
		if snap, err = s.Load(); err != nil {
			b.Fatal(err)
		}
		loads++
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	// The heap the snapshot holds, without the database's caches.
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&held)
	if len(snap.Bookings) != n {
		b.Fatalf("loaded %d bookings, want %d", len(snap.Bookings), n)
	}
	per := float64(loads * n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/per, "ns/op")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/per, "B/op")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/per, "allocs/op")
	b.ReportMetric(b.Elapsed().Seconds()/float64(loads), "s/load")
	b.ReportMetric(open.Seconds(), "s/open")
	b.ReportMetric((float64(held.HeapAlloc)-float64(base.HeapAlloc))/(1<<20), "snapshot-MB")
	runtime.KeepAlive(snap)
}

// fill writes n bookings in commits of 2000, and closes the store.
func fill(b *testing.B, dir string, n int) {
	b.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	var effects []scheduler.Effect
	for i := range n {
		bk := booking(fmt.Sprintf("bk-%09d", i), 8+i%10, 15*(i%4))
		bk.Operator = fmt.Sprintf("op-%03d", i%300)
		effects = append(effects, scheduler.PutBooking{Booking: bk})
		if i%10 == 0 {
			effects = append(effects, scheduler.PutIdempotency{Record: idem(bk.Operator, "key-"+bk.ID, bk)})
		}
		if len(effects) >= 2000 || i == n-1 {
			if err := s.Commit(effects); err != nil {
				b.Fatal(err)
			}
			effects = effects[:0]
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkEncodeBookingTurn is the store's encoding of one booking's
// turn (the booking and its idempotency record), before Badger sees it.
func BenchmarkEncodeBookingTurn(b *testing.B) {
	bk := booking("bk_abcdefghijklmnop", 8, 15)
	effects := []scheduler.Effect{scheduler.PutBooking{Booking: bk},
		scheduler.PutIdempotency{Record: idem(bk.Operator, "key-"+bk.ID, bk)},
		scheduler.Event{Kind: scheduler.EventBookingConfirmed, Data: bk}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeEffects(effects); err != nil {
			b.Fatal(err)
		}
	}
}
