package engine

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/testenv/synth"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// TestStreamedRestartIsLoadThenRestore: the engine's start on Badger
// (bookings streamed into the state) rebuilds the state Load then Restore
// rebuilds from the same store, availability included.
func TestStreamedRestartIsLoadThenRestore(t *testing.T) {
	cfg := petra(t)
	st := openStore(t, t.TempDir())
	defer st.Close()
	if _, ok := st.(store.StreamLoader); !ok {
		t.Fatal("the Badger store does not stream its bookings: the test would not test the streamed start")
	}
	snap := synth.Snapshot(cfg, 3000)
	var effects []scheduler.Effect
	for i, b := range snap.Bookings {
		if i%5 == 0 {
			b.Status = scheduler.StatusCancelled
		}
		effects = append(effects, scheduler.PutBooking{Booking: b})
	}
	from := synth.Base(cfg.Location()).Add(8 * time.Hour)
	effects = append(effects, scheduler.PutCut{Cut: scheduler.CapacityCut{ID: "rain", Zone: "siq", Capacity: 300, Reason: "rain", From: from, Until: from.Add(3 * time.Hour)}})
	if err := st.Commit(effects); err != nil {
		t.Fatal(err)
	}
	loaded, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	want, err := scheduler.Restore(cfg, loaded)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{Config: cfg, Store: st, Clock: NewManualClock(from)})
	if err != nil {
		t.Fatal(err)
	}
	got := e.state
	if g, w := got.Snapshot(), want.Snapshot(); !reflect.DeepEqual(g, w) {
		t.Fatalf("the streamed start's snapshot differs (%d bookings, want %d)", len(g.Bookings), len(w.Bookings))
	}
	if got.BookingCount() != 3000 {
		t.Errorf("restored %d bookings, want 3000", got.BookingCount())
	}
	for d := range 3 {
		date := synth.Base(cfg.Location()).AddDate(0, 0, d).Format(time.DateOnly)
		g, gerr := got.Availability(from, date, "main", "op-001")
		w, werr := want.Availability(from, date, "main", "op-001")
		if gerr != nil || werr != nil || !reflect.DeepEqual(g, w) {
			t.Errorf("Availability(%s) = %v, %v; want %v, %v", date, g, gerr, w, werr)
		}
	}
}

// TestStreamedRestartNamesABookingItCannotRestore: a stored booking the
// configuration cannot take fails the start as a rebuild error naming it.
func TestStreamedRestartNamesABookingItCannotRestore(t *testing.T) {
	cfg := petra(t)
	st := openStore(t, t.TempDir())
	defer st.Close()
	snap := synth.Snapshot(cfg, 1200)
	snap.Bookings[1100].Route = "gone"
	var effects []scheduler.Effect
	for _, b := range snap.Bookings {
		effects = append(effects, scheduler.PutBooking{Booking: b})
	}
	if err := st.Commit(effects); err != nil {
		t.Fatal(err)
	}
	_, err := New(Options{Config: cfg, Store: st, Clock: NewManualClock(synth.Base(cfg.Location()))})
	if err == nil || !strings.Contains(err.Error(), "engine: rebuild state") || !strings.Contains(err.Error(), snap.Bookings[1100].ID) {
		t.Errorf("New = %v, want a rebuild error naming %q", err, snap.Bookings[1100].ID)
	}
}
