package api

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/store"
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
// its 201, synced write included. Compare its ns/op with
// BenchmarkRawBadgerSynced's.
func BenchmarkBookHTTPSerial(b *testing.B) {
	h := newHarness(b, nil) // RatePerSecond -1: no limit
	const operators = 100
	keys := make([]string, operators)
	for i := range keys {
		keys[i] = h.key(auth.RoleOperator, fmt.Sprintf("op-%03d", i), nil)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer client.CloseIdleConnections()
	first := time.Date(2026, 11, 30, 0, 0, 0, 0, testenv.Amman)
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
}
