package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"pgregory.net/rapid"

	"github.com/tafweej/tafweej/scheduler"
)

// putRaw writes (or, with a nil val, deletes) a raw record, bypassing the
// envelope: for the schema tests of the conformance suite.
func (s *Badger) putRaw(key string, val []byte) error {
	return s.db.Update(func(txn *badger.Txn) error {
		if val == nil {
			return txn.Delete([]byte(key))
		}
		return txn.Set([]byte(key), val)
	})
}

func TestOpenLockedDir(t *testing.T) {
	dir := t.TempDir()
	openBadger(t, dir)
	s, err := Open(dir, Options{})
	if err == nil {
		s.Close()
		t.Fatal("second Open of the same directory = nil error; want the lock error")
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("Open error %q does not name the directory %q", err, dir)
	}
}

func TestOpenNoDir(t *testing.T) {
	if _, err := Open("", Options{}); err == nil {
		t.Error(`Open("") = nil error; want one`)
	}
}

// historyEntry is one stored history message.
type historyEntry struct {
	sensor    string
	at        time.Time
	raw       string
	expiresAt time.Time
}

func readHistory(t *testing.T, s *Badger) []historyEntry {
	t.Helper()
	var out []historyEntry
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixHistory)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			k := item.Key()[len(prefixHistory):]
			if len(k) < 17 || k[len(k)-17] != '/' {
				return fmt.Errorf("bad history key %q", item.Key())
			}
			raw, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			out = append(out, historyEntry{
				sensor:    string(k[:len(k)-17]),
				at:        time.Unix(0, int64(binary.BigEndian.Uint64(k[len(k)-16:]))),
				raw:       string(raw),
				expiresAt: time.Unix(int64(item.ExpiresAt()), 0),
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestHistory(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{HistoryTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	buf := []byte(`{"seq":1}`)
	appendH := func(sensor string, at time.Time, raw []byte) {
		t.Helper()
		if err := s.AppendHistory(sensor, at, raw); err != nil {
			t.Fatalf("AppendHistory: %v", err)
		}
	}
	appendH("siq-n1", at(10, 0), buf)
	copy(buf, `{"seq":9}`)                            // the store keeps its own copy
	appendH("siq-n1", at(10, 0), []byte(`{"seq":1}`)) // a redelivery: the same entry
	appendH("siq-n1", at(10, 0), []byte(`{"seq":2}`)) // same time, another message: kept
	appendH("siq-n1", at(9, 59), []byte(`{"seq":0}`))
	appendH("siq-n1/x", at(9, 0), []byte(`{}`)) // a sensor name with '/'

	// Written within about a second, without Close.
	var got []historyEntry
	checkFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		if got = readHistory(t, s); len(got) != 4 {
			return fmt.Errorf("%d history entries, want 4", len(got))
		}
		return nil
	})
	var raws []string
	for _, e := range got {
		raws = append(raws, e.sensor+" "+e.at.In(amman).Format("15:04")+" "+e.raw)
		if d := time.Until(e.expiresAt); d < 58*time.Minute || d > 61*time.Minute {
			t.Errorf("entry %q expires in %v; want about the TTL of 1h", e.raw, d)
		}
	}
	want := []string{
		`siq-n1 09:59 {"seq":0}`,
		// Same time: ordered by hash.
		`siq-n1 10:00 {"seq":2}`,
		`siq-n1 10:00 {"seq":1}`,
		`siq-n1/x 09:00 {}`,
	}
	slices.Sort(raws[1:3])
	slices.Sort(want[1:3])
	if !slices.Equal(raws, want) {
		t.Errorf("history = %q; want %q", raws, want)
	}

	// Close writes what is queued.
	appendH("siq-n2", at(11, 0), []byte(`{"seq":5}`))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(readHistory(t, s)); n != 5 {
		t.Errorf("after Close and Open: %d history entries, want 5", n)
	}
}

// checkFor polls f until it returns nil, failing the test after total.
func checkFor(t *testing.T, total, sleep time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", total, err)
		}
		time.Sleep(sleep)
	}
}

// captureHandler records log records.
type captureHandler struct {
	mu   sync.Mutex // guards recs
	recs []slog.Record
}

func (h *captureHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r)
	return nil
}
func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *captureHandler) WithGroup(string) slog.Handler      { return h }

