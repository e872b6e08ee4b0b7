package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// Records lets the engine read records back through the failing store, as
// it does through the Badger store it wraps.
func (s *failingStore) Records(effects []scheduler.Effect) (scheduler.Snapshot, error) {
	return s.Store.(store.RecordReader).Records(effects)
}

// loadCounting counts the loads of the whole store.
type loadCounting struct {
	*failingStore
	loads atomic.Int64
}

func (s *loadCounting) Load() (scheduler.Snapshot, error) {
	s.loads.Add(1)
	return s.failingStore.Load()
}

// restoredFrom is the state a restart on st would build.
func restoredFrom(t testing.TB, cfg *scheduler.Config, st store.Store) *scheduler.State {
	t.Helper()
	snap, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	s, err := scheduler.Restore(cfg, snap)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sameState reports how the engine's state differs from want: its records,
// and the room it shows on every date (zones, waves, operators' shares).
func sameState(e *Engine, want *scheduler.State, dates []string) error {
	var diff error
	err := e.Read(context.Background(), func(s *scheduler.State, now time.Time) {
		got, w := reflect.ValueOf(s.Snapshot()), reflect.ValueOf(want.Snapshot())
		for i := range got.NumField() {
			// As JSON: a time read back from the store has its offset, not
			// the zone's name.
			a, _ := json.Marshal(got.Field(i).Interface())
			b, _ := json.Marshal(w.Field(i).Interface())
			if string(a) != string(b) {
				diff = fmt.Errorf("%s differ:\nmemory:   %s\nrestored: %s", got.Type().Field(i).Name, a, b)
				return
			}
		}
		for _, date := range dates {
			for _, op := range []string{"op", "op-b", scheduler.WalkInOperator} {
				got, _ := s.Availability(now, date, "main", op)
				w, _ := want.Availability(now, date, "main", op)
				ga, _ := json.Marshal(got)
				wa, _ := json.Marshal(w)
				if string(ga) != string(wa) {
					diff = fmt.Errorf("%s: room for %s differs:\nmemory:   %s\nrestored: %s", date, op, ga, wa)
					return
				}
			}
		}
	})
	if err != nil {
		return err
	}
	return diff
}

// TestFailedCommitUndoesOnlyTheTurn: a failed commit takes back the turn's
// changes without loading the store again (a reload is seconds at a
// million bookings), and leaves what a restart would build.
func TestFailedCommitUndoesOnlyTheTurn(t *testing.T) {
	cs := &loadCounting{failingStore: &failingStore{Store: openStore(t, t.TempDir())}}
	e, cfg := start(t, cs, nil)
	ctx := context.Background()
	booked := 0
	for i := range 200 {
		res, err := e.Do(ctx, book(i, fmt.Sprintf("op-%d", i%20)))
		if err != nil {
			t.Fatal(err)
		}
		if res.Err == nil {
			booked++
		}
	}
	if booked == 0 {
		t.Fatal("nothing booked")
	}
	loads := cs.loads.Load()
	cs.Fail.Store(true)
	if _, err := e.Do(ctx, book(1000, "op")); !errors.Is(err, ErrStore) {
		t.Fatalf("got %v, want ErrStore", err)
	}
	if _, err := e.Do(ctx, scheduler.Cancel{ID: "bk00003"}); !errors.Is(err, ErrStore) {
		t.Fatalf("cancel: got %v, want ErrStore", err)
	}
	cs.Fail.Store(false)
	if got := cs.loads.Load(); got != loads {
		t.Errorf("the store was loaded %d more times after failed commits, want none", got-loads)
	}
	if err := sameState(e, restoredFrom(t, cfg, cs.failingStore), []string{"2026-12-01"}); err != nil {
		t.Fatal(err)
	}
	if res, err := e.Do(ctx, book(1000, "op")); err != nil || res.Err != nil {
		t.Fatal(err, res.Err)
	}
}

// TestFailedCommitsLeaveWhatARestartBuilds: random commands, the store
// failing at random; after each, the engine's state is what a fresh
// Restore from the store builds, and the store is never loaded again.
func TestFailedCommitsLeaveWhatARestartBuilds(t *testing.T) {
	cfg := petra(t)
	dates := []string{"2026-12-01", "2026-12-02"}
	rapid.Check(t, func(rt *rapid.T) {
		cs := &loadCounting{failingStore: &failingStore{Store: openStore(t, t.TempDir())}}
		defer cs.Close()
		clk := NewManualClock(time.Date(2026, 11, 30, 10, 0, 0, 0, cfg.Location()))
		e, err := New(Options{Config: cfg, Store: cs, Clock: clk, ReplanStep: 4})
		if err != nil {
			rt.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { e.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		ids := []string{"none"}
		for i := range rapid.IntRange(1, 30).Draw(rt, "commands") {
			var cmd scheduler.Command
			id := func() string { return rapid.SampledFrom(ids).Draw(rt, "id") }
			switch rapid.IntRange(0, 9).Draw(rt, "kind") {
			case 0, 1, 2, 3:
				b := book(i, rapid.SampledFrom([]string{"op", "op-b", scheduler.WalkInOperator}).Draw(rt, "op"))
				b.Request.Date = rapid.SampledFrom(dates).Draw(rt, "date")
				b.Request.PartySize = rapid.IntRange(1, 40).Draw(rt, "size")
				cmd = b
				ids = append(ids, b.ID)
			case 4:
				n := rapid.IntRange(1, 40).Draw(rt, "newsize")
				cmd = scheduler.Modify{ID: id(), PartySize: &n}
			case 5:
				cmd = scheduler.Cancel{ID: id()}
			case 6:
				cmd = scheduler.Close{ID: fmt.Sprintf("cl%d", i), Zones: []string{"siq"}, Reason: "flood",
					Until: clk.Now().Add(time.Duration(rapid.IntRange(1, 60).Draw(rt, "hours")) * time.Hour)}
			case 7:
				from := time.Date(2026, 12, 1, rapid.IntRange(6, 14).Draw(rt, "from"), 0, 0, 0, cfg.Location())
				cmd = scheduler.CutCapacity{ID: fmt.Sprintf("cut%d", i), Zone: "siq", Capacity: rapid.IntRange(0, 300).Draw(rt, "cap"),
					From: from, Until: from.Add(3 * time.Hour), Reason: "works"}
			case 8:
				clk.Advance(time.Duration(rapid.IntRange(1, 600).Draw(rt, "minutes")) * time.Minute)
				cmd = scheduler.Tick{}
			default:
				cmd = scheduler.Reopen{ID: fmt.Sprintf("cl%d", rapid.IntRange(0, i).Draw(rt, "closure"))}
			}
			cs.Fail.Store(rapid.IntRange(0, 2).Draw(rt, "fail") == 0)
			_, err := e.Do(context.Background(), cmd)
			if err != nil && !errors.Is(err, ErrStore) {
				rt.Fatalf("%T: %v", cmd, err)
			}
			cs.Fail.Store(false)
			if err := sameState(e, restoredFrom(t, cfg, cs.failingStore), dates); err != nil {
				rt.Fatalf("after %T%+v: %v", cmd, cmd, err)
			}
		}
		if n := cs.loads.Load(); n != 1 {
			rt.Fatalf("the store was loaded %d times, want once (at start)", n)
		}
	})
}
