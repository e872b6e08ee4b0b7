package api

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/scheduler"
)

// TestConcurrentBookings: 200 bookings at once over HTTP from ten callers
// (nine operators and the ticket office), far more than the waves hold. No
// wave, zone or share ends over capacity (invariant 1), checked by summing
// the bookings and by availability never going negative; every 201 is
// there and nothing else.
func TestConcurrentBookings(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.RatePerSecond = 0 }) // the default limits
	const date = "2026-12-01"
	keys := []string{h.opsKey} // the ticket office
	for i := range 9 {
		keys = append(keys, h.key(auth.RoleOperator, fmt.Sprintf("op-%d", i), nil))
	}
	routes := []string{"monastery", "monastery", "monastery", "main", "high-place"}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	t.Cleanup(client.CloseIdleConnections)
	type outcome struct {
		code int
		id   string
		err  error
		body string
	}
	const perKey = 20
	out := make(chan outcome, len(keys)*perKey)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for k, key := range keys {
		for i := range perKey {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				req := BookingRequest{Date: date, Route: routes[(k+i)%len(routes)], PartySize: 20 + (k*7+i*13)%41,
					Window: Window{From: "08:00", To: "10:00"}}
				r, err := h.try(client, "POST", "/v1/bookings", key, req, fmt.Sprintf("Idempotency-Key: k%d-%d", k, i))
				o := outcome{code: r.code, err: err, body: string(r.body)}
				if r.code == http.StatusCreated {
					var b Booking
					r.decode(t, &b)
					o.id = b.ID
				}
				out <- o
			}()
		}
	}
	close(start)
	wg.Wait()
	close(out)
	created := map[string]bool{}
	refused := 0
	for o := range out {
		switch {
		case o.err != nil:
			t.Errorf("request failed: %v", o.err)
		case o.code == http.StatusCreated:
			created[o.id] = true
		case o.code == http.StatusConflict:
			refused++
		default:
			t.Errorf("answer %d: %s", o.code, o.body)
		}
	}
	if len(created) == 0 || refused == 0 {
		t.Fatalf("%d created, %d refused: the test must both fill the waves and be refused", len(created), refused)
	}
	t.Logf("%d booked, %d refused", len(created), refused)

	var list BookingList
	h.do("GET", "/v1/bookings?date="+date, h.opsKey, nil).decode(t, &list)
	if len(list.Bookings) != len(created) {
		t.Errorf("%d bookings stored, %d acknowledged", len(list.Bookings), len(created))
	}
	for _, b := range list.Bookings {
		if !created[b.ID] {
			t.Errorf("booking %s stored but not acknowledged", b.ID)
		}
	}
	checkCapacity(t, h.cfg, list.Bookings)

	// Availability, in every caller's view, never goes negative and never
	// shows a wave booked past its capacity.
	for _, key := range keys {
		for _, route := range []string{"main", "monastery", "high-place"} {
			var a Availability
			h.do("GET", "/v1/availability?date="+date+"&route="+route, key, nil).decode(t, &a)
			for _, s := range a.Slots {
				if s.Remaining < 0 || s.Booked > s.Capacity || s.Remaining > s.Capacity-s.Booked {
					t.Errorf("availability of %s for %s: %+v", route, a.Operator, s)
				}
			}
		}
	}
}

// checkCapacity sums the active bookings per wave, per zone minute and per
// operator and wave, and compares with the configuration.
func checkCapacity(t *testing.T, cfg *scheduler.Config, bookings []Booking) {
	t.Helper()
	type wave struct {
		gate string
		slot time.Time
	}
	waves := map[wave]int{}
	opWaves := map[wave]int{} // operators only, not walk-ins
	perOp := map[string]map[wave]int{}
	zones := map[string]map[int64]int{} // zone → unix minute → visitors
	for _, b := range bookings {
		if b.Status != scheduler.StatusConfirmed && b.Status != scheduler.StatusRescheduled {
			continue
		}
		w := wave{b.Gate, b.Slot}
		waves[w] += b.PartySize
		if b.Operator != scheduler.WalkInOperator {
			opWaves[w] += b.PartySize
			if perOp[b.Operator] == nil {
				perOp[b.Operator] = map[wave]int{}
			}
			perOp[b.Operator][w] += b.PartySize
		}
		r, ok := cfg.Route(b.Route)
		if !ok {
			t.Fatalf("booking %s has unknown route %q", b.ID, b.Route)
		}
		start := b.Slot.Unix() / 60
		for _, st := range r.Stops {
			if zones[st.Zone] == nil {
				zones[st.Zone] = map[int64]int{}
			}
			for m := start + int64(st.Arrive); m < start+int64(st.Arrive+st.Stay); m++ {
				zones[st.Zone][m] += b.PartySize
			}
		}
	}
	share := func(n int, s float64) int { return int(float64(n)*s + 1e-9) }
	p := cfg.Policy
	for w, n := range waves {
		g, _ := cfg.Gate(w.gate)
		if n > g.WaveCapacity {
			t.Errorf("wave %s %s holds %d, capacity %d", w.gate, w.slot.Format("15:04"), n, g.WaveCapacity)
		}
		if o := opWaves[w]; o > share(g.WaveCapacity, 1-p.WalkInShare) {
			t.Errorf("wave %s %s: operators hold %d of the walk-in share", w.gate, w.slot.Format("15:04"), o)
		}
	}
	for op, ws := range perOp {
		for w, n := range ws {
			g, _ := cfg.Gate(w.gate)
			if n > share(g.WaveCapacity, p.OperatorWaveShare) {
				t.Errorf("operator %s holds %d of wave %s %s", op, n, w.gate, w.slot.Format("15:04"))
			}
		}
	}
	peak := map[string]int{}
	for z, mins := range zones {
		zc, _ := cfg.Zone(z)
		for m, n := range mins {
			peak[z] = max(peak[z], n)
			if n > zc.Capacity {
				t.Errorf("zone %s holds %d at %s, capacity %d", z, n, time.Unix(m*60, 0).In(testenv.Amman).Format("15:04"), zc.Capacity)
				break
			}
		}
	}
	t.Logf("zone peaks: %v", peak)
}
