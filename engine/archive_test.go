package engine

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// runArchiveEngine starts an engine on st at now; stop ends its loop (also at
// cleanup).
func runArchiveEngine(t *testing.T, st store.Store, now time.Time) (e *Engine, stop func()) {
	t.Helper()
	e, err := New(Options{Config: petra(t), Store: st, Clock: NewManualClock(now)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return e, stop
}

var (
	bookedAt  = time.Date(2026, 11, 29, 10, 0, 0, 0, archiveZone())
	archiveAt = time.Date(2027, 1, 5, 10, 0, 0, 0, archiveZone()) // 1 December is 35 days back, 20 December 16
)

// sameBookings compares bookings as the API shows them: times as instants
// with their offset, whatever *time.Location holds them.
func sameBookings(a, b []scheduler.Booking) bool {
	utc := func(bs []scheduler.Booking) []scheduler.Booking {
		out := slices.Clone(bs)
		for i := range out {
			out[i].Slot, out[i].CreatedAt, out[i].UpdatedAt = out[i].Slot.UTC(), out[i].CreatedAt.UTC(), out[i].UpdatedAt.UTC()
		}
		return out
	}
	return len(a) == len(b) && reflect.DeepEqual(utc(a), utc(b))
}

func archiveZone() *time.Location { return time.FixedZone("+03", 3*3600) }

// bookOldAndLive books 30 groups on 1 December (of three operators) and 20
// on 20 December, at bookedAt.
func bookOldAndLive(t *testing.T, e *Engine) {
	t.Helper()
	for i := range 50 {
		c := book(i, fmt.Sprintf("op-%d", i%3))
		if i >= 30 {
			c.Request.Date = "2026-12-20"
		}
		if res, err := e.Do(context.Background(), c); err != nil || res.Err != nil {
			t.Fatalf("book %d: %v %v", i, err, res.Err)
		}
	}
}

func liveBookings(t *testing.T, e *Engine, operator, date string) (bs []scheduler.Booking, count int) {
	t.Helper()
	err := e.Read(context.Background(), func(s *scheduler.State, _ time.Time) {
		bs, count = s.Bookings(operator, date), s.BookingCount()
	})
	if err != nil {
		t.Fatal(err)
	}
	return bs, count
}

func TestStartAfterArchivingLoadsOnlyTheLiveHorizon(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	e, stop := runArchiveEngine(t, st, bookedAt)
	bookOldAndLive(t, e)
	before, _ := liveBookings(t, e, "", "2026-12-01")
	beforeOp, _ := liveBookings(t, e, "op-1", "2026-12-01")
	e.clock.(*ManualClock).Set(archiveAt)

	reg := prometheus.NewRegistry()
	a, err := NewArchiver(e, ArchiveOptions{AfterDays: 30, Batch: 7, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := a.Once(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Days, []string{"2026-12-01"}) || rep.Bookings != 30 {
		t.Fatalf("pass = %+v, want 1 December's 30 bookings", rep)
	}
	if _, n := liveBookings(t, e, "", ""); n != 20 {
		t.Errorf("%d bookings in the live state after archiving, want 20 December's 20", n)
	}
	// The old date is still answered, from the archive, as before.
	got, archived, err := e.ArchivedBookings("", "2026-12-01")
	if err != nil || !archived || !sameBookings(got, before) {
		t.Errorf("ArchivedBookings(all, 1 December) = %d bookings, %v, %v; want the %d listed before archiving, in the same order",
			len(got), archived, err, len(before))
	}
	got, _, _ = e.ArchivedBookings("op-1", "2026-12-01")
	if !sameBookings(got, beforeOp) || len(got) != 10 {
		t.Errorf("ArchivedBookings(op-1) = %d bookings, want op-1's %d only", len(got), len(beforeOp))
	}
	if b, ok, _ := e.ArchivedBooking("op-2", before[0].ID); ok && before[0].Operator != "op-2" {
		t.Errorf("op-2 sees %s of %s in the archive", b.ID, b.Operator)
	}
	if b, ok, err := e.ArchivedBooking(before[0].Operator, before[0].ID); !ok || err != nil || !sameBookings([]scheduler.Booking{b}, before[:1]) {
		t.Errorf("ArchivedBooking(%s) = %v, %v", before[0].ID, ok, err)
	}
	for name, want := range map[string]float64{"daysTotal": 1, "bookingsTotal": 30, "days": 1, "bookings": 30, "errors": 0} {
		c := map[string]prometheus.Collector{"daysTotal": a.m.daysTotal, "bookingsTotal": a.m.bookingsTotal,
			"days": a.m.days, "bookings": a.m.bookings, "errors": a.m.errors}[name]
		if got := testutil.ToFloat64(c); got != want {
			t.Errorf("metric %s = %v, want %v", name, got, want)
		}
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 7 {
		t.Errorf("%d archive metric families gathered (%v), want 7", n, err)
	}
	stop()

	// Start-up reads the live horizon only.
	snap, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Bookings) != 20 {
		t.Fatalf("Load after archiving returned %d bookings, want the 20 of the live horizon", len(snap.Bookings))
	}
	e2, _ := runArchiveEngine(t, st, archiveAt)
	if _, n := liveBookings(t, e2, "", ""); n != 20 {
		t.Errorf("the restarted state has %d bookings, want 20", n)
	}
	a2, err := NewArchiver(e2, ArchiveOptions{AfterDays: 30, Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(a2.m.bookings); got != 30 {
		t.Errorf("tafweej_archived_bookings after a restart = %v, want 30", got)
	}
	if rep, err := a2.Once(context.Background()); err != nil || len(rep.Days) != 0 {
		t.Errorf("a second pass = %+v, %v; want nothing to archive", rep, err)
	}
}

// noMove is a store whose archive moves fail: a crash right after the owner
// loop committed the day's record.
type noMove struct{ *store.Badger }

func (noMove) MoveToArchive(string, int) (int, error) { return 0, errInjected }

func TestArchiveInterruptedAfterTheDayLeftTheStateLosesNothing(t *testing.T) {
	st := openStore(t, t.TempDir()).(*store.Badger)
	e, stop := runArchiveEngine(t, noMove{st}, bookedAt)
	bookOldAndLive(t, e)
	before, _ := liveBookings(t, e, "", "2026-12-01")
	e.clock.(*ManualClock).Set(archiveAt)
	a, err := NewArchiver(e, ArchiveOptions{AfterDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Once(context.Background()); err == nil {
		t.Fatal("a pass whose move failed reported no error")
	}
	if got := testutil.ToFloat64(a.m.errors); got != 1 {
		t.Errorf("tafweej_archive_errors_total = %v, want 1", got)
	}
	// Nothing moved, yet the date is answered whole from where it is.
	got, archived, err := e.ArchivedBookings("", "2026-12-01")
	if err != nil || !archived || !sameBookings(got, before) {
		t.Errorf("ArchivedBookings before the move = %d, %v, %v; want the %d bookings", len(got), archived, err, len(before))
	}
	stop()

	// Restart: the day stays out of the state, and the next pass moves it.
	e2, _ := runArchiveEngine(t, st, archiveAt)
	if _, n := liveBookings(t, e2, "", ""); n != 20 {
		t.Errorf("the restarted state has %d bookings, want 20", n)
	}
	a2, err := NewArchiver(e2, ArchiveOptions{AfterDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := a2.Once(context.Background())
	if err != nil || rep.Resumed != 30 || len(rep.Days) != 0 {
		t.Fatalf("resumed pass = %+v, %v; want the 30 bookings moved and no new day", rep, err)
	}
	got, _, _ = e2.ArchivedBookings("", "2026-12-01")
	if !sameBookings(got, before) {
		t.Errorf("after the resumed move the archive has %d bookings, want the %d", len(got), len(before))
	}
}

// failCommit is a store whose commits fail while fail is set.
type failCommit struct {
	*store.Badger
	fail atomic.Bool
}

func (s *failCommit) Commit(effects []scheduler.Effect) error {
	if s.fail.Load() {
		return errInjected
	}
	return s.Badger.Commit(effects)
}

// Pipe fails the pipelined writes as Commit does (pipeline.go).
func (s *failCommit) Pipe() store.Pipe {
	return &failingPipe{Pipe: s.Badger.Pipe(), fail: s.fail.Load}
}

func TestArchiveDayWhoseCommitFailsKeepsTheDayLive(t *testing.T) {
	st := &failCommit{Badger: openStore(t, t.TempDir()).(*store.Badger)}
	e, _ := runArchiveEngine(t, st, bookedAt)
	bookOldAndLive(t, e)
	e.clock.(*ManualClock).Set(archiveAt)
	a, err := NewArchiver(e, ArchiveOptions{AfterDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	st.fail.Store(true)
	if _, err := a.Once(context.Background()); err == nil {
		t.Fatal("a pass whose commit failed reported no error")
	}
	if _, n := liveBookings(t, e, "", ""); n != 50 {
		t.Errorf("after a failed archive commit the state has %d bookings, want all 50", n)
	}
	if _, archived, _ := e.ArchivedBookings("", "2026-12-01"); archived {
		t.Error("1 December is archived though its record was not written")
	}
	st.fail.Store(false)
	if rep, err := a.Once(context.Background()); err != nil || rep.Bookings != 30 {
		t.Errorf("next pass = %+v, %v; want 1 December archived", rep, err)
	}
}

func TestNewArchiverRefusesAHorizonUnderTheMinimum(t *testing.T) {
	e, _ := runArchiveEngine(t, openStore(t, t.TempDir()), bookedAt)
	if _, err := NewArchiver(e, ArchiveOptions{AfterDays: 1}); err == nil {
		t.Error("NewArchiver accepted a horizon of 1 day")
	}
	if _, err := NewArchiver(e, ArchiveOptions{AfterDays: scheduler.MinArchiveDays}); err != nil {
		t.Error(err)
	}
}
