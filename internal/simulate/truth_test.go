package simulate

import (
	"container/heap"
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/scheduler"
)

// testSimulator is a simulator without a service: the Petra configuration,
// no counters, its clock at zero (moves happen at their planned time).
func testSimulator(t *testing.T, o Options) *simulator {
	t.Helper()
	cfg, err := scheduler.ParseConfig(testenv.PetraYAML(t))
	if err != nil {
		t.Fatalf("petra config: %v", err)
	}
	o.Config = cfg
	if o.Speed == 0 {
		o.Speed = 1000
	}
	if err := o.Check(); err != nil {
		t.Fatalf("options: %v", err)
	}
	start := time.Date(2026, 12, 1, 6, 0, 0, 0, cfg.Location())
	return &simulator{f: &o, cfg: cfg, counters: map[string]*simCounter{}, byZone: map[string][]string{},
		truth: newTruth(), closed: map[string]bool{}, start: start, end: start.Add(10 * time.Hour),
		st: Stats{Bookings: map[string]int{}, Scans: map[string]int{}, Alerts: map[string]int{}}}
}

// checkConserved fails unless, in every zone, the people who entered are
// those inside plus those who left, and nobody is inside a zone less than
// zero times.
func checkConserved(t *testing.T, s *simulator, when string) {
	t.Helper()
	for _, z := range s.cfg.Zones {
		in, en, left := s.truth.inside[z.ID], s.truth.entered[z.ID], s.truth.left[z.ID]
		if in < 0 {
			t.Fatalf("%s: %d people inside %s", when, in, z.ID)
		}
		if en != in+left {
			t.Fatalf("%s: %s: entered %d != inside %d + left %d", when, z.ID, en, in, left)
		}
	}
}

// TestTruthConservesPeople: parties walking every route, with spread and a
// dwell factor, and an evacuation of the closed zones in the middle of the
// day: at every move, in every zone, entered = inside + left and nobody is
// inside less than zero times; at the end everyone has left every zone; a
// closed zone is not entered while it is closed.
func TestTruthConservesPeople(t *testing.T) {
	for _, factor := range []float64{0.7, 1, 1.3, 2} {
		s := testSimulator(t, Options{Speed: 1000, DwellFactor: &factor, Seed: 7})
		rng := rand.New(rand.NewPCG(1, 2))
		routes := []string{"main", "monastery", "high-place", "back-trail"}
		admitted := 0
		for i := range 200 {
			gr := &simGroup{index: i, route: routes[i%len(routes)], rng: rand.New(rand.NewPCG(3, uint64(i)))}
			n := 1 + rng.IntN(60)
			admitted += n
			s.walk(gr, n, s.start.Add(time.Duration(rng.IntN(8*60))*time.Minute))
		}
		closeAt := s.start.Add(5 * time.Hour)
		closedZones := []string{"bab-al-siq", "siq", "treasury"}
		reopenAt := closeAt.Add(90 * time.Minute)
		evacuated, reopened := false, false
		ctx := context.Background()
		moves := 0
		var enteredClosed []string
		for s.queue.Len() > 0 {
			e := heap.Pop(&s.queue).(*simEvent)
			if !evacuated && !e.at.Before(closeAt) {
				for _, z := range closedZones {
					s.closed[z] = true
					s.evacuate(z, closeAt)
				}
				evacuated = true
			}
			if !reopened && !e.at.Before(reopenAt) {
				clear(s.closed)
				reopened = true
			}
			before := s.truth.entered[e.zone]
			if err := s.handle(ctx, e); err != nil {
				t.Fatal(err)
			}
			if e.in && s.closed[e.zone] && s.truth.entered[e.zone] != before {
				enteredClosed = append(enteredClosed, e.zone+" at "+e.at.Format("15:04"))
			}
			moves++
			checkConserved(t, s, "after move "+e.at.Format("15:04:05"))
			// A party is in one zone at a time.
			if p := e.party; p != nil {
				in := 0
				for _, st := range p.stops {
					in += b2i(st.entered && !st.left)
				}
				if in > 1 {
					t.Fatalf("factor %v: a party of group %d is in %d zones at once at %s", factor, p.gr.index, in, e.at.Format("15:04:05"))
				}
			}
		}
		if len(enteredClosed) > 0 {
			t.Errorf("factor %v: parties entered closed zones: %v", factor, enteredClosed)
		}
		for _, z := range s.cfg.Zones {
			if n := s.truth.inside[z.ID]; n != 0 {
				t.Errorf("factor %v: %d people still inside %s at the end", factor, n, z.ID)
			}
		}
		if s.truth.entered["siq"] == 0 || s.truth.entered["monastery"] == 0 || moves == 0 {
			t.Errorf("factor %v: nobody walked: siq %d, monastery %d", factor, s.truth.entered["siq"], s.truth.entered["monastery"])
		}
		if walkers := s.truth.entered["bab-al-siq"] + s.truth.entered["little-petra"]; walkers < admitted/2 {
			t.Errorf("factor %v: %d entered the first zones of %d admitted", factor, walkers, admitted)
		}
		// The history agrees with the running figures: the per-minute
		// series never goes below zero and ends at zero.
		for z, zs := range s.truth.series(s.start, 15*60) {
			for m, v := range zs.max {
				if v < 0 {
					t.Fatalf("factor %v: %s at minute %d: %d people", factor, z, m, v)
				}
			}
			if last := zs.at(s.start.Add(24 * time.Hour)); last != 0 {
				t.Errorf("factor %v: %s ends with %d people", factor, z, last)
			}
		}
	}
}

// TestWalkStaysTheDwellFactorWithSpread: a party stays in each zone the
// configured time times the dwell factor, within a third either way, one
// stop after the other; over many parties the mean is the factor.
func TestWalkStaysTheDwellFactorWithSpread(t *testing.T) {
	cfg, err := scheduler.ParseConfig(testenv.PetraYAML(t))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := cfg.Route("monastery")
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, cfg.Location())
	for _, factor := range []float64{1, 1.3} {
		rng := rand.New(rand.NewPCG(9, 9))
		var sum, conf float64
		for range 500 {
			stops := planWalk(r, 10, at, factor, rng)
			if len(stops) != len(r.Stops) {
				t.Fatalf("%d stops, want %d", len(stops), len(r.Stops))
			}
			for i, st := range stops {
				cs := r.Stops[i]
				got := st.out.Sub(st.in).Minutes()
				lo, hi := float64(cs.Stay)*factor*(1-dwellSpread)-0.01, float64(cs.Stay)*factor*(1+dwellSpread)+0.01
				if got < lo || got > hi {
					t.Fatalf("factor %v: %s stays %.1f min, want %.1f to %.1f", factor, st.zone, got, lo, hi)
				}
				if i > 0 && st.in.Before(stops[i-1].out) {
					t.Fatalf("factor %v: enters %s at %s before leaving %s at %s", factor, st.zone, st.in, stops[i-1].zone, stops[i-1].out)
				}
				sum += got
				conf += float64(cs.Stay)
			}
		}
		if mean := sum / conf; mean < factor*0.97 || mean > factor*1.03 {
			t.Errorf("factor %v: visitors stay %.3f times the configured time on average", factor, mean)
		}
	}
}
