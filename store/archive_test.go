package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/tafweej/tafweej/scheduler"
)

// archiveFixture commits n bookings of 1 December (the day to archive) and
// n of 2 December, then the archive record of 1 December as the owner loop
// commits it (every booking pending). It returns the 1 December bookings.
func archiveFixture(t *testing.T, s Store, n int) []scheduler.Booking {
	t.Helper()
	var old []scheduler.Booking
	var effects []scheduler.Effect
	var ids []string
	for i := range n {
		b := booking(fmt.Sprintf("bk-old-%04d", i), 8, 15)
		b.Operator = fmt.Sprintf("op-%d", i%3)
		old = append(old, b)
		ids = append(ids, b.ID)
		live := booking(fmt.Sprintf("bk-live-%04d", i), 9, 0)
		live.Date, live.Slot = "2026-12-02", live.Slot.AddDate(0, 0, 1)
		effects = append(effects, scheduler.PutBooking{Booking: b}, scheduler.PutBooking{Booking: live})
	}
	if err := s.Commit(effects); err != nil {
		t.Fatal(err)
	}
	day := scheduler.ArchivedDay{Date: "2026-12-01", Bookings: n, Visitors: 12 * n, At: at(23, 0), Pending: ids}
	if err := s.Commit([]scheduler.Effect{scheduler.PutArchivedDay{Day: day}}); err != nil {
		t.Fatal(err)
	}
	return old
}

