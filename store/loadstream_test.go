package store

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/tafweej/tafweej/scheduler"
)

// TestLoadStreamGivesLoadsRecords: the streamed bookings, chunk after
// chunk, are Load's bookings in the same order (archived dates' pending
// bookings left out the same way), and rest is the rest of Load's
// snapshot, with several workers decoding chunks out of order.
func TestLoadStreamGivesLoadsRecords(t *testing.T) {
	s := openBadger(t, t.TempDir()).(*Badger)
	s.loadWorkers = 3
	// 1 December's 700 are pending for the archive; 2 December's 700 are live.
	archiveFixture(t, s, 700)
	var effects []scheduler.Effect
	for i := range 2500 {
		b := booking(fmt.Sprintf("bk-more-%05d", (i*7919)%2500), 8+i%9, 15*(i%4))
		b.Operator = fmt.Sprintf("op-%d", i%11)
		effects = append(effects, scheduler.PutBooking{Booking: b})
		if i%50 == 0 {
			effects = append(effects, scheduler.PutIdempotency{Record: idem(b.Operator, "k-"+b.ID, b)})
		}
	}
	if err := s.Commit(effects); err != nil {
		t.Fatal(err)
	}
	want, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Bookings) != 700+2500 {
		t.Fatalf("Load returned %d bookings, want %d", len(want.Bookings), 700+2500)
	}
	var got []scheduler.Booking
	var rest scheduler.Snapshot
	chunks := 0
	err = s.LoadStream(func(r scheduler.Snapshot, _ int) error {
		rest = r
		if got != nil {
			t.Error("start was called after a chunk of bookings")
		}
		return nil
	}, func(bs []scheduler.Booking) error {
		chunks++
		got = append(got, bs...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if chunks < 2 {
		t.Errorf("%d chunks, want several (the test is to cover reordering)", chunks)
	}
	if !reflect.DeepEqual(got, want.Bookings) {
		t.Errorf("streamed %d bookings, not Load's %d in the same order", len(got), len(want.Bookings))
	}
	want.Bookings = nil
	if !reflect.DeepEqual(rest, want) {
		t.Errorf("rest = %+v\nwant Load's %+v", rest, want)
	}
	if len(rest.Idempotency) != 50 {
		t.Errorf("rest has %d idempotency records, want 50", len(rest.Idempotency))
	}
}

// TestLoadStreamStopsAtCallersError: an error from each stops the load and
// comes back as is.
func TestLoadStreamStopsAtCallersError(t *testing.T) {
	s := openBadger(t, t.TempDir()).(*Badger)
	var effects []scheduler.Effect
	for i := range 3000 {
		effects = append(effects, scheduler.PutBooking{Booking: booking(fmt.Sprintf("bk-%05d", i), 9, 0)})
	}
	if err := s.Commit(effects); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	calls := 0
	err := s.LoadStream(func(scheduler.Snapshot, int) error { return nil }, func([]scheduler.Booking) error {
		calls++
		return stop
	})
	if err != stop {
		t.Errorf("LoadStream = %v, want the callback's error", err)
	}
	if calls != 1 {
		t.Errorf("each was called %d times after its error, want 1", calls)
	}
	if err := s.LoadStream(func(scheduler.Snapshot, int) error { return stop }, func([]scheduler.Booking) error {
		t.Error("each was called after start failed")
		return nil
	}); err != stop {
		t.Errorf("LoadStream = %v, want start's error", err)
	}
}
