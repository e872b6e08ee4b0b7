package engine

import (
	"runtime/debug"
	"sync"
	"testing"

	"github.com/tafweej/tafweej/internal/testenv/synth"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// gcPercent is the collector's target, read by setting it back.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// loadSpy is a store that does not stream (Load then Restore) and notes
// the collector's target while it loads.
type loadSpy struct {
	store.Store
	mu     sync.Mutex
	during []int
}

func (s *loadSpy) Load() (scheduler.Snapshot, error) {
	s.mu.Lock() // gcPercent sets the target for a moment: one read at a time
	s.during = append(s.during, gcPercent())
	s.mu.Unlock()
	return s.Store.Load()
}

// TestRestoreLowersTheCollectorsTargetOnlyWhileItRuns: a restore runs with
// the collector's target at restoreGCPercent and puts back the one before
// (an operator's GOGC) when it ends, also when restores overlap; a lower
// target, or the collector off, is left as it is.
func TestRestoreLowersTheCollectorsTargetOnlyWhileItRuns(t *testing.T) {
	cfg := petra(t)
	st := openStore(t, t.TempDir())
	defer st.Close()
	if err := st.Commit([]scheduler.Effect{scheduler.PutBooking{Booking: synth.Snapshot(cfg, 1).Bookings[0]}}); err != nil {
		t.Fatal(err)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, set := range []int{150, 100, 10, -1} {
		debug.SetGCPercent(set)
		spy := &loadSpy{Store: st}
		var wg sync.WaitGroup
		for range 4 { // overlapping restores of one process
			wg.Go(func() {
				if _, err := New(Options{Config: cfg, Store: spy, Clock: NewManualClock(synth.Base(cfg.Location()))}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		want := min(set, restoreGCPercent)
		if set < 0 {
			want = set
		}
		for _, p := range spy.during {
			if p != want {
				t.Errorf("GOGC %d: the target during a restore is %d, want %d", set, p, want)
			}
		}
		if got := gcPercent(); got != set {
			t.Errorf("GOGC %d: the target after the restores is %d", set, got)
		}
	}
}
