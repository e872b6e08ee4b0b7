package api

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/internal/testenv/stack"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
	"github.com/tafweej/tafweej/tickets"
)

// BenchmarkBookHTTP books through HTTP with synced Badger writes, many
// clients at once (each booking its own group with an Idempotency-Key), so
// the owner loop's group commit shares one fsync among many bookings. It
// reports bookings/s, the same machine's raw synced-write rate measured
// just before (store.RawSyncedWrites, one record per synced transaction)
// and their ratio.
func BenchmarkBookHTTP(b *testing.B) {
	raw, err := store.RawSyncedWrites(b.TempDir(), 1000)
	if err != nil {
		b.Fatal(err)
	}
	h := newHarness(b, nil) // RatePerSecond -1: no limit
	const operators = 100
	keys := make([]string, operators)
	for i := range keys {
		keys[i] = h.key(auth.RoleOperator, fmt.Sprintf("op-%03d", i), nil)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512}}
	defer client.CloseIdleConnections()
	first := time.Date(2026, 11, 30, 0, 0, 0, 0, testenv.Amman)
	var n atomic.Int64
	var failed atomic.Int64
	b.SetParallelism(16) // 16 × GOMAXPROCS clients
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			// 1,000 single visitors a day over the whole day and 100
			// operators: capacity never refuses, so every op is a booking.
			date := first.AddDate(0, 0, int(i/1000)%360).Format(time.DateOnly)
			req := BookingRequest{Date: date, Route: "main", PartySize: 1, Window: Window{"06:00", "15:00"}}
			r, err := h.try(client, "POST", "/v1/bookings", keys[i%operators], req, fmt.Sprintf("Idempotency-Key: bench-%d", i))
			if err != nil || r.code != http.StatusCreated {
				failed.Add(1)
				if failed.Load() < 5 {
					b.Errorf("booking %d: %v %d %s", i, err, r.code, r.body)
				}
			}
		}
	})
	b.StopTimer()
	perSec := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(perSec, "bookings/s")
	b.ReportMetric(raw, "raw-synced-writes/s")
	b.ReportMetric(perSec/raw, "x-raw")
}

// BenchmarkRawBadgerSynced is the disk's limit measured by the store: one
// synced transaction of one record after another.
func BenchmarkRawBadgerSynced(b *testing.B) {
	perSec, err := store.RawSyncedWrites(b.TempDir(), b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(perSec, "writes/s")
}

// BenchmarkBookHTTPSerial is one client booking over HTTP, each booking
// waiting for the last: the latency of one booking, from the request to
// its 201. store=synced is the real thing (compare its ns/op with
// BenchmarkRawBadgerSynced's, but the disk's fsync time varies a lot on a
// shared machine); store=memory is Badger in memory, no fsync: what
// Tafweej adds to the disk's time; store=memory+1ms sleeps 1 ms in each
// commit, a steady stand-in for the fsync, so that work done while the
// write is in flight (the ticket's signature) shows.
func BenchmarkBookHTTPSerial(b *testing.B) {
	for _, mode := range []string{"synced", "memory", "memory+1ms"} {
		b.Run("store="+mode, func(b *testing.B) {
			st, err := store.Open(b.TempDir(), store.Options{InMemory: mode != "synced"})
			if err != nil {
				b.Fatal(err)
			}
			var commits store.Store = st
			if mode == "memory+1ms" {
				commits = &delayedStore{Store: st, delay: time.Millisecond}
			}
			h := newBenchHarness(b, st, commits)
			const operators = 100
			keys := make([]string, operators)
			for i := range keys {
				keys[i] = h.key(auth.RoleOperator, fmt.Sprintf("op-%03d", i), nil)
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			defer client.CloseIdleConnections()
			first := time.Date(2026, 11, 30, 0, 0, 0, 0, testenv.Amman)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				date := first.AddDate(0, 0, (i/1000)%360).Format(time.DateOnly)
				req := BookingRequest{Date: date, Route: "main", PartySize: 1, Window: Window{"06:00", "15:00"}}
				r, err := h.try(client, "POST", "/v1/bookings", keys[i%operators], req, fmt.Sprintf("Idempotency-Key: bench-%d", i))
				if err != nil || r.code != http.StatusCreated {
					b.Fatalf("booking %d: %v %d %s", i, err, r.code, r.body)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bookings/s")
		})
	}
}

// delayedStore sleeps before each commit: a steady stand-in for an fsync.
type delayedStore struct {
	store.Store
	delay time.Duration
}

func (s *delayedStore) Commit(effects []scheduler.Effect) error {
	time.Sleep(s.delay)
	return s.Store.Commit(effects)
}

// newBenchHarness is the API on an engine committing to commits, with its
// keys in st, served over HTTP, all stopped when b ends.
func newBenchHarness(b *testing.B, st *store.Badger, commits store.Store) *harness {
	h := &harness{t: b, cfg: stack.Petra(b), clock: engine.NewManualClock(storyNow), st: st}
	var err error
	if h.eng, err = engine.New(engine.Options{Config: h.cfg, Store: commits, Clock: h.clock}); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.eng.Run(ctx); close(done) }()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	if h.api, err = New(Options{Engine: h.eng, Store: st, Signer: tickets.NewSigner(priv), RatePerSecond: -1}); err != nil {
		b.Fatal(err)
	}
	h.srv = httptest.NewServer(h.api)
	b.Cleanup(func() {
		h.srv.Close()
		cancel()
		<-done
		st.Close()
	})
	return h
}