func TestLogAdapter(t *testing.T) {
	h := &captureHandler{}
	a := slogAdapter{slog.New(h)}
	a.Infof("replaying file %d\n", 3)
	a.Debugf("%d entries written\n", 9)
	a.Warningf("value log %s is big\n", "000001.vlog")
	a.Errorf("compaction failed: %v\n", errors.New("disk full"))
	var got []string
	for _, r := range h.recs {
		got = append(got, r.Level.String()+" "+r.Message)
	}
	want := []string{"WARN value log 000001.vlog is big", "ERROR compaction failed: disk full"}
	if !slices.Equal(got, want) {
		t.Errorf("logged %q; want %q", got, want)
	}

	// Opening and using a database logs nothing at info level.
	h = &captureHandler{}
	s, err := Open(t.TempDir(), Options{Logger: slog.New(h)})
	if err != nil {
		t.Fatal(err)
	}
	commit(t, s, scheduler.PutBooking{Booking: booking("bk-1", 8, 0)})
	s.Close()
	for _, r := range h.recs {
		t.Errorf("logged %s %q", r.Level, r.Message)
	}
}

// TestCommitModel checks Commit and Load against a map: random batches of
// puts and deletes, some of them invalid (then nothing changes).
func TestCommitModel(t *testing.T) {
	s, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	run := 0
	rapid.Check(t, func(rt *rapid.T) {
		// Each run uses ids of its own in the shared store.
		run++
		pre := fmt.Sprintf("r%04d-", run)
		bookings := map[string]scheduler.Booking{}
		scans := map[string]scheduler.ScanRecord{}
		id := rapid.SampledFrom([]string{"a", "b", "c", "d"})
		for range rapid.IntRange(1, 12).Draw(rt, "batches") {
			var effects []scheduler.Effect
			nb, ns := maps.Clone(bookings), maps.Clone(scans)
			for range rapid.IntRange(0, 6).Draw(rt, "effects") {
				i := pre + id.Draw(rt, "id")
				switch rapid.IntRange(0, 3).Draw(rt, "kind") {
				case 0, 1:
					b := booking(i, 8, 0)
					b.Version = rapid.IntRange(1, 9).Draw(rt, "version")
					effects = append(effects, scheduler.PutBooking{Booking: b})
					nb[i] = b
				case 2:
					sc := scan(i, "")
					sc.Result.Admitted = rapid.IntRange(0, 9).Draw(rt, "admitted")
					effects = append(effects, scheduler.PutScan{Record: sc})
					ns[i] = sc
				case 3:
					effects = append(effects, scheduler.DeleteScan{ScanID: i})
					delete(ns, i)
				}
			}
			bad := rapid.IntRange(0, 4).Draw(rt, "bad") == 0
			if bad {
				effects = append(effects, scheduler.PutBooking{})
			}
			err := s.Commit(effects)
			if bad != (err != nil) {
				rt.Fatalf("Commit (invalid: %v) = %v", bad, err)
			}
			if !bad {
				bookings, scans = nb, ns
			}
			snap, err := s.Load()
			if err != nil {
				rt.Fatal(err)
			}
			check(rt, "bookings", mine(snap.Bookings, pre, func(b scheduler.Booking) string { return b.ID }), sorted(bookings))
			check(rt, "scans", mine(snap.Scans, pre, func(s scheduler.ScanRecord) string { return s.ScanID }), sorted(scans))
		}
		// Leave the store empty for the next run.
		for id := range bookings {
			if err := s.putRaw(prefixBooking+id, nil); err != nil {
				rt.Fatal(err)
			}
		}
		for id := range scans {
			if err := s.putRaw(prefixScan+id, nil); err != nil {
				rt.Fatal(err)
			}
		}
	})
}

func mine[T any](all []T, prefix string, id func(T) string) []T {
	var out []T
	for _, r := range all {
		if strings.HasPrefix(id(r), prefix) {
			out = append(out, r)
		}
	}
	return out
}

func sorted[T any](m map[string]T) []T {
	var out []T
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}

func check(rt *rapid.T, what string, got, want any) {
	if !sameJSON(got, want) {
		rt.Fatalf("%s = %+v\nwant %+v", what, got, want)
	}
}

func TestCommitTooBig(t *testing.T) {
	s := openBadger(t, t.TempDir())
	var effects []scheduler.Effect
	for i := range 20000 {
		b := booking(fmt.Sprintf("bk-%05d", i), 8, 0)
		b.Reference = strings.Repeat("r", 1200)
		effects = append(effects, scheduler.PutBooking{Booking: b})
	}
	err := s.Commit(effects)
	if !errors.Is(err, ErrTooBig) || !strings.Contains(err.Error(), "20000 records") {
		t.Fatalf("Commit(20000 large bookings) = %v; want ErrTooBig naming the 20000 records", err)
	}
	t.Log(err)
}
