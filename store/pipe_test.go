package store_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// gatedLog is a Replicator whose appends wait until gate is closed; an
// append carrying a key in fail is refused.
type gatedLog struct {
	mu      sync.Mutex // guards seq and appends
	seq     uint64
	appends int
	fail    string
	gate    chan struct{}
}

func (g *gatedLog) Append(ops []store.Op) (uint64, error) {
	<-g.gate
	g.mu.Lock()
	defer g.mu.Unlock()
	g.appends++
	for _, o := range ops {
		if g.fail != "" && strings.Contains(string(o.Key), g.fail) {
			return 0, errors.New("refused")
		}
	}
	g.seq++
	return g.seq, nil
}

func putBooking(id string) []scheduler.Effect {
	return []scheduler.Effect{scheduler.PutBooking{Booking: scheduler.Booking{ID: id, Operator: "op", PartySize: 2}}}
}

// TestPipeFailsEveryWriteAfterAFailedOne: writes of a Pipe queued
// behind an append in flight are written in order; once one fails, none
// started after it is written (the owner loop applied them on top of it)
// until Reset, while writes outside the pipe go on.
func TestPipeFailsEveryWriteAfterAFailedOne(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	gate := make(chan struct{})
	log := &gatedLog{fail: "bk_2", gate: gate}
	st.SetReplicator(log)
	p := st.Pipe()
	ids := []string{"bk_1", "bk_2", "bk_3", "bk_4"}
	var waits []func() error
	for _, id := range ids {
		w, err := p.Start(putBooking(id), nil)
		if err != nil {
			t.Fatal(err)
		}
		waits = append(waits, w)
	}
	close(gate)
	for i, w := range waits {
		err := w()
		_, serr := st.Booking(ids[i])
		switch {
		case i >= 1 && err == nil:
			t.Errorf("write %s, at or after the failed one, succeeded", ids[i])
		case (err == nil) != (serr == nil):
			t.Errorf("write %s: %v, but in the store: %v", ids[i], err, serr)
		}
	}
	if _, err := p.Start(putBooking("bk_5"), nil); err == nil {
		t.Error("the failed pipe started a write before Reset")
	}
	log.fail = ""
	if err := st.PutKey(store.APIKey{Hash: "k", Role: "ops"}); err != nil {
		t.Errorf("a write outside the pipe failed with it: %v", err)
	}
	p.Reset()
	w, err := p.Start(putBooking("bk_5"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w(); err != nil {
		t.Fatalf("after Reset: %v", err)
	}
	if _, err := st.Booking("bk_5"); err != nil {
		t.Errorf("bk_5 after Reset: %v", err)
	}
	if seq, err := st.LogSeq(); err != nil || seq != log.seq {
		t.Errorf("LogSeq = %d, %v; want the log's last, %d", seq, err, log.seq)
	}
}

// TestPipeWritesInOrder: writes of one key with their appends in flight
// are written in the order started (those queued together in one
// transaction), and the store records the last log sequence.
func TestPipeWritesInOrder(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	gate := make(chan struct{})
	log := &gatedLog{gate: gate}
	st.SetReplicator(log)
	p := st.Pipe()
	var waits []func() error
	for size := 1; size <= 20; size++ {
		w, err := p.Start([]scheduler.Effect{scheduler.PutBooking{Booking: scheduler.Booking{ID: "bk_1", Operator: "op", PartySize: size}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		waits = append(waits, w)
	}
	close(gate)
	for i := len(waits) - 1; i >= 0; i-- { // waited for in any order
		if err := waits[i](); err != nil {
			t.Fatal(err)
		}
	}
	if b, err := st.Booking("bk_1"); err != nil || b.PartySize != 20 {
		t.Errorf("bk_1 = %+v, %v; want the last write's party of 20", b, err)
	}
	if seq, err := st.LogSeq(); err != nil || seq != log.seq {
		t.Errorf("LogSeq = %d, %v; want the log's last, %d", seq, err, log.seq)
	}
	t.Logf("20 writes in %d appends", log.appends)
}
