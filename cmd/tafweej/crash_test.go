package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/internal/testenv/stack"
)

// TestCrashDuringBookings books from many clients at once, kills the
// service with SIGKILL at a random moment and restarts it on the same data:
// every booking answered 201 is there, and no wave is over its capacity.
func TestCrashDuringBookings(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and kills the real service; skipped with -short")
	}
	cfg := stack.Petra(t)
	capacity := map[string]int{}
	for _, g := range cfg.Gates {
		capacity[g.ID] = g.WaveCapacity
	}
	data := t.TempDir()
	// The clock starts at the same moment on each start; the bookings are
	// for the following days.
	flags := []string{"--clock-start", "2026-12-01T10:00:00+03:00", "--clock-speed", "1"}
	srv := startServer(t, data, flags...)

	// Operator keys, made once: they must survive the crashes too.
	const operators = 4
	keys := []string{srv.opsKey} // the ops key books walk-ins
	for i := range operators {
		var k api.KeyCreated
		mustHTTP(t, "POST", srv.httpURL+"/v1/keys", srv.opsKey,
			api.KeyRequest{Role: "operator", Operator: fmt.Sprintf("crash-op-%d", i)}, &k, http.StatusCreated)
		keys = append(keys, k.Key)
	}

	type confirmed struct {
		round int
		b     api.Booking
	}
	var (
		mu    sync.Mutex // guards acked
		acked []confirmed
	)
	var dates []string
	const rounds, workers = 3, 16
	for round := range rounds {
		date := time.Date(2026, 12, 2+round, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		dates = append(dates, date)
		hc := &http.Client{Timeout: 5 * time.Second}
		var created, refused atomic.Int64
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(round), uint64(w)))
				key := keys[w%len(keys)]
				for n := 0; ; n++ {
					route := []string{"main", "main", "monastery", "high-place", "back-trail"}[rng.IntN(5)]
					size := 10 + rng.IntN(51)
					if route == "back-trail" {
						size = 1 + rng.IntN(30)
					}
					from := 8*60 + 15*rng.IntN(8)
					req := api.BookingRequest{Date: date, Route: route, PartySize: size,
						Window: api.Window{From: hhmm(from), To: hhmm(from + 60)}}
					var b api.Booking
					code, err := httpCall(context.Background(), hc, "POST", srv.httpURL+"/v1/bookings", key, req, &b,
						"Idempotency-Key", fmt.Sprintf("crash-%d-%d-%d", round, w, n))
					if err != nil {
						return // the service is gone
					}
					switch code {
					case http.StatusCreated:
						created.Add(1)
						mu.Lock()
						acked = append(acked, confirmed{round, b})
						mu.Unlock()
					case http.StatusTooManyRequests:
						time.Sleep(20 * time.Millisecond)
					case http.StatusConflict, http.StatusUnprocessableEntity:
						refused.Add(1) // no capacity, operator share
					default:
						t.Errorf("POST /v1/bookings %+v: HTTP %d", req, code)
						return
					}
				}
			}()
		}
		// Kill at a random moment once the stream is flowing.
		checkFor(t, 30*time.Second, func() error {
			if created.Load() < 5 {
				return errors.New("fewer than 5 bookings created")
			}
			return nil
		})
		time.Sleep(time.Duration(rand.IntN(800)) * time.Millisecond) // a random moment, not a wait for a condition
		srv.kill()
		wg.Wait()
		t.Logf("round %d: %d bookings answered 201 and %d refused before SIGKILL", round, created.Load(), refused.Load())

		srv = startServer(t, data, flags...)
		mu.Lock()
		all := append([]confirmed(nil), acked...)
		mu.Unlock()
		// Every acknowledged booking is in its day's list, unchanged; the
		// last ones of the round, nearest the crash, are also read one by
		// one.
		listed := map[string]api.Booking{}
		for _, d := range dates {
			var list api.BookingList
			mustHTTP(t, "GET", srv.httpURL+"/v1/bookings?date="+d, srv.opsKey, nil, &list, http.StatusOK)
			for _, b := range list.Bookings {
				listed[b.ID] = b
			}
		}
		same := func(got, want api.Booking) bool {
			return got.PartySize == want.PartySize && got.Gate == want.Gate && got.Slot.Equal(want.Slot) && got.Status == want.Status
		}
		for i, c := range all {
			got, ok := listed[c.b.ID]
			if !ok {
				t.Errorf("round %d: booking %s was answered 201 but is lost after the restart", c.round, c.b.ID)
				continue
			}
			if c.round == round && i >= len(all)-10 {
				mustHTTP(t, "GET", srv.httpURL+"/v1/bookings/"+c.b.ID, srv.opsKey, nil, &got, http.StatusOK)
			}
			if !same(got, c.b) {
				t.Errorf("round %d: booking %s after the restart is %d at %s %s (%s), was answered %d at %s %s (%s)",
					c.round, c.b.ID, got.PartySize, got.Gate, got.Slot, got.Status, c.b.PartySize, c.b.Gate, c.b.Slot, c.b.Status)
			}
		}
		for _, d := range dates {
			checkCapacity(t, srv, d, capacity)
		}
		// The operator keys still work after the crash.
		mustHTTP(t, "GET", srv.httpURL+"/v1/bookings?date="+date, keys[1], nil, nil, http.StatusOK)
	}
	if len(acked) < rounds*5 {
		t.Fatalf("only %d bookings were acknowledged in %d rounds", len(acked), rounds)
	}
}

// checkCapacity checks that no wave of date holds more visitors than its
// gate's wave capacity and that availability is never negative.
func checkCapacity(t *testing.T, srv *testServer, date string, capacity map[string]int) {
	t.Helper()
	var list api.BookingList
	mustHTTP(t, "GET", srv.httpURL+"/v1/bookings?date="+date, srv.opsKey, nil, &list, http.StatusOK)
	type wave struct {
		gate string
		slot int64
	}
	booked := map[wave]int{}
	for _, b := range list.Bookings {
		if b.Status == "confirmed" || b.Status == "rescheduled" {
			booked[wave{b.Gate, b.Slot.Unix()}] += b.PartySize
		}
	}
	for w, n := range booked {
		if n > capacity[w.gate] {
			t.Errorf("%s: wave %s at %s holds %d visitors, over its capacity %d",
				date, time.Unix(w.slot, 0).UTC().Format(time.RFC3339), w.gate, n, capacity[w.gate])
		}
	}
	for _, route := range []string{"main", "monastery", "high-place", "back-trail"} {
		var av api.Availability
		mustHTTP(t, "GET", srv.httpURL+"/v1/availability?date="+date+"&route="+route, srv.opsKey, nil, &av, http.StatusOK)
		for _, s := range av.Slots {
			if s.Remaining < 0 || s.Booked > s.Capacity {
				t.Errorf("%s %s: wave %s at %s has remaining %d, booked %d of %d", date, route, s.Slot, s.Gate, s.Remaining, s.Booked, s.Capacity)
			}
			if s.Booked != booked[wave{s.Gate, s.Slot.Unix()}] {
				t.Errorf("%s %s: wave %s at %s: availability says %d booked, the bookings sum to %d",
					date, route, s.Slot, s.Gate, s.Booked, booked[wave{s.Gate, s.Slot.Unix()}])
			}
		}
	}
	t.Logf("%s: %d bookings in %d waves, all within capacity", date, len(list.Bookings), len(booked))
}
