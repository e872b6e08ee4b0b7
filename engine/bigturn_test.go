package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// smallTxn is the memtable of the stores of these tests: one Commit holds
// at most about 300 KB, some 600 bookings, so a closure of a few thousand
// bookings is too big for one write, as 47k bookings are with the real
// 64 MiB.
const smallTxn = 2 << 20

func openSmallStore(t testing.TB, dir string) *store.Badger {
	t.Helper()
	st, err := store.Open(dir, store.Options{MemTableSize: smallTxn})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

var bigStart = time.Date(2026, 11, 29, 10, 0, 0, 0, petraLoc)

var petraLoc = testenv.Amman

// seedBookings books n groups of one visitor on the main route (through the
// Siq), over as many days from 2026-12-01 as they need, in a scheduler of
// its own, and writes their records to st in writes that fit. It returns
// the dates used.
func seedBookings(t testing.TB, cfg *scheduler.Config, st store.Store, n int) (first, last time.Time) {
	t.Helper()
	s := scheduler.New(cfg)
	first = time.Date(2026, 12, 1, 0, 0, 0, 0, cfg.Location())
	day, booked, refusedRun := first, 0, 0
	var recs []scheduler.Effect
	flush := func() {
		if err := st.Commit(recs); err != nil {
			t.Fatal(err)
		}
		recs = recs[:0]
	}
	for i := 0; booked < n; i++ {
		c := scheduler.Book{ID: fmt.Sprintf("sb%06d", i), Operator: fmt.Sprintf("op%d", i%97), Request: scheduler.BookingRequest{
			Date: day.Format(time.DateOnly), Route: "main", PartySize: 1, Window: scheduler.Window{From: 6 * 60, To: 15 * 60}}}
		res, effects := s.Apply(bigStart, c)
		if res.Err != nil {
			// The day is full (a few refusals in a row): next day.
			if refusedRun++; refusedRun == 3 {
				day, refusedRun = day.AddDate(0, 0, 1), 0
			}
			continue
		}
		refusedRun = 0
		booked++
		for _, ef := range effects {
			if _, ev := ef.(scheduler.Event); !ev {
				recs = append(recs, ef)
			}
		}
		if len(recs) >= 200 {
			flush()
		}
	}
	flush()
	return first, day
}

// runEngine starts an engine on st and returns it with its stop function.
func runEngine(t testing.TB, cfg *scheduler.Config, st store.Store, opts Options) (*Engine, func()) {
	t.Helper()
	opts.Config, opts.Store = cfg, st
	if opts.Clock == nil {
		opts.Clock = NewManualClock(bigStart)
	}
	e, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return e, stop
}

// stillHit lists the active bookings with nobody admitted whose route meets
// a zone of cl while it blocks (from its start to its end).
func stillHit(cfg *scheduler.Config, cl scheduler.Closure, bookings []scheduler.Booking) []string {
	var out []string
	for _, b := range bookings {
		if !b.Active() || b.Admitted > 0 {
			continue
		}
		r, _ := cfg.Route(b.Route)
		for _, st := range r.Stops {
			a := b.Slot.Add(time.Duration(st.Arrive) * time.Minute)
			e := a.Add(time.Duration(st.Stay) * time.Minute)
			if cl.Covers(st.Zone) && a.Before(cl.Until) && e.After(cl.From) {
				out = append(out, b.ID)
				break
			}
		}
	}
	return out
}

func closureOf(t testing.TB, snap scheduler.Snapshot, id string) scheduler.Closure {
	t.Helper()
	for _, c := range snap.Closures {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("closure %q is not in the store", id)
	return scheduler.Closure{}
}

func byClosure(snap scheduler.Snapshot, reason string) map[string]scheduler.Booking {
	out := map[string]scheduler.Booking{}
	for _, b := range snap.Bookings {
		if b.Reason == "closure: "+reason {
			out[b.ID] = b
		}
	}
	return out
}

// TestClosureOfAnySizeApplies: a closure whose re-plan is too big for one
// store transaction applies (in steps), the caller is answered when it is
// whole, and what is stored is what the engine has in memory.
func TestClosureOfAnySizeApplies(t *testing.T) {
	cfg := petra(t)
	st := openSmallStore(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	_, last := seedBookings(t, cfg, st, 2500)
	e, _ := runEngine(t, cfg, st, Options{})
	until := last.Add(12 * time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := e.Do(ctx, scheduler.Close{ID: "flood", Zones: []string{"siq"}, Reason: "flood", Until: until})
	if err != nil || res.Err != nil {
		t.Fatalf("close: %v %v", err, res.Err)
	}
	if res.Closure.Applying {
		t.Fatal("the caller was answered while the closure was still applying")
	}
	snap, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	cl := closureOf(t, snap, "flood")
	if cl.Applying {
		t.Error("the stored closure is still applying")
	}
	if hit := stillHit(cfg, cl, snap.Bookings); len(hit) > 0 {
		t.Errorf("%d stored bookings still meet the closure, e.g. %s", len(hit), hit[0])
	}
	if n := len(byClosure(snap, "flood")); n < 2000 {
		t.Errorf("%d bookings moved or cancelled by the closure, want at least 2000", n)
	}
	var mem scheduler.Snapshot
	if err := e.Read(ctx, func(s *scheduler.State, _ time.Time) { mem = s.Snapshot() }); err != nil {
		t.Fatal(err)
	}
	if len(mem.Bookings) != len(snap.Bookings) {
		t.Fatalf("%d bookings in memory, %d stored", len(mem.Bookings), len(snap.Bookings))
	}
	for i, b := range mem.Bookings {
		if d := snap.Bookings[i]; b.ID != d.ID || !b.Slot.Equal(d.Slot) || b.Gate != d.Gate || b.Status != d.Status || b.Version != d.Version || b.Reason != d.Reason {
			t.Fatalf("booking %s in memory differs from the stored one:\n%+v\n%+v", b.ID, b, snap.Bookings[i])
		}
	}
}

// TestCutOfAnySizeApplies: the same for a capacity cut.
func TestCutOfAnySizeApplies(t *testing.T) {
	cfg := petra(t)
	st := openSmallStore(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	_, last := seedBookings(t, cfg, st, 2500)
	e, _ := runEngine(t, cfg, st, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := e.Do(ctx, scheduler.CutCapacity{ID: "rain", Gate: "visitor-centre", Capacity: 10, Reason: "rain", Until: last.AddDate(0, 0, 1)})
	if err != nil || res.Err != nil {
		t.Fatalf("cut: %v %v", err, res.Err)
	}
	if res.Cut.Applying {
		t.Fatal("the caller was answered while the cut was still applying")
	}
	snap, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	moved := 0
	for _, b := range snap.Bookings {
		if strings.HasPrefix(b.Reason, "capacity cut: rain") {
			moved++
		}
	}
	if moved < 1000 {
		t.Errorf("%d bookings re-planned by the cut, want over 1000", moved)
	}
	for _, c := range snap.Cuts {
		if c.ID == "rain" && c.Applying {
			t.Error("the stored cut is still applying")
		}
	}
}

// TestUnrelatedCommandsSurviveOversizedTurn: bookings that share a turn with
// a closure too big for one write are confirmed and stored; and when one
// command's records are too big on their own (no steps), it alone fails.
func TestUnrelatedCommandsSurviveOversizedTurn(t *testing.T) {
	for _, tc := range []struct {
		name      string
		step      int
		closureOK bool
	}{{"in steps", 0, true}, {"one command too big", -1, false}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := petra(t)
			st := openSmallStore(t, t.TempDir())
			t.Cleanup(func() { st.Close() })
			first, last := seedBookings(t, cfg, st, 2500)
			until := last.Add(12 * time.Hour)
			if tc.step < 0 {
				// One date (some 1,250 bookings, 400 KB of records): too big
				// for one write, and one planner run (slow under -race).
				until = first.AddDate(0, 0, 1)
			}
			opts := Options{ReplanStep: tc.step}
			if tc.step < 0 {
				opts.ReplanBudget = -1 // in the loop, in one command
			}
			e, _ := runEngine(t, cfg, st, opts)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()

			// Hold the loop in a read while the commands queue, so that they
			// are all drained into one turn.
			entered, release := make(chan struct{}), make(chan struct{})
			go e.Read(ctx, func(*scheduler.State, time.Time) { close(entered); <-release })
			<-entered
			var wg sync.WaitGroup
			var closeErr error
			var closeRes scheduler.Result
			wg.Go(func() {
				closeRes, closeErr = e.Do(ctx, scheduler.Close{ID: "flood", Zones: []string{"siq"}, Reason: "flood", Until: until})
			})
			const n = 20
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					c := book(90000+i, fmt.Sprintf("other%d", i))
					c.Request.Date, c.Request.Route = "2027-01-15", "monastery"
					res, err := e.Do(ctx, c)
					errs[i] = errors.Join(err, res.Err)
				})
			}
			if !pollUntil(10*time.Second, func() bool { return len(e.calls) == n+1 }) {
				t.Fatalf("%d calls queued, want %d", len(e.calls), n+1)
			}
			close(release)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("booking %d in the turn of the closure: %v", i, err)
				}
			}
			snap, err := st.Load()
			if err != nil {
				t.Fatal(err)
			}
			stored := 0
			for _, b := range snap.Bookings {
				if strings.HasPrefix(b.Operator, "other") {
					stored++
				}
			}
			if stored != n {
				t.Errorf("%d of the %d bookings stored", stored, n)
			}
			if tc.closureOK {
				if closeErr != nil || closeRes.Err != nil {
					t.Errorf("closure: %v %v", closeErr, closeRes.Err)
				}
				return
			}
			if !errors.Is(closeErr, ErrStore) || !strings.Contains(closeErr.Error(), "too big") {
				t.Errorf("closure too big on its own: got %v, want a store error saying too big", closeErr)
			}
			if len(snap.Closures) != 0 {
				t.Errorf("closure stored although its write failed: %+v", snap.Closures)
			}
		})
	}
}

