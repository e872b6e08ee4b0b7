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
	book, closeClient, err := newBooker(ctx, env)
	if err != nil {
		return nil, err
	}
	defer closeClient()
	rawDB, err := store.OpenRaw(env.dir)
	if err != nil {
		return nil, err
	}
	defer rawDB.Close()
	var rows []Row
	for _, c := range []struct{ conc, n int }{{1, sz.BookingsSerial}, {64, sz.BookingsPar}} {
		var tf, raw []float64
		var lat []time.Duration
		for r := range reps {
			// Interleaved with the limit, in rounds, so that both see the
			// same disk: its fsync time varies a lot on a shared machine.
			var tTook, rTook time.Duration
			for _, m := range rounds(c.n, c.conc) {
				took, err := rawDB.SyncedWrites(m, c.conc)
				if err != nil {
					return nil, err
				}
				rTook += took
				start := time.Now()
				_, l, err := requestBench(c.conc, make([][]byte, m), book)
				if err != nil {
					return nil, err
				}
				tTook += time.Since(start)
				lat = append(lat, l...)
			}
			tf = append(tf, float64(c.n)/tTook.Seconds())
			raw = append(raw, float64(c.n)/rTook.Seconds())
			logf("bookings over HTTP, %d client(s), rep %d/%d: %.0f/s; raw synced Badger writes by %d writer(s), interleaved: %.0f/s",
				c.conc, r+1, reps, tf[r], c.conc, raw[r])
		}
		rows = append(rows, ratioRow(fmt.Sprintf("bookings, %d client(s)", c.conc),
			Figure{What: fmt.Sprintf("POST /v1/bookings answered 201 (durable: synced before the answer), %d client(s) in parallel, 100 operators, Idempotency-Key", c.conc),
				Value: median(tf), Unit: "bookings/s", N: c.n, Reps: reps, P50Ms: quantileMs(lat, 0.5), P99Ms: quantileMs(lat, 0.99), Concurrency: c.conc},
			Figure{What: fmt.Sprintf("raw Badger: synced transactions of one 256-byte record by %d writer(s) in parallel, each writing its next when the last is synced (Badger writes concurrent transactions in one batch but syncs its log once per transaction), same disk, interleaved with the bookings in rounds (store.RawDB)", c.conc),
				Value: median(raw), Unit: "writes/s", N: c.n, Reps: reps, Concurrency: c.conc, Durable: true}))
	}
	return rows, nil
}

// rounds splits n operations by conc clients into the rounds of an
// interleaved measurement: up to 10, each of at least 50 operations and
// 20 per client, so that a round's start and end (fewer than conc in
// flight) stay a small part of it.
func rounds(n, conc int) []int {
	k := min(10, n/max(50, 20*conc))
	if k < 1 {
		k = 1
	}
	out := make([]int, k)
	for i := range out {
		out[i] = n / k
	}
	out[k-1] += n % k
	return out
}

// newBooker makes the bench's 100 operator keys and returns book, which
// makes one booking over HTTP as an operator's client does (a new
// Idempotency-Key each) and fails unless it is answered 201; done closes
// the client's connections.
func newBooker(ctx context.Context, env *benchEnv) (book func([]byte) error, done func(), err error) {
	const operators = 100
	keys := make([]string, operators)
	for i := range keys {
		secret, _, err := auth.CreateKey(env.st, auth.RoleOperator, fmt.Sprintf("op-%03d", i), nil, "bench", env.eng.Now())
		if err != nil {
			return nil, nil, err
		}
		keys[i] = secret
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}, Timeout: 30 * time.Second}
	// Single visitors, 1,000 a day from day 20 on (after the scan days), over the whole day:
	// capacity never refuses, so every request makes a booking.
	first := benchBase(env.cfg.Location()).AddDate(0, 0, 20)
	var seq atomic.Int64
	book = func(_ []byte) error {
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
	return book, client.CloseIdleConnections, nil
}
