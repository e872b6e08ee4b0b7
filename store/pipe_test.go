package store_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// gatedLog is an AsyncReplicator whose acknowledgements wait until gate
// is closed. The append numbered failAt fails; if refuseAfter, every
// append in flight after it fails too, as the site's log refuses appends
// that state a refused one.
type gatedLog struct {
	mu          sync.Mutex // guards all below
	n, seq      uint64
	failAt      uint64
	refuseAfter bool
	broken      bool
	inflight    int
	gate        chan struct{}
}

func (g *gatedLog) Append(ops []store.Op) (uint64, error) {
	ack, err := g.StartAppend(ops)
	if err != nil {
		return 0, err
	}
	return ack()
}

func (g *gatedLog) StartAppend(ops []store.Op) (func() (uint64, error), error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	k, gate := g.n, g.gate
	g.inflight++
	return func() (uint64, error) {
		<-gate
		g.mu.Lock()
		defer g.mu.Unlock()
		g.inflight--
		defer func() {
			if g.inflight == 0 {
				g.broken = false
			}
		}()
		if k == g.failAt || g.broken && g.refuseAfter {
			g.broken = true
			return 0, errors.New("refused")
		}
		g.seq++
		return g.seq, nil
	}, nil
}

func putBooking(id string) []scheduler.Effect {
	return []scheduler.Effect{scheduler.PutBooking{Booking: scheduler.Booking{ID: id, Operator: "op", PartySize: 2}}}
}

// TestPipeFailsEveryWriteAfterAFailedOne: writes of a Pipe with their
// appends in flight are written in order; once one fails, none started
// after it is written (the owner loop applied them on top of it) until
// Reset, while writes outside the pipe go on.
func TestPipeFailsEveryWriteAfterAFailedOne(t *testing.T) {
	for _, refuse := range []bool{true, false} {
		st, err := store.Open(t.TempDir(), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		gate := make(chan struct{})
		log := &gatedLog{failAt: 2, refuseAfter: refuse, gate: gate}
		st.SetReplicator(log)
		p := st.Pipe()
		var waits []func() error
		for _, id := range []string{"bk_1", "bk_2", "bk_3"} {
			w, err := p.Start(putBooking(id), nil)
			if err != nil {
				t.Fatal(err)
			}
			waits = append(waits, w)
		}
		close(gate)
		for i, w := range waits {
			if err := w(); (err == nil) != (i == 0) {
				t.Errorf("refuse=%v: write %d: %v; want only the first written", refuse, i+1, err)
			}
		}
		for i, id := range []string{"bk_1", "bk_2", "bk_3"} {
			_, err := st.Booking(id)
			if (err == nil) != (i == 0) {
				t.Errorf("refuse=%v: %s in the store: %v; want only bk_1", refuse, id, err)
			}
		}
		if _, err := p.Start(putBooking("bk_4"), nil); err == nil {
			t.Errorf("refuse=%v: the failed pipe started a write before Reset", refuse)
		}
		if !refuse {
			// The log took bk_3 though bk_2 failed: the store is behind its
			// log and must refuse every write until it is caught up.
			if err := st.PutKey(store.APIKey{Hash: "k", Role: "ops"}); !errors.Is(err, store.ErrReplicaBehind) {
				t.Errorf("a write after the log took what the store did not: %v, want ErrReplicaBehind", err)
			}
			continue
		}
		if err := st.PutKey(store.APIKey{Hash: "k", Role: "ops"}); err != nil {
			t.Errorf("a write outside the pipe failed with it: %v", err)
		}
		p.Reset()
		w, err := p.Start(putBooking("bk_4"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := w(); err != nil {
			t.Fatalf("after Reset: %v", err)
		}
		if seq, err := st.LogSeq(); err != nil || seq != 3 {
			t.Errorf("LogSeq = %d, %v; want 3 (bk_1, the key, bk_4)", seq, err)
		}
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
	st.SetReplicator(&gatedLog{gate: gate})
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
	if seq, err := st.LogSeq(); err != nil || seq != 20 {
		t.Errorf("LogSeq = %d, %v; want 20", seq, err)
	}
}
