package scheduler_test

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/internal/testenv/synth"
	"github.com/tafweej/tafweej/scheduler"
)

// restorerFixture is a random stored state: synthetic bookings over a few
// days, some cancelled, completed or rescheduled, of random parties, and a
// capacity cut on a zone and one on a gate.
func restorerFixture(t *testing.T, seed uint64) (*scheduler.Config, scheduler.Snapshot) {
	t.Helper()
	cfg, err := scheduler.ParseConfig(testenv.PetraYAML(t))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	snap := synth.Snapshot(cfg, 2000+rng.IntN(2000))
	for i := range snap.Bookings {
		b := &snap.Bookings[i]
		b.PartySize = 1 + rng.IntN(12)
		switch rng.IntN(6) {
		case 0:
			b.Status = scheduler.StatusCancelled
		case 1:
			b.Status, b.Admitted = scheduler.StatusCompleted, b.PartySize
		case 2:
			b.Status, b.Reason = scheduler.StatusRescheduled, "closure: flood"
		}
	}
	rng.Shuffle(len(snap.Bookings), func(i, j int) { snap.Bookings[i], snap.Bookings[j] = snap.Bookings[j], snap.Bookings[i] })
	from := synth.Base(cfg.Location()).Add(8 * time.Hour)
	snap.Cuts = []scheduler.CapacityCut{
		{ID: "cut-z", Zone: cfg.Zones[0].ID, Capacity: cfg.Zones[0].Capacity / 3, Reason: "rockfall", From: from, Until: from.Add(50 * time.Hour)},
		{ID: "cut-g", Gate: cfg.Gates[0].ID, Capacity: 1, Reason: "gate repair", From: from, Until: from.Add(30 * time.Hour)},
	}
	return cfg, snap
}

// TestRestorerInChunksIsRestore: bookings given to a Restorer in chunks of
// any size give the state Restore gives from the whole snapshot: the same
// records, availability, occupancy, waves and over-capacity dates.
func TestRestorerInChunksIsRestore(t *testing.T) {
	for seed := range uint64(4) {
		cfg, snap := restorerFixture(t, seed)
		want, err := scheduler.Restore(cfg, snap)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(seed, 2))
		r, err := scheduler.NewRestorer(cfg, snap.Cuts, 0)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]scheduler.Booking, 0, 600)
		for rest := snap.Bookings; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(600))
			buf = append(buf[:0], rest[:n]...)
			if err := r.AddBookings(buf); err != nil {
				t.Fatal(err)
			}
			clear(buf) // the state must keep nothing of a chunk
			rest = rest[n:]
		}
		rest := snap
		rest.Bookings = nil
		got, err := r.Finish(rest)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := got.Snapshot(), want.Snapshot(); !reflect.DeepEqual(g, w) {
			t.Fatalf("seed %d: the snapshots differ (%d and %d bookings)", seed, len(g.Bookings), len(w.Bookings))
		}
		base := synth.Base(cfg.Location())
		for d := range 4 {
			day := base.AddDate(0, 0, d)
			now := day.Add(10 * time.Hour)
			if g, w := got.Occupancy(now), want.Occupancy(now); !reflect.DeepEqual(g, w) {
				t.Errorf("seed %d: Occupancy(%v) = %v, want %v", seed, now, g, w)
			}
			if g, w := got.Waves(now, day, day.Add(24*time.Hour)), want.Waves(now, day, day.Add(24*time.Hour)); !reflect.DeepEqual(g, w) {
				t.Errorf("seed %d: Waves of %v differ", seed, day)
			}
			date := day.Format(time.DateOnly)
			g, gerr := got.Availability(day, date, "main", "op-001")
			w, werr := want.Availability(day, date, "main", "op-001")
			if !reflect.DeepEqual(g, w) || (gerr == nil) != (werr == nil) {
				t.Errorf("seed %d: Availability(%s) = %v, %v; want %v, %v", seed, date, g, gerr, w, werr)
			}
		}
		now := base.Add(9 * time.Hour)
		if g, w := got.OverCapacity(now), want.OverCapacity(now); !reflect.DeepEqual(g, w) {
			t.Errorf("seed %d: OverCapacity = %v, want %v", seed, g, w)
		}
	}
}

// TestRestorerRefusesADuplicateAcrossChunks: a booking id seen in an
// earlier chunk is a duplicate, as in one snapshot.
func TestRestorerRefusesADuplicateAcrossChunks(t *testing.T) {
	cfg, snap := restorerFixture(t, 9)
	r, err := scheduler.NewRestorer(cfg, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.AddBookings(snap.Bookings[:10]); err != nil {
		t.Fatal(err)
	}
	if err := r.AddBookings(snap.Bookings[5:6]); err == nil {
		t.Error("AddBookings took a booking id already restored")
	}
}
