package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Amman on any machine

	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/scheduler"
)

var amman = testenv.Amman

// at is a fixed time on the test day, in the site's zone.
func at(hour, min int) time.Time { return time.Date(2026, 12, 1, hour, min, 0, 0, amman) }

// impl is an implementation under the conformance suite.
type impl struct {
	// open opens the store kept in dir (creating it if needed) and closes
	// it with t.Cleanup. Reopening the same dir after Close must give the
	// same data back if persistent.
	open       func(t *testing.T, dir string) Store
	persistent bool
}

func openBadger(t *testing.T, dir string) Store {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func openBadgerInMemory(t *testing.T, _ string) Store {
	t.Helper()
	s, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestBadger(t *testing.T) {
	testStore(t, impl{open: openBadger, persistent: true})
}

func TestBadgerInMemory(t *testing.T) {
	testStore(t, impl{open: openBadgerInMemory})
}

// rawPutter is implemented by stores whose tests can write a raw record (or
// delete it, with a nil val), to check schema versioning.
type rawPutter interface {
	putRaw(key string, val []byte) error
}

// testStore is the conformance suite every Store must pass.
func testStore(t *testing.T, im impl) {
	open := func(t *testing.T) (Store, string) {
		t.Helper()
		dir := filepath.Join(t.TempDir(), "db")
		return im.open(t, dir), dir
	}
	persistent := func(t *testing.T) {
		t.Helper()
		if !im.persistent {
			t.Skip("not a persistent store")
		}
	}

	t.Run("Empty", func(t *testing.T) {
		s, _ := open(t)
		checkSnapshot(t, s, scheduler.Snapshot{})
		keys, err := s.ListKeys()
		if err != nil || len(keys) != 0 {
			t.Errorf("ListKeys() = %v, %v; want none", keys, err)
		}
	})

	t.Run("RoundTrip", func(t *testing.T) {
		s, _ := open(t)
		effects, want := sample()
		commit(t, s, effects...)
		checkSnapshot(t, s, want)
	})

	t.Run("PointerEffects", func(t *testing.T) {
		s, _ := open(t)
		b := booking("bk-ptr", 8, 15)
		commit(t, s, &scheduler.PutBooking{Booking: b}, &scheduler.Event{Kind: scheduler.EventBookingConfirmed})
		checkSnapshot(t, s, scheduler.Snapshot{Bookings: []scheduler.Booking{b}})
	})

	t.Run("EventsOnly", func(t *testing.T) {
		s, _ := open(t)
		commit(t, s)
		commit(t, s, scheduler.Event{Kind: scheduler.EventWaveReleased, At: at(8, 0)})
		checkSnapshot(t, s, scheduler.Snapshot{})
	})

	t.Run("Replace", func(t *testing.T) {
		s, _ := open(t)
		b := booking("bk-1", 8, 0)
		commit(t, s, scheduler.PutBooking{Booking: b})
		b.PartySize, b.Version, b.Status = 9, 2, scheduler.StatusRescheduled
		commit(t, s, scheduler.PutBooking{Booking: b})
		z := scheduler.ZoneState{Zone: "siq", Offset: 4}
		commit(t, s, scheduler.PutZone{State: z})
		z.Held, z.HeldSince = true, at(10, 3)
		commit(t, s, scheduler.PutZone{State: z})
		checkSnapshot(t, s, scheduler.Snapshot{Bookings: []scheduler.Booking{b}, Zones: []scheduler.ZoneState{z}})
	})

	t.Run("LaterEffectWins", func(t *testing.T) {
		s, _ := open(t)
		b1, b2 := booking("bk-1", 8, 0), booking("bk-1", 9, 0)
		sc := scan("dev1-1", "bk-1")
		commit(t, s,
			scheduler.PutBooking{Booking: b1}, scheduler.PutBooking{Booking: b2},
			scheduler.PutScan{Record: sc}, scheduler.DeleteScan{ScanID: sc.ScanID}, // put, delete: gone
			scheduler.DeleteScan{ScanID: "dev1-2"}, scheduler.PutScan{Record: scan("dev1-2", "bk-1")}, // delete, put: there
		)
		checkSnapshot(t, s, scheduler.Snapshot{
			Bookings: []scheduler.Booking{b2},
			Scans:    []scheduler.ScanRecord{scan("dev1-2", "bk-1")},
		})
	})

	t.Run("Delete", func(t *testing.T) {
		s, _ := open(t)
		effects, want := sample()
		commit(t, s, effects...)
		var dels []scheduler.Effect
		for _, r := range want.Idempotency {
			dels = append(dels, scheduler.DeleteIdempotency{Operator: r.Operator, Key: r.Key})
		}
		for _, r := range want.Scans {
			dels = append(dels, scheduler.DeleteScan{ScanID: r.ScanID})
		}
		// Deleting what is not there is not an error.
		dels = append(dels, scheduler.DeleteScan{ScanID: "never-seen"},
			scheduler.DeleteIdempotency{Operator: "op-x", Key: "never-seen"})
		commit(t, s, dels...)
		want.Idempotency, want.Scans = nil, nil
		checkSnapshot(t, s, want)
	})

	t.Run("IdempotencyKeysDoNotCollide", func(t *testing.T) {
		// "a/b" + "c" and "a" + "b/c" are different (operator, key) pairs.
		s, _ := open(t)
		r1 := idem("a/b", "c", booking("bk-1", 8, 0))
		r2 := idem("a", "b/c", booking("bk-2", 8, 0))
		commit(t, s, scheduler.PutIdempotency{Record: r1}, scheduler.PutIdempotency{Record: r2})
		checkSnapshot(t, s, scheduler.Snapshot{Idempotency: []scheduler.Idempotency{r2, r1}})
		commit(t, s, scheduler.DeleteIdempotency{Operator: "a", Key: "b/c"})
		checkSnapshot(t, s, scheduler.Snapshot{Idempotency: []scheduler.Idempotency{r1}})
	})

	t.Run("InvalidBatchWritesNothing", func(t *testing.T) {
		s, _ := open(t)
		for _, tc := range []struct {
			name string
			bad  scheduler.Effect
			msg  string
		}{
			{"BookingWithoutID", scheduler.PutBooking{Booking: scheduler.Booking{Operator: "op-1"}}, "booking id is empty"},
			{"ScanWithoutID", scheduler.PutScan{}, "scan id is empty"},
			{"DeleteScanWithoutID", scheduler.DeleteScan{}, "scan id is empty"},
			{"SensorWithoutName", scheduler.PutSensor{}, "sensor is empty"},
			{"ZoneWithoutName", scheduler.PutZone{}, "zone is empty"},
			{"ClosureWithoutID", scheduler.PutClosure{}, "closure id is empty"},
			{"RequestWithoutID", scheduler.PutRequest{}, "request id is empty"},
			{"CutWithoutID", scheduler.PutCut{}, "capacity cut id is empty"},
			{"MeterWithoutBooking", scheduler.PutMeter{}, "held group's booking id is empty"},
			{"DeleteMeterWithoutBooking", scheduler.DeleteMeter{}, "held group's booking id is empty"},
			{"IdempotencyWithoutOperator", scheduler.PutIdempotency{Record: scheduler.Idempotency{Key: "k"}}, "operator is empty"},
			{"IdempotencyWithoutKey", scheduler.DeleteIdempotency{Operator: "op-1"}, "idempotency key is empty"},
			{"NilEffect", nil, "nil effect"},
			{"NilPointer", (*scheduler.PutBooking)(nil), "nil effect"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := s.Commit([]scheduler.Effect{
					scheduler.PutBooking{Booking: booking("bk-ok", 8, 0)},
					scheduler.PutZone{State: scheduler.ZoneState{Zone: "siq"}},
					tc.bad,
				})
				if err == nil || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "effect 2") {
					t.Fatalf("Commit() = %v; want an error naming effect 2 and saying %q", err, tc.msg)
				}
				checkSnapshot(t, s, scheduler.Snapshot{})
			})
		}
	})

	t.Run("TooBigBatchIsAllOrNothing", func(t *testing.T) {
		// Over Badger's transaction limit (15% of a 64 MiB memtable): 20k
		// bookings of about 1.5 KB. Another store may accept it whole.
		s, _ := open(t)
		var effects []scheduler.Effect
		var all []scheduler.Booking
		for i := range 20000 {
			b := booking(fmt.Sprintf("bk-%05d", i), 8, 0)
			b.Reference = strings.Repeat("r", 1200)
			effects = append(effects, scheduler.PutBooking{Booking: b})
			all = append(all, b)
		}
		err := s.Commit(effects)
		switch {
		case err == nil:
			checkSnapshot(t, s, scheduler.Snapshot{Bookings: all})
		case errors.Is(err, ErrTooBig):
			checkSnapshot(t, s, scheduler.Snapshot{})
			// Smaller batches go through.
			commit(t, s, effects[:100]...)
			checkSnapshot(t, s, scheduler.Snapshot{Bookings: all[:100]})
		default:
			t.Fatalf("Commit(20000 bookings) = %v; want nil or ErrTooBig", err)
		}
	})

	t.Run("Keys", func(t *testing.T) {
		s, _ := open(t)
		if _, err := s.LookupKey("00ff"); !errors.Is(err, ErrNotFound) {
			t.Errorf("LookupKey(missing) = %v; want ErrNotFound", err)
		}
		if _, err := s.LookupKey(""); !errors.Is(err, ErrNotFound) {
			t.Errorf("LookupKey(\"\") = %v; want ErrNotFound", err)
		}
		if err := s.PutKey(APIKey{Role: "ops"}); err == nil {
			t.Errorf("PutKey(no hash) = nil; want an error")
		}
		k1 := apiKey("bb", "operator", "op-1")
		k2 := apiKey("aa", "gate", "")
		k2.Gates = []string{"visitor-centre"}
		for _, k := range []APIKey{k1, k2} {
			if err := s.PutKey(k); err != nil {
				t.Fatalf("PutKey: %v", err)
			}
		}
		got, err := s.LookupKey("bb")
		if err != nil || !sameJSON(got, k1) {
			t.Errorf("LookupKey(bb) = %+v, %v; want %+v", got, err, k1)
		}
		k1.Name = "renamed"
		if err := s.PutKey(k1); err != nil {
			t.Fatalf("PutKey: %v", err)
		}
		keys, err := s.ListKeys()
		if err != nil || !sameJSON(keys, []APIKey{k2, k1}) {
			t.Errorf("ListKeys() = %+v, %v; want %+v", keys, err, []APIKey{k2, k1})
		}
		if err := s.DeleteKey("aa"); err != nil {
			t.Fatalf("DeleteKey(aa) = %v", err)
		}
		if _, err := s.LookupKey("aa"); !errors.Is(err, ErrNotFound) {
			t.Errorf("LookupKey(deleted) = %v; want ErrNotFound", err)
		}
		if err := s.DeleteKey("aa"); !errors.Is(err, ErrNotFound) {
			t.Errorf("DeleteKey(deleted) = %v; want ErrNotFound", err)
		}
		if keys, _ := s.ListKeys(); !sameJSON(keys, []APIKey{k1}) {
			t.Errorf("ListKeys() after DeleteKey = %+v", keys)
		}
		// Keys are not part of the scheduler's snapshot.
		checkSnapshot(t, s, scheduler.Snapshot{})
	})

	t.Run("History", func(t *testing.T) {
		s, _ := open(t)
		for i := range 100 {
			raw := fmt.Appendf(nil, `{"sensor":"siq-n1","seq":%d}`, i)
			if err := s.AppendHistory("siq-n1", at(10, 0).Add(time.Duration(i)*time.Second), raw); err != nil {
				t.Fatalf("AppendHistory: %v", err)
			}
		}
		if err := s.AppendHistory("", at(10, 0), []byte("{}")); err == nil {
			t.Errorf("AppendHistory(no sensor) = nil; want an error")
		}
		checkSnapshot(t, s, scheduler.Snapshot{})
	})

	t.Run("Concurrent", func(t *testing.T) {
		s, _ := open(t)
		var wg sync.WaitGroup
		var want []scheduler.Booking
		for g := range 4 {
			var mine []scheduler.Effect
			for i := range 25 {
				b := booking(fmt.Sprintf("bk-%d-%02d", g, i), 8, 0)
				mine = append(mine, scheduler.PutBooking{Booking: b})
				want = append(want, b)
			}
			wg.Go(func() {
				for i, e := range mine {
					if err := s.Commit([]scheduler.Effect{e}); err != nil {
						t.Errorf("Commit: %v", err)
					}
					if i%5 != 0 {
						continue
					}
					if _, err := s.Load(); err != nil {
						t.Errorf("Load: %v", err)
					}
					s.AppendHistory("siq-n1", at(10, 0), []byte("{}"))
				}
			})
		}
		wg.Wait()
		checkSnapshot(t, s, scheduler.Snapshot{Bookings: want})
	})

	t.Run("Closed", func(t *testing.T) {
		s, _ := open(t)
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close() = %v; want nil", err)
		}
		errs := map[string]error{
			"Commit":        s.Commit([]scheduler.Effect{scheduler.PutBooking{Booking: booking("bk-1", 8, 0)}}),
			"PutKey":        s.PutKey(apiKey("aa", "ops", "")),
			"AppendHistory": s.AppendHistory("siq-n1", at(10, 0), []byte("{}")),
			"Backup":        s.Backup(&bytes.Buffer{}),
		}
		_, errs["Load"] = s.Load()
		_, errs["LookupKey"] = s.LookupKey("aa")
		_, errs["ListKeys"] = s.ListKeys()
		errs["DeleteKey"] = s.DeleteKey("aa")
		for name, err := range errs {
			if !errors.Is(err, ErrClosed) {
				t.Errorf("%s after Close = %v; want ErrClosed", name, err)
			}
		}
	})

	t.Run("Reopen", func(t *testing.T) {
		persistent(t)
		s, dir := open(t)
		effects, want := sample()
		commit(t, s, effects...)
		k := apiKey("aa", "ops", "")
		if err := s.PutKey(k); err != nil {
			t.Fatalf("PutKey: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		s = im.open(t, dir)
		checkSnapshot(t, s, want)
		if got, err := s.LookupKey("aa"); err != nil || !sameJSON(got, k) {
			t.Errorf("LookupKey after reopen = %+v, %v; want %+v", got, err, k)
		}
	})

	t.Run("UnknownSchemaVersion", func(t *testing.T) {
		s, _ := open(t)
		raw, ok := s.(rawPutter)
		if !ok {
			t.Skip("store cannot write raw records")
		}
		commit(t, s, scheduler.PutBooking{Booking: booking("bk-1", 8, 0)})
		for _, tc := range []struct{ key, val string }{
			{"b/bk-2", `{"v":2,"r":{"id":"bk-2"}}`},
			{"b/bk-2", `{"v":2,"r":{"id":["a new shape"]}}`}, // would not decode as v1 either
			{"z/siq", `{"r":{"zone":"siq"}}`},                // no version
		} {
			if err := raw.putRaw(tc.key, []byte(tc.val)); err != nil {
				t.Fatalf("putRaw: %v", err)
			}
			_, err := s.Load()
			var se *SchemaError
			if !errors.Is(err, ErrSchema) || !errors.As(err, &se) || se.Key != tc.key || !strings.Contains(err.Error(), tc.key) {
				t.Errorf("Load() with %s = %v; want ErrSchema naming %q", tc.val, err, tc.key)
			}
			if err := raw.putRaw(tc.key, nil); err != nil {
				t.Fatalf("putRaw: %v", err)
			}
		}
		// A corrupt v1 record is an error, but not ErrSchema.
		if err := raw.putRaw("c/siq-n1", []byte(`{"v":1,"r":{"seq":"x"}}`)); err != nil {
			t.Fatalf("putRaw: %v", err)
		}
		if _, err := s.Load(); err == nil || errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "c/siq-n1") {
			t.Errorf("Load() with a corrupt record = %v; want a decode error naming %q", err, "c/siq-n1")
		}
	})

	t.Run("UnknownDatabaseSchema", func(t *testing.T) {
		persistent(t)
		s, dir := open(t)
		raw, ok := s.(rawPutter)
		if !ok {
			t.Skip("store cannot write raw records")
		}
		if err := raw.putRaw(keySchema, []byte(`{"v":2,"r":{"app":"tafweej"}}`)); err != nil {
			t.Fatalf("putRaw: %v", err)
		}
		s.Close()
		if s, err := Open(dir, Options{}); !errors.Is(err, ErrSchema) {
			if err == nil {
				s.Close()
			}
			t.Errorf("Open(newer database) = %v; want ErrSchema", err)
		}
	})

	t.Run("BackupRestore", func(t *testing.T) {
		s, _ := open(t)
		effects, want := sample()
		commit(t, s, effects...)
		k := apiKey("aa", "ops", "")
		if err := s.PutKey(k); err != nil {
			t.Fatalf("PutKey: %v", err)
		}
		if err := s.AppendHistory("siq-n1", at(10, 0), []byte(`{"seq":1}`)); err != nil {
			t.Fatalf("AppendHistory: %v", err)
		}
		var backup bytes.Buffer
		if err := s.Backup(&backup); err != nil {
			t.Fatalf("Backup: %v", err)
		}
		// Later writes are not in the backup.
		commit(t, s, scheduler.PutBooking{Booking: booking("bk-later", 8, 0)})

		parent := t.TempDir()
		for _, name := range []string{"new", "empty"} {
			t.Run(name, func(t *testing.T) {
				dir := filepath.Join(parent, name, "db")
				if name == "empty" {
					if err := os.MkdirAll(dir, 0o750); err != nil {
						t.Fatal(err)
					}
				}
				if err := Restore(dir, bytes.NewReader(backup.Bytes())); err != nil {
					t.Fatalf("Restore: %v", err)
				}
				r := openBadger(t, dir)
				checkSnapshot(t, r, want)
				if got, err := r.LookupKey("aa"); err != nil || !sameJSON(got, k) {
					t.Errorf("LookupKey after restore = %+v, %v; want %+v", got, err, k)
				}
				checkNoLeftovers(t, filepath.Dir(dir), "db")
			})
		}

		t.Run("NotEmpty", func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "MANIFEST"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			err := Restore(dir, bytes.NewReader(backup.Bytes()))
			if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "move it away") {
				t.Errorf("Restore(non-empty dir) = %v; want an error naming %q and saying to move it away", err, dir)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "MANIFEST")); string(b) != "x" {
				t.Errorf("Restore changed the existing directory")
			}
		})

		for _, tc := range []struct{ name, data string }{
			{"EmptyBackup", ""},
			{"Garbage", "this is not a backup at all, just text"},
			{"Truncated", backup.String()[:backup.Len()-7]}, // inside the last record
		} {
			t.Run(tc.name, func(t *testing.T) {
				parent := t.TempDir()
				dir := filepath.Join(parent, "db")
				if err := Restore(dir, strings.NewReader(tc.data)); err == nil {
					t.Fatalf("Restore(%s) = nil; want an error", tc.name)
				}
				checkNoLeftovers(t, parent)
			})
		}
	})
}

