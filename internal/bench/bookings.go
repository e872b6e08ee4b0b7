package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/store"
)

func benchBookings(ctx context.Context, env *benchEnv, sz Sizes, reps int, logf func(string, ...any)) ([]Row, error) {
	const operators = 100
	keys := make([]string, operators)
	for i := range keys {
		secret, _, err := auth.CreateKey(env.st, auth.RoleOperator, fmt.Sprintf("op-%03d", i), nil, "bench", env.eng.Now())
		if err != nil {
			return nil, err
		}
		keys[i] = secret
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	// Single visitors, 1,000 a day from day 20 on (after the scan days), over the whole day:
	// capacity never refuses, so every request makes a booking.
	first := benchBase(env.cfg.Location()).AddDate(0, 0, 20)
	var seq atomic.Int64
	book := func(_ []byte) error {
		i := seq.Add(1)
		date := first.AddDate(0, 0, int(i/1000)).Format(time.DateOnly)
		body, _ := json.Marshal(api.BookingRequest{Date: date, Route: "main", PartySize: 1, Window: api.Window{From: "06:00", To: "15:00"}})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, env.url+"/v1/bookings", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+keys[i%operators])
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%d", i))
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("bench: booking %d on %s: %d %s", i, date, resp.StatusCode, b)
		}
		return nil
	}
	var raw []float64
	for r := range reps {
		perSec, err := store.RawSyncedWrites(env.dir, sz.RawWrites)
		if err != nil {
			return nil, err
		}
		raw = append(raw, perSec)
		logf("raw synced Badger writes rep %d/%d: %.0f/s", r+1, reps, perSec)
	}
	rawFig := Figure{What: "raw Badger: one 256-byte record per synced transaction, one after the other, same disk (store.RawSyncedWrites)",
		Value: median(raw), Unit: "writes/s", N: sz.RawWrites, Reps: reps}
	var rows []Row
	for _, c := range []struct{ conc, n int }{{1, sz.BookingsSerial}, {64, sz.BookingsPar}} {
		var tf []float64
		var lat []time.Duration
		for r := range reps {
			perSec, l, err := requestBench(c.conc, make([][]byte, c.n), book)
			if err != nil {
				return nil, err
			}
			tf = append(tf, perSec)
			lat = append(lat, l...)
			logf("bookings over HTTP, %d client(s), rep %d/%d: %.0f/s", c.conc, r+1, reps, perSec)
		}
		rows = append(rows, ratioRow(fmt.Sprintf("bookings, %d client(s)", c.conc),
			Figure{What: fmt.Sprintf("POST /v1/bookings answered 201 (durable: synced before the answer), %d client(s) in parallel, 100 operators, Idempotency-Key", c.conc),
				Value: median(tf), Unit: "bookings/s", N: c.n, Reps: reps, P50Ms: quantileMs(lat, 0.5), P99Ms: quantileMs(lat, 0.99)},
			rawFig))
	}
	return rows, nil
}
