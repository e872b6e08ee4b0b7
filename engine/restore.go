package engine

import (
	"errors"
	"fmt"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// restore rebuilds the state from the store. A store that streams its
// bookings (store.StreamLoader, Badger) puts them into the state as they
// are decoded, never all in one slice; any other store is Load then
// Restore.
func (e *Engine) restore() (*scheduler.State, error) {
	sl, ok := e.st.(store.StreamLoader)
	if !ok {
		snap, err := e.st.Load()
		if err != nil {
			return nil, fmt.Errorf("engine: load state: %w", err)
		}
		s, err := scheduler.Restore(e.cfg, snap)
		if err != nil {
			return nil, fmt.Errorf("engine: rebuild state: %w", err)
		}
		return s, nil
	}
	var (
		r    *scheduler.Restorer
		rest scheduler.Snapshot
	)
	err := sl.LoadStream(func(snap scheduler.Snapshot, bookings int) error {
		rest = snap
		var err error
		r, err = scheduler.NewRestorer(e.cfg, snap.Cuts, bookings)
		return rebuildError{err}.orNil()
	}, func(bs []scheduler.Booking) error {
		return rebuildError{r.AddBookings(bs)}.orNil()
	})
	var re rebuildError
	if errors.As(err, &re) {
		return nil, fmt.Errorf("engine: rebuild state: %w", re.err)
	}
	if err != nil {
		return nil, fmt.Errorf("engine: load state: %w", err)
	}
	s, err := r.Finish(rest)
	if err != nil {
		return nil, fmt.Errorf("engine: rebuild state: %w", err)
	}
	return s, nil
}

// rebuildError marks an error of the scheduler's rebuild, to tell it from
// the store's when LoadStream returns it.
type rebuildError struct{ err error }

func (e rebuildError) Error() string { return e.err.Error() }
func (e rebuildError) Unwrap() error { return e.err }
func (e rebuildError) orNil() error {
	if e.err == nil {
		return nil
	}
	return e
}
