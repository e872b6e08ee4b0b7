package engine

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/plantest"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// seedFullDays writes seven full days from 2026-12-01 (plantest.FullDays)
// to st.
func seedFullDays(t testing.TB, cfg *scheduler.Config, st store.Store, days int) (first time.Time, n int) {
	t.Helper()
	first = time.Date(2026, 12, 1, 0, 0, 0, 0, cfg.Location())
	recs := plantest.FullDays(cfg, bigStart, first, days, 7)
	for i := 0; i < len(recs); i += 200 {
		if err := st.Commit(recs[i:min(i+200, len(recs))]); err != nil {
			t.Fatal(err)
		}
	}
	return first, len(recs)
}

// scanLoad sends gate scans without pause from 4 clients through e until
// stopped, recording the latency of those sent while measuring.
type scanLoad struct {
	mu        sync.Mutex // guards lat
	lat       []time.Duration
	measuring atomic.Bool
	stop      atomic.Bool
	wg        sync.WaitGroup
}

func startScanLoad(t testing.TB, e *Engine, clients int) *scanLoad {
	t.Helper()
	ctx := context.Background()
	var tickets []scheduler.Ticket
	for i := 0; len(tickets) < 40 && i < 200; i++ {
		res, err := e.Do(ctx, scheduler.Book{ID: fmt.Sprintf("today%03d", i), Operator: fmt.Sprintf("gate-op%d", i%8),
			Request: scheduler.BookingRequest{Date: "2026-11-29", Route: "back-trail", PartySize: 30,
				Window: scheduler.Window{From: 10 * 60, To: 15 * 60}}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Err == nil {
			b := res.Booking
			tickets = append(tickets, scheduler.Ticket{Booking: b.ID, Date: b.Date, Slot: b.Slot, Gate: b.Gate, PartySize: b.PartySize})
		}
	}
	if len(tickets) == 0 {
		t.Fatal("no group booked for today")
	}
	l := &scanLoad{}
	var seq atomic.Int64
	for w := range clients {
		l.wg.Go(func() {
			for !l.stop.Load() {
				i := int(seq.Add(1))
				tk := tickets[i%len(tickets)]
				start := time.Now()
				_, err := e.Do(ctx, scheduler.Scan{Gate: tk.Gate, Ticket: tk, Count: 1, ScanID: fmt.Sprintf("s%d-%d", w, i), Device: "bench"})
				took := time.Since(start)
				if err != nil {
					t.Error(err)
					return
				}
				if l.measuring.Load() {
					l.mu.Lock()
					l.lat = append(l.lat, took)
					l.mu.Unlock()
				}
			}
		})
	}
	return l
}

func (l *scanLoad) finish() []time.Duration {
	l.stop.Store(true)
	l.wg.Wait()
	slices.Sort(l.lat)
	return l.lat
}

func quantile(lat []time.Duration, p float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	return lat[min(len(lat)-1, int(p*float64(len(lat))))]
}

// TestSevenDayCutScanLatency measures (TAFWEEJ_BIG_CUT=1) the scans
// answered through the owner loop while a cut of the Siq to half its
// capacity over seven full days re-plans, in the loop (steps, as before)
// and off it, one after the other on the same data; it logs the figures
// and the time each step or plan took in the loop. `tafweej bench` has the
// same over NATS ("scans during a 7-day cut").
func TestSevenDayCutScanLatency(t *testing.T) {
	if os.Getenv("TAFWEEJ_BIG_CUT") == "" {
		t.Skip("set TAFWEEJ_BIG_CUT=1 for the 7-day cut on full days")
	}
	cfg := petra(t)
	for _, tc := range []struct {
		name   string
		budget int
	}{{"in the loop", -1}, {"off the loop", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t, t.TempDir())
			t.Cleanup(func() { st.Close() })
			first, n := seedFullDays(t, cfg, st, 7)
			e, _ := runEngine(t, cfg, st, Options{ReplanBudget: tc.budget})
			var mu sync.Mutex // guards turns
			var turns []time.Duration
			e.applyFn = func(s *scheduler.State, now time.Time, c scheduler.Command) (scheduler.Result, []scheduler.Effect) {
				t0 := time.Now()
				r, ef := s.Apply(now, c)
				if _, ok := stepOf(c); ok {
					mu.Lock()
					turns = append(turns, time.Since(t0).Round(time.Millisecond))
					mu.Unlock()
				}
				return r, ef
			}
			l := startScanLoad(t, e, 4)
			time.Sleep(200 * time.Millisecond)
			l.measuring.Store(true)
			start := time.Now()
			res, err := e.Do(context.Background(), scheduler.CutCapacity{ID: "rain", Zone: "siq", Capacity: 600, From: first,
				Until: first.AddDate(0, 0, 7), Reason: "rain", Source: "ops"})
			took := time.Since(start)
			lat := l.finish()
			if err != nil || res.Err != nil {
				t.Fatal(err, res.Err)
			}
			if res.Cut.Applying || res.Cut.Replanned.Moved+res.Cut.Replanned.Cancelled == 0 {
				t.Fatalf("cut answered as %+v", res.Cut)
			}
			mu.Lock()
			defer mu.Unlock()
			t.Logf("%d bookings; cut %+v in %v; apply in the loop: %v", n, res.Cut.Replanned, took.Round(time.Millisecond), turns)
			t.Logf("scans: %d, p50 %v, p99 %v, max %v", len(lat), quantile(lat, 0.5), quantile(lat, 0.99), quantile(lat, 1))
		})
	}
}