// checkNoLeftovers checks that dir holds only the named entries: a restore
// leaves no temporary directory behind.
func checkNoLeftovers(t *testing.T, dir string, want ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s holds %q; want %q", dir, got, want)
	}
}

func commit(t *testing.T, s Store, effects ...scheduler.Effect) {
	t.Helper()
	if err := s.Commit(effects); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// checkSnapshot compares Load() with want through JSON: times are equal
// instants in the same offset, whatever their *time.Location.
func checkSnapshot(t *testing.T, s Store, want scheduler.Snapshot) {
	t.Helper()
	got, err := s.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	g, w := mustJSON(t, got), mustJSON(t, want)
	if g != w {
		t.Fatalf("Load() =\n%s\nwant\n%s", g, w)
	}
}

func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func booking(id string, hour, min int) scheduler.Booking {
	return scheduler.Booking{
		ID: id, Operator: "op-1", Date: "2026-12-01", Route: "main", PartySize: 12,
		Window: scheduler.Window{From: 8 * 60, To: 10 * 60}, Language: "ar", Guide: "g-7",
		Reference: "ref-" + id, Slot: at(hour, min), Gate: "visitor-centre",
		Status: scheduler.StatusConfirmed, CreatedAt: at(6, 1), UpdatedAt: at(6, 2), Version: 1,
	}
}

func scan(id, bk string) scheduler.ScanRecord {
	slot := at(8, 15)
	return scheduler.ScanRecord{
		ScanID: id, Gate: "visitor-centre", Device: "dev1", Booking: bk, At: at(8, 14),
		Result: scheduler.ScanResult{
			Decision: scheduler.DecisionAdmit, Reason: scheduler.ReasonOK, Admitted: 12,
			Booking: bk, Slot: &slot, Gate: "visitor-centre",
			Message:  scheduler.Text{EN: "Welcome — wave 08:15", AR: "أهلاً وسهلاً — فوج ٠٨:١٥"},
			Operator: "op-1", Language: "ar", PartySize: 12,
		},
	}
}

func idem(op, key string, b scheduler.Booking) scheduler.Idempotency {
	return scheduler.Idempotency{Operator: op, Key: key, RequestHash: "h-" + key, Booking: b, CreatedAt: at(6, 1)}
}

func apiKey(hash, role, op string) APIKey {
	return APIKey{Hash: hash, Prefix: "tfw_" + hash, Role: role, Operator: op, Name: "key " + hash,
		CreatedAt: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
}

// sample returns effects holding every record type (and events, which are
// not stored), and the snapshot they make.
func sample() ([]scheduler.Effect, scheduler.Snapshot) {
	b1, b2, b3 := booking("bk-b", 8, 15), booking("bk-a", 8, 30), booking("bk-c", 9, 0)
	b2.Status, b2.Reason, b2.Version = scheduler.StatusRescheduled, "closure: flood", 3
	b3.Status, b3.Admitted, b3.Operator = scheduler.StatusCompleted, 12, scheduler.WalkInOperator
	retry := at(9, 0)
	s2 := scan("dev2-9", "bk-c")
	s2.Result.Decision, s2.Result.Reason, s2.Result.RetryAt, s2.Result.Slot = scheduler.DecisionReject, scheduler.ReasonRebooked, &retry, nil
	sens := scheduler.SensorState{Sensor: "siq-n1", Zone: "siq", Boot: "b41c", Seq: 1<<63 + 7,
		In: 18342, Out: 17790, BaseIn: 5, BaseOut: 4, At: at(10, 2)}
	z1 := scheduler.ZoneState{Zone: "treasury", Offset: -3, Held: true, HeldSince: at(10, 5), ManualHold: true}
	z2 := scheduler.ZoneState{Zone: "siq"}
	c1 := scheduler.Closure{ID: "cl-2", Zones: []string{"siq", "bab-al-siq"}, Reason: "flood",
		Source: "alert:flood_warning", From: at(11, 0), Lifted: at(13, 0)}
	c2 := scheduler.Closure{ID: "cl-1", Reason: "storm", Source: "ops", From: at(7, 0), Until: at(8, 0)}
	i1, i2 := idem("op-2", "k-1", b1), idem("op-1", "k-9", b2)
	q1 := scheduler.Request{ID: "rq-2", Operator: "op-1", Date: "2026-12-01", Route: "main-trail", PartySize: 30,
		Window: scheduler.Window{From: 480, To: 600}, Preferred: 510, Status: scheduler.RequestAllotted, Booking: "bk-a",
		CreatedAt: at(6, 0), UpdatedAt: at(6, 3), Version: 2}
	q2 := scheduler.Request{ID: "rq-1", Operator: "op-2", Date: "2026-12-01", Route: "main-trail", PartySize: 8,
		Window: scheduler.Window{From: 480, To: 600}, Status: scheduler.RequestPending, Booking: "bk-z",
		CreatedAt: at(6, 0), UpdatedAt: at(6, 0), Version: 1}
	cut1 := scheduler.CapacityCut{ID: "cut-1", Zone: "siq", Capacity: 600, Reason: "rain", Source: "ops",
		From: at(9, 0), Until: at(12, 0), Lifted: at(11, 0)}
	i3 := scheduler.Idempotency{Operator: "op-2", Key: "k-2", RequestHash: "h-k-2", Request: &q2, CreatedAt: at(6, 0)}
	m1 := scheduler.MeteredGroup{Booking: "bk-b", Operator: "op-1", Gate: "visitor-centre", Slot: at(8, 0), Visitors: 12,
		Zone: "treasury", ZoneAt: at(9, 10), Forecast: 170, HoldAt: 180, RetryAt: at(8, 40), Since: at(8, 20)}
	m2 := m1
	m2.Booking = "bk-z"

	effects := []scheduler.Effect{
		scheduler.PutBooking{Booking: b1}, scheduler.PutBooking{Booking: b2}, scheduler.PutBooking{Booking: b3},
		scheduler.Event{Kind: scheduler.EventBookingConfirmed, At: at(6, 1), Data: b1},
		scheduler.PutIdempotency{Record: i1}, scheduler.PutIdempotency{Record: i2}, scheduler.PutIdempotency{Record: i3},
		scheduler.PutRequest{Request: q1}, &scheduler.PutRequest{Request: q2},
		scheduler.PutCut{Cut: cut1},
		scheduler.PutMeter{Group: m1}, &scheduler.PutMeter{Group: m2}, scheduler.DeleteMeter{Booking: "bk-z"},
		scheduler.PutScan{Record: scan("dev1-1", "bk-b")}, scheduler.PutScan{Record: s2},
		scheduler.PutSensor{State: sens},
		scheduler.PutZone{State: z1}, scheduler.PutZone{State: z2},
		scheduler.PutClosure{Closure: c1}, scheduler.PutClosure{Closure: c2},
		scheduler.Event{Kind: scheduler.EventZoneClosed, At: at(11, 0)},
	}
	return effects, scheduler.Snapshot{
		Bookings:    []scheduler.Booking{b2, b1, b3},
		Idempotency: []scheduler.Idempotency{i2, i1, i3},
		Scans:       []scheduler.ScanRecord{scan("dev1-1", "bk-b"), s2},
		Sensors:     []scheduler.SensorState{sens},
		Zones:       []scheduler.ZoneState{z2, z1},
		Closures:    []scheduler.Closure{c2, c1},
		Requests:    []scheduler.Request{q2, q1},
		Cuts:        []scheduler.CapacityCut{cut1},
		Meters:      []scheduler.MeteredGroup{m1},
	}
}
