package engine

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// restore rebuilds the state from the store. A store that streams its
// bookings (store.StreamLoader, Badger) puts them into the state as they
// are decoded, never all in one slice; any other store is Load then
// Restore.
func (e *Engine) restore() (*scheduler.State, error) {
	defer lowerGCForRestore()()
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

// restoreGCPercent is the collector's target (GOGC) while a restore runs.
// A restart builds a state of hundreds of megabytes in a heap the process
// maps afresh, and Badger's blocks, decompressed into new buffers, are
// garbage as fast: at the default 100 the heap grows to twice the state,
// and each page of it is a page fault. At 25 a million-booking restart
// faulted 25% fewer pages and spent 24% less system time, more than the
// extra collections cost (BenchmarkRestart, GOGC 100 against 25
// interleaved, n=5: CPU 4.46 s against 3.83 s). The state's own heap is
// the same after (the collections run sooner, they keep nothing more).
const restoreGCPercent = 25

// restoreGC counts the restores under way in the process (engines may
// restore at once, as a test's do): the first lowers the target, the last
// puts back the one before the first.
var restoreGC struct {
	sync.Mutex
	n    int
	prev int
}

// lowerGCForRestore lowers the collector's target to restoreGCPercent
// (a lower target, or the collector off, is kept) until the function it
// returns is called.
func lowerGCForRestore() (undo func()) {
	restoreGC.Lock()
	defer restoreGC.Unlock()
	if restoreGC.n == 0 {
		restoreGC.prev = debug.SetGCPercent(restoreGCPercent)
		if restoreGC.prev < restoreGCPercent { // lower, or off (negative)
			debug.SetGCPercent(restoreGC.prev)
		}
	}
	restoreGC.n++
	return func() {
		restoreGC.Lock()
		defer restoreGC.Unlock()
		if restoreGC.n--; restoreGC.n == 0 {
			debug.SetGCPercent(restoreGC.prev)
		}
	}
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