// crashingStore stops taking writes after the first allow commits, as a
// power cut does (failingStore, in engine_test.go, fails while told to).
type crashingStore struct {
	store.Store
	allow  atomic.Int64
	failed atomic.Int64
}

func (s *crashingStore) Commit(effects []scheduler.Effect) error {
	if s.allow.Add(-1) < 0 {
		s.failed.Add(1)
		return errors.New("power cut")
	}
	return s.Store.Commit(effects)
}

// TestHalfAppliedClosureFinishedOnRecovery: the store stops taking writes
// (a crash) after the closure's intent and two steps; after a restart the
// closure is in force at once and finished, and no booking moved before the
// crash is moved again.
func TestHalfAppliedClosureFinishedOnRecovery(t *testing.T) {
	cfg := petra(t)
	dir := t.TempDir()
	st := openSmallStore(t, dir)
	_, last := seedBookings(t, cfg, st, 2500)
	fs := &crashingStore{Store: st}
	fs.allow.Store(3) // the intent, then two steps
	// A small planner budget: the re-plan's plans come quickly under -race.
	e, stop := runEngine(t, cfg, fs, Options{ReplanBudget: 4000})
	until := last.Add(12 * time.Hour)
	closed := make(chan error, 1)
	go func() {
		res, err := e.Do(context.Background(), scheduler.Close{ID: "flood", Zones: []string{"siq"}, Reason: "flood", Until: until})
		closed <- errors.Join(err, res.Err)
	}()
	if !pollUntil(10*time.Second, func() bool { return fs.failed.Load() > 0 }) {
		t.Fatal("the store never refused a step")
	}
	stop() // the crash
	if err := <-closed; err == nil {
		t.Fatal("the caller was told the closure was whole, but the store failed half way")
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = openSmallStore(t, dir)
	t.Cleanup(func() { st.Close() })
	before, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	cl := closureOf(t, before, "flood")
	if !cl.Applying {
		t.Fatal("the half-applied closure is not recorded as applying")
	}
	movedBefore := byClosure(before, "flood")
	left := stillHit(cfg, cl, before.Bookings)
	if len(movedBefore) == 0 || len(left) == 0 {
		t.Fatalf("not half applied: %d moved, %d left", len(movedBefore), len(left))
	}
	t.Logf("after the crash: %d bookings re-planned, %d still to do", len(movedBefore), len(left))

	e2, _ := runEngine(t, cfg, st, Options{ReplanBudget: 4000})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// The zone is closed for admissions at once, before the re-plan is whole.
	var routeOpen bool
	if err := e2.Read(ctx, func(s *scheduler.State, now time.Time) {
		for _, c := range s.Closures(now) {
			routeOpen = routeOpen || c.ID == "flood" && !c.Active(now)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if routeOpen {
		t.Error("the half-applied closure is not in force after the restart")
	}
	if !pollUntil(30*time.Second, func() bool {
		var n int
		e2.Read(ctx, func(s *scheduler.State, _ time.Time) { c, cu := s.Applying(); n = len(c) + len(cu) })
		return n == 0
	}) {
		t.Fatal("the half-applied closure was not finished after the restart")
	}
	after, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	if closureOf(t, after, "flood").Applying {
		t.Error("the stored closure is still applying")
	}
	if hit := stillHit(cfg, cl, after.Bookings); len(hit) > 0 {
		t.Errorf("%d stored bookings still meet the closure, e.g. %s", len(hit), hit[0])
	}
	movedAfter := byClosure(after, "flood")
	for id, b := range movedBefore {
		if a := movedAfter[id]; a != b {
			t.Errorf("booking %s moved again after the restart:\nbefore %+v\nafter  %+v", id, b, a)
		}
	}
	for _, id := range left {
		if _, ok := movedAfter[id]; !ok {
			t.Errorf("booking %s, left by the crash, was not re-planned", id)
		}
	}
}