// rawCount counts the keys under prefix.
func rawCount(t *testing.T, s *Badger, prefix string) int {
	t.Helper()
	n := 0
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// inUTC puts bookings' times in UTC: stored times come back at their
// offset, in a zone of their own.
func inUTC(bs ...scheduler.Booking) []scheduler.Booking {
	out := make([]scheduler.Booking, len(bs))
	for i, b := range bs {
		b.Slot, b.CreatedAt, b.UpdatedAt = b.Slot.UTC(), b.CreatedAt.UTC(), b.UpdatedAt.UTC()
		out[i] = b
	}
	return out
}

// checkArchivedOnce checks the guarantee of a move, finished or not: Load
// returns none of the archived day's bookings, the archive returns each
// of them once, unchanged, and each is stored under one key only.
func checkArchivedOnce(t *testing.T, s *Badger, want []scheduler.Booking) {
	t.Helper()
	snap, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range snap.Bookings {
		if b.Date == "2026-12-01" {
			t.Fatalf("Load returned %s of the archived 1 December", b.ID)
		}
	}
	if len(snap.Bookings) != len(want) {
		t.Errorf("Load returned %d bookings, want the %d of 2 December", len(snap.Bookings), len(want))
	}
	got, ok, err := s.ArchivedBookings("2026-12-01")
	if err != nil || !ok {
		t.Fatalf("ArchivedBookings = %v, %v", ok, err)
	}
	if !reflect.DeepEqual(inUTC(got...), inUTC(want...)) {
		t.Fatalf("the archive has %d bookings of 1 December, want the %d archived, unchanged", len(got), len(want))
	}
	if live, moved := rawCount(t, s, prefixBooking), rawCount(t, s, prefixArchived); live-len(want)+moved != len(want) {
		t.Fatalf("%d live keys (%d of them of 2 December) and %d archived keys: 1 December's %d bookings are not each stored once",
			live, len(want), moved, len(want))
	}
}

func TestLoadAfterArchivingReadsOnlyTheLiveDays(t *testing.T) {
	s := openBadger(t, t.TempDir()).(*Badger)
	old := archiveFixture(t, s, 40)
	// The date left the live state when its record was committed: Load
	// leaves it out even before anything moved.
	checkArchivedOnce(t, s, old)
	n, err := s.MoveToArchive("2026-12-01", 7)
	if err != nil || n != len(old) {
		t.Fatalf("MoveToArchive = %d, %v; want %d moved", n, err, len(old))
	}
	checkArchivedOnce(t, s, old)
	if got := rawCount(t, s, prefixBooking); got != 40 {
		t.Errorf("%d live booking keys after the move, want only 2 December's 40", got)
	}
	if p, err := s.PendingArchives(); err != nil || len(p) != 0 {
		t.Errorf("PendingArchives = %v, %v; want none", p, err)
	}
	days, err := s.ArchivedDays()
	if err != nil || len(days) != 1 || days[0].Bookings != 40 || days[0].Pending != nil {
		t.Errorf("ArchivedDays = %+v, %v", days, err)
	}
	b, ok, err := s.ArchivedBooking(old[3].ID)
	if err != nil || !ok || !reflect.DeepEqual(inUTC(b), inUTC(old[3])) {
		t.Errorf("ArchivedBooking(%s) = %+v, %v, %v", old[3].ID, b, ok, err)
	}
	if _, ok, _ := s.ArchivedBooking("bk-live-0001"); ok {
		t.Error("ArchivedBooking found a live booking")
	}
	if _, ok, err := s.ArchivedBookings("2026-12-02"); ok || err != nil {
		t.Errorf("ArchivedBookings(live date) = %v, %v; want not archived", ok, err)
	}
	// A second move finds nothing to do.
	if n, err := s.MoveToArchive("2026-12-01", 7); n != 0 || err != nil {
		t.Errorf("second MoveToArchive = %d, %v", n, err)
	}
	if _, err := s.MoveToArchive("2026-11-01", 7); !errors.Is(err, ErrNotFound) {
		t.Errorf("MoveToArchive of a date never archived = %v, want ErrNotFound", err)
	}
}

func TestArchiveMoveStoppedBetweenBatchesLosesNothingAndDuplicatesNothing(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	old := archiveFixture(t, s, 25)
	stop := errors.New("stopped after two batches")
	archiveHook = func(batch int) error {
		if batch == 2 {
			return stop
		}
		return nil
	}
	n, err := s.MoveToArchive("2026-12-01", 5)
	archiveHook = nil
	if !errors.Is(err, stop) || n != 10 {
		t.Fatalf("MoveToArchive = %d, %v; want 10 moved and the hook's error", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openBadger(t, dir).(*Badger)
	checkArchivedOnce(t, s2, old)
	if got := rawCount(t, s2, prefixArchived); got != 10 {
		t.Fatalf("%d bookings archived before the stop, want 10", got)
	}
	if p, err := s2.PendingArchives(); err != nil || len(p) != 1 {
		t.Fatalf("PendingArchives = %v, %v; want 1 December", p, err)
	}
	if n, err := s2.MoveToArchive("2026-12-01", 5); err != nil || n != 15 {
		t.Fatalf("resumed MoveToArchive = %d, %v; want the other 15", n, err)
	}
	checkArchivedOnce(t, s2, old)
}

const (
	archiveCrashDirEnv = "TAFWEEJ_ARCHIVE_CRASH_DIR"
	archiveCrashAtEnv  = "TAFWEEJ_ARCHIVE_CRASH_AT"
)

// TestArchiveCrashHelper is the child of TestArchiveKilledMidMove: it moves
// 1 December in batches of 4, printing each batch's index before it, and
// stops before the batch the parent kills it at (so the kill lands between
// the same batches however loaded the machine is).
func TestArchiveCrashHelper(t *testing.T) {
	dir := os.Getenv(archiveCrashDirEnv)
	if dir == "" {
		t.Skip("run by TestArchiveKilledMidMove")
	}
	s, err := Open(dir, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	killAt, err := strconv.Atoi(os.Getenv(archiveCrashAtEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	archiveHook = func(batch int) error {
		fmt.Printf("batch %d\n", batch)
		if batch == killAt {
			time.Sleep(time.Minute) // killed here
		}
		return nil
	}
	if _, err := s.MoveToArchive("2026-12-01", 4); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Println("done")
	time.Sleep(time.Minute) // killed here at the latest
}

// TestArchiveKilledMidMove kills (SIGKILL) a process moving a day to the
// archive in the middle of the move, at a different batch in each round,
// and checks that after each restart every booking of the day is stored
// once, under the live key or the archive's, and that a resumed move
// finishes it.
func TestArchiveKilledMidMove(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, killAt := range []int{1, 9} {
		dir := filepath.Join(t.TempDir(), "badger")
		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		old := archiveFixture(t, s, 50) // 13 batches of 4
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestArchiveCrashHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), archiveCrashDirEnv+"="+dir, archiveCrashAtEnv+"="+strconv.Itoa(killAt))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		timeout := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() })
		sc := bufio.NewScanner(out)
		killed := false
		for sc.Scan() {
			if sc.Text() == fmt.Sprintf("batch %d", killAt) {
				cmd.Process.Kill() // no Close, no flush
				killed = true
			}
		}
		cmd.Wait()
		timeout.Stop()
		if !killed {
			t.Fatalf("the child never reached batch %d: %s", killAt, stderr.String())
		}
		s2 := openBadger(t, dir).(*Badger)
		checkArchivedOnce(t, s2, old)
		moved := rawCount(t, s2, prefixArchived)
		if moved != 4*killAt {
			t.Errorf("kill before batch %d: %d moved, want the %d of the batches before it", killAt, moved, 4*killAt)
		}
		n, err := s2.MoveToArchive("2026-12-01", 4)
		if err != nil || n != len(old)-moved {
			t.Fatalf("resumed move = %d, %v; want the %d left", n, err, len(old)-moved)
		}
		checkArchivedOnce(t, s2, old)
		if p, _ := s2.PendingArchives(); len(p) != 0 {
			t.Errorf("still pending after the resumed move: %v", p)
		}
		t.Logf("killed at batch %d: %d of %d moved before the kill", killAt, moved, len(old))
	}
}

func TestBackupRestoreKeepsTheArchive(t *testing.T) {
	s := openBadger(t, t.TempDir()).(*Badger)
	old := archiveFixture(t, s, 30)
	// Half moved: a backup taken mid-move restores the same archive.
	archiveHook = func(batch int) error {
		if batch == 3 {
			return errors.New("stop")
		}
		return nil
	}
	s.MoveToArchive("2026-12-01", 5)
	archiveHook = nil
	for _, phase := range []string{"mid-move", "moved"} {
		var buf bytes.Buffer
		if err := s.Backup(&buf); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "restored")
		if err := Restore(dir, &buf); err != nil {
			t.Fatal(err)
		}
		r := openBadger(t, dir).(*Badger)
		checkArchivedOnce(t, r, old)
		b, ok, err := r.ArchivedBooking(old[17].ID)
		if err != nil || !ok || !reflect.DeepEqual(inUTC(b), inUTC(old[17])) {
			t.Errorf("%s: ArchivedBooking(%s) after restore = %v, %v", phase, old[17].ID, ok, err)
		}
		if phase == "mid-move" {
			if n, err := r.MoveToArchive("2026-12-01", 5); err != nil || n != 15 {
				t.Errorf("move resumed on the restored copy = %d, %v; want 15", n, err)
			}
			checkArchivedOnce(t, r, old)
			if n, err := s.MoveToArchive("2026-12-01", 5); err != nil || n != 15 {
				t.Fatalf("finish the move = %d, %v", n, err)
			}
		}
	}
}

func TestRestoreRefusesACorruptArchive(t *testing.T) {
	s := openBadger(t, t.TempDir()).(*Badger)
	archiveFixture(t, s, 3)
	if _, err := s.MoveToArchive("2026-12-01", 5); err != nil {
		t.Fatal(err)
	}
	if err := s.putRaw(string(archivedKey("2026-12-01", "bk-old-0001")), []byte(`{"v":1,"r":{"id":7}}`)); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	err := Restore(filepath.Join(t.TempDir(), "restored"), &buf)
	if err == nil || !strings.Contains(err.Error(), "a/2026-12-01/bk-old-0001") {
		t.Fatalf("Restore of a backup with a corrupt archived booking = %v, want an error naming its key", err)
	}
}
