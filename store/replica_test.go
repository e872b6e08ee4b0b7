package store_test

import (
	"errors"
	"testing"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// fakeLog is a Replicator that records appends, or refuses them.
type fakeLog struct {
	units  [][]store.Op
	refuse error
}

func (f *fakeLog) Append(ops []store.Op) (uint64, error) {
	if f.refuse != nil {
		return 0, f.refuse
	}
	f.units = append(f.units, ops)
	return uint64(len(f.units)) + 100, nil
}

// TestReplicatedCommitIsLoggedBeforeItIsWritten: with a Replicator, a
// turn's records reach the log as one unit and Badger records the log
// sequence; a refused append writes nothing.
func TestReplicatedCommitIsLoggedBeforeItIsWritten(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := &fakeLog{}
	st.SetReplicator(log)
	b := scheduler.Booking{ID: "bk_1", Operator: "op", PartySize: 3}
	if err := st.Commit([]scheduler.Effect{scheduler.PutBooking{Booking: b}, scheduler.PutZone{State: scheduler.ZoneState{Zone: "siq"}}}); err != nil {
		t.Fatal(err)
	}
	if len(log.units) != 1 || len(log.units[0]) != 2 {
		t.Fatalf("log units %v, want one unit of 2 records", log.units)
	}
	if seq, err := st.LogSeq(); err != nil || seq != 101 {
		t.Fatalf("LogSeq = %d, %v; want 101", seq, err)
	}
	if err := st.PutKey(store.APIKey{Hash: "abc", Role: "ops"}); err != nil {
		t.Fatal(err)
	}
	if len(log.units) != 2 {
		t.Fatalf("an API key was not logged: %d units", len(log.units))
	}

	log.refuse = errors.New("fenced")
	b2 := scheduler.Booking{ID: "bk_2", Operator: "op", PartySize: 3}
	if err := st.Commit([]scheduler.Effect{scheduler.PutBooking{Booking: b2}}); err == nil {
		t.Fatal("a commit whose append was refused succeeded")
	}
	if _, err := st.Booking("bk_2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused append's booking was written: %v", err)
	}
	if seq, _ := st.LogSeq(); seq != 102 {
		t.Fatalf("LogSeq = %d after a refused append, want 102", seq)
	}

	// A standby writes what it reads, with its sequence.
	other, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	for i, u := range log.units {
		if err := other.ApplyLog(uint64(101+i), u); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := other.Booking("bk_1"); err != nil || got.PartySize != 3 {
		t.Fatalf("the standby's booking: %+v, %v", got, err)
	}
	if _, err := other.LookupKey("abc"); err != nil {
		t.Fatalf("the standby's API key: %v", err)
	}
	if seq, _ := other.LogSeq(); seq != 102 {
		t.Fatalf("the standby's LogSeq = %d, want 102", seq)
	}
}
