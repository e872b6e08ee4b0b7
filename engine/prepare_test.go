package engine

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// gatedStore is a real store whose commits, while hold is set, tell that
// they have started and wait for a release.
type gatedStore struct {
	store.Store
	hold    atomic.Bool
	started chan struct{} // one value per held commit begun
	release chan struct{} // one value lets one held commit go on
}

func (s *gatedStore) Commit(effects []scheduler.Effect) error {
	if s.hold.Load() {
		s.started <- struct{}{}
		<-s.release
	}
	return s.Store.Commit(effects)
}

// TestDoPreparedPreparesWhileTheTurnIsWrittenAndAnswersOnceDurable: the
// caller gets the applied result while the turn's write is in flight (so
// it can sign and encode its answer meanwhile), and DoPrepared returns
// only once the write is done, with that same result.
func TestDoPreparedPreparesWhileTheTurnIsWrittenAndAnswersOnceDurable(t *testing.T) {
	gs := &gatedStore{Store: openStore(t, t.TempDir()), started: make(chan struct{}, 16), release: make(chan struct{}, 16)}
	e, _ := start(t, gs, nil)
	gs.hold.Store(true)
	t.Cleanup(func() { gs.hold.Store(false); close(gs.release) })
	prepared := make(chan scheduler.Result, 1)
	type out struct {
		res scheduler.Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := e.DoPrepared(context.Background(), book(1, "op"), func(r scheduler.Result) { prepared <- r })
		done <- out{res, err}
	}()
	<-gs.started // the booking's turn is being written, and waits
	var early scheduler.Result
	select {
	case early = <-prepared:
	case <-time.After(10 * time.Second):
		t.Fatal("prepare was not called while the turn was written")
	}
	if early.Err != nil || early.Booking == nil || early.Booking.ID != "bk00001" {
		t.Fatalf("prepared result %+v, want the booking bk00001", early)
	}
	select {
	case o := <-done:
		t.Fatalf("DoPrepared returned %+v before the booking was durable", o)
	case <-time.After(50 * time.Millisecond): // nothing must come: the write is held
	}
	gs.release <- struct{}{}
	o := <-done
	if o.err != nil || o.res.Booking == nil || *o.res.Booking != *early.Booking {
		t.Fatalf("DoPrepared returned %+v, %v; want the prepared booking %+v", o.res.Booking, o.err, early.Booking)
	}
}

// TestDoPreparedFailedCommitIsAnErrorNotTheResult: when the turn's write
// fails, the prepared result is not what the caller gets: ErrStore is,
// and nothing of the booking stays.
func TestDoPreparedFailedCommitIsAnErrorNotTheResult(t *testing.T) {
	cs := &failingStore{Store: openStore(t, t.TempDir())}
	e, _ := start(t, cs, nil)
	cs.Fail.Store(true)
	calls := 0
	_, err := e.DoPrepared(context.Background(), book(1, "op"), func(r scheduler.Result) {
		calls++
		if r.Booking == nil {
			t.Errorf("prepared result %+v, want the booking as applied", r)
		}
	})
	if !errors.Is(err, ErrStore) {
		t.Fatalf("DoPrepared with a failing commit: err %v, want ErrStore", err)
	}
	if calls > 1 {
		t.Errorf("prepare called %d times, want at most once", calls)
	}
	cs.Fail.Store(false)
	var n int
	if err := e.Read(context.Background(), func(s *scheduler.State, _ time.Time) { n = s.BookingCount() }); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d bookings after the failed commit, want 0", n)
	}
}
