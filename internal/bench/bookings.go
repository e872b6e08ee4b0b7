package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/store"
)

func benchBookings(ctx context.Context, env *benchEnv, sz Sizes, reps int, logf func(string, ...any)) ([]Row, error) {
	keys, err := benchKeys(env)
	if err != nil {
		return nil, err
	}
	book, last, closeClient := bookingClient(ctx, env, env.url, keys)
	defer closeClient()
	rawDB, err := store.OpenRaw(env.dir)
	if err != nil {
		return nil, err
	}
	defer rawDB.Close()
	// The durable HTTP floor of the 1-client row answers what the service
	// answers: one real booking's 201, made before measuring.
	if err := book(nil); err != nil {
		return nil, err
	}
	// The floor writes to a database of its own: the limit's is written
	// by the limit alone, as before the floor was measured.
	floorDB, err := store.OpenRaw(env.dir)
	if err != nil {
		return nil, err
	}
	defer floorDB.Close()
	floorURL, stopFloor, err := startHTTPFloor(floorDB, last())
	if err != nil {
		return nil, err
	}
	defer stopFloor()
	floorBook, _, closeFloor := bookingClient(ctx, env, floorURL, keys)
	defer closeFloor()
	var rows []Row
	for _, c := range []struct{ conc, n int }{{1, sz.BookingsSerial}, {64, sz.BookingsPar}} {
		var tf, raw, floor []float64
		var lat, floorLat []time.Duration
		for r := range reps {
			// Interleaved with the limit, in rounds, so that both see the
			// same disk: its fsync time varies a lot on a shared machine.
			var tTook, rTook, fTook time.Duration
			for _, m := range rounds(c.n, c.conc) {
				took, err := rawDB.SyncedWrites(m, c.conc)
				if err != nil {
					return nil, err
				}
				rTook += took
				if c.conc == 1 {
					// Between the limit and the bookings, so that the
					// limit follows the bookings as it always has.
					start := time.Now()
					_, l, err := requestBench(c.conc, make([][]byte, m), floorBook)
					if err != nil {
						return nil, err
					}
					fTook += time.Since(start)
					floorLat = append(floorLat, l...)
				}
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
			if c.conc == 1 {
				floor = append(floor, float64(c.n)/fTook.Seconds())
				logf("durable HTTP floor, 1 client, rep %d/%d: %.0f/s (%.2f of the raw synced writes)", r+1, reps, floor[r], floor[r]/raw[r])
			}
		}
		row := ratioRow(fmt.Sprintf("bookings, %d client(s)", c.conc),
			Figure{What: fmt.Sprintf("POST /v1/bookings answered 201 (durable: synced before the answer), %d client(s) in parallel, 100 operators, Idempotency-Key", c.conc),
				Value: median(tf), Unit: "bookings/s", N: c.n, Reps: reps, P50Ms: quantileMs(lat, 0.5), P99Ms: quantileMs(lat, 0.99), Concurrency: c.conc},
			Figure{What: fmt.Sprintf("raw Badger: synced transactions of one 256-byte record by %d writer(s) in parallel, each writing its next when the last is synced (Badger writes concurrent transactions in one batch but syncs its log once per transaction), same disk, interleaved with the bookings in rounds (store.RawDB)", c.conc),
				Value: median(raw), Unit: "writes/s", N: c.n, Reps: reps, Concurrency: c.conc, Durable: true})
		if c.conc == 1 {
			row.Extra = map[string]float64{"http_floor_per_s": median(floor), "http_floor_ratio": median(floor) / median(raw),
				"http_floor_p50_ms": quantileMs(floorLat, 0.5)}
			row.Note = "http_floor: the same client against an HTTP server (api.NewHTTPServer) whose handler only reads the body, " +
				"makes one synced write (a database like the limit's, its own) and answers a booking's 201 as it was sent, interleaved in the same rounds: " +
				"the most a service durable before its answer reaches over HTTP at one client; ratio stays against the raw writes"
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// startHTTPFloor serves POST /v1/bookings as the least an HTTP service
// durable before its answer can do: read the body, make one synced write
// of rawDB (not the limit's own), answer answer with a 201 and the headers the service sends.
// It runs on the service's HTTP server settings (api.NewHTTPServer), on
// loopback; stop closes it.
func startHTTPFloor(rawDB *store.RawDB, answer []byte) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("bench: durable HTTP floor: %w", err)
	}
	srv := api.NewHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := rawDB.Write(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		h.Set("Location", "/v1/bookings/bk_floor")
		w.WriteHeader(http.StatusCreated)
		w.Write(answer)
	}), api.HTTPOptions{})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { srv.Close(); <-done }, nil
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

// benchKeys makes the bench's 100 operator keys.
func benchKeys(env *benchEnv) ([]string, error) {
	keys := make([]string, 100)
	for i := range keys {
		secret, _, err := auth.CreateKey(env.st, auth.RoleOperator, fmt.Sprintf("op-%03d", i), nil, "bench", env.eng.Now())
		if err != nil {
			return nil, err
		}
		keys[i] = secret
	}
	return keys, nil
}

// bookingClient returns book, which makes one booking over HTTP at url as
// an operator's client does (a key of keys in turn, a new Idempotency-Key
// each) and fails unless it is answered 201; last gives the body of the
// last 201; done closes the client's connections.
func bookingClient(ctx context.Context, env *benchEnv, url string, keys []string) (book func([]byte) error, last func() []byte, done func()) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}, Timeout: 30 * time.Second}
	// Single visitors, 1,000 a day from day 20 on (after the scan days), over the whole day:
	// capacity never refuses, so every request makes a booking.
	first := benchBase(env.cfg.Location()).AddDate(0, 0, 20)
	var seq atomic.Int64
	var lastBody atomic.Pointer[[]byte]
	book = func(_ []byte) error {
		i := seq.Add(1)
		date := first.AddDate(0, 0, int(i/1000)).Format(time.DateOnly)
		body, _ := json.Marshal(api.BookingRequest{Date: date, Route: "main", PartySize: 1, Window: api.Window{From: "06:00", To: "15:00"}})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/bookings", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+keys[int(i)%len(keys)])
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
		lastBody.Store(&b)
		return nil
	}
	last = func() []byte {
		if b := lastBody.Load(); b != nil {
			return *b
		}
		return nil
	}
	return book, last, client.CloseIdleConnections
}
