package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"pgregory.net/rapid"

	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/store"
)

func TestLogRecordsRoundTrip(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var ops []store.Op
		for range rapid.IntRange(0, 20).Draw(rt, "n") {
			o := store.Op{Key: rapid.SliceOfN(rapid.Byte(), 1, 40).Draw(rt, "key")}
			if !rapid.Bool().Draw(rt, "delete") {
				o.Val = rapid.SliceOfN(rapid.Byte(), 0, 200).Draw(rt, "val")
			}
			ops = append(ops, o)
		}
		got, err := decodeOps(encodeOps(ops))
		if err != nil {
			rt.Fatal(err)
		}
		if len(got) != len(ops) {
			rt.Fatalf("%d ops back, want %d", len(got), len(ops))
		}
		for i := range ops {
			if !bytes.Equal(got[i].Key, ops[i].Key) || !bytes.Equal(got[i].Val, ops[i].Val) || (got[i].Val == nil) != (ops[i].Val == nil) {
				rt.Fatalf("op %d: %q=%q back, want %q=%q", i, got[i].Key, got[i].Val, ops[i].Key, ops[i].Val)
			}
		}
	})
	for _, bad := range [][]byte{nil, {2}, {1, 5, 'a'}, {1, 1, 'a', 9, 'b'}} {
		if _, err := decodeOps(bad); err == nil {
			t.Errorf("decodeOps(%v) accepted a bad record", bad)
		}
	}
}

func clusterConn(t testing.TB) (*testenv.NATSCluster, *nats.Conn, jetstream.JetStream) {
	t.Helper()
	c := testenv.StartNATSCluster(t, 3)
	nc, err := nats.Connect(c.URLs())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return c, nc, js
}

func ensureAll(t testing.TB, js jetstream.JetStream, site string) jetstream.KeyValue {
	t.Helper()
	var kv jetstream.KeyValue
	testenv.Eventually(t, 30*time.Second, 100*time.Millisecond, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := ensureLog(ctx, js, site, 3); err != nil {
			return err
		}
		var err error
		kv, err = ensureLeaseBucket(ctx, js, site, 3)
		return err
	})
	return kv
}

// TestLogIsOneChainOfOwners is a model of the log protocol on a real
// three-node cluster (R3): writers take the site over in turns (each
// first reading the log's end, then appending a takeover record) and
// append in any order. An append is acknowledged exactly when its writer
// knew the log's end, every acknowledged append is in the log at the
// sequence it was given, a writer refused once is refused for good, and
// the log is one chain of owners.
func TestLogIsOneChainOfOwners(t *testing.T) {
	_, nc, js := clusterConn(t)
	const site = "model"
	ensureAll(t, js, site)
	ctx := context.Background()
	var epoch uint64
	rapid.Check(t, func(rt *rapid.T) {
		writers := make([]*Log, 3)
		for i := range writers {
			writers[i] = newLog(js, nc, site, fmt.Sprintf("w%d", i))
		}
		_, end, err := writers[0].lastSeq(ctx)
		if err != nil {
			rt.Fatal(err)
		}
		log := map[uint64]string{} // what the model says is at each new sequence
		known := make([]uint64, 3) // the end each writer knows; 0: not started
		fenced := make([]bool, 3)
		always := func() bool { return true }
		for step := range rapid.IntRange(1, 12).Draw(rt, "steps") {
			w := rapid.IntRange(0, 2).Draw(rt, "writer")
			if known[w] == 0 || rapid.IntRange(0, 3).Draw(rt, "takeover") == 0 {
				epoch++
				writers[w].startWriting(end, epoch, always, nil)
				seq, err := writers[w].append(encodeOps(nil), true)
				if err != nil {
					rt.Fatalf("step %d: takeover by w%d after %d: %v", step, w, end, err)
				}
				end, known[w], fenced[w] = seq, seq, false
				log[seq] = fmt.Sprintf("takeover w%d", w)
				continue
			}
			payload := fmt.Sprintf("w%d step %d", w, step)
			seq, err := writers[w].Append([]store.Op{{Key: []byte("k"), Val: []byte(payload)}})
			wantOK := !fenced[w] && known[w] == end
			switch {
			case wantOK && err != nil:
				rt.Fatalf("step %d: w%d knew the end %d but its append failed: %v", step, w, end, err)
			case !wantOK && err == nil:
				rt.Fatalf("step %d: w%d (knew %d, end %d, fenced %v) appended at %d", step, w, known[w], end, fenced[w], seq)
			case !wantOK && !errors.Is(err, ErrFenced):
				rt.Fatalf("step %d: w%d refused with %v, want ErrFenced", step, w, err)
			case err != nil:
				fenced[w] = true
			default:
				end, known[w] = seq, seq
				log[seq] = payload
			}
		}
		// Every acknowledged append is in the log where it was told.
		s, err := js.Stream(ctx, "TAFWEEJ_MODEL_LOG")
		if err != nil {
			rt.Fatal(err)
		}
		for seq, want := range log {
			// Direct gets may be answered by a replica a moment behind.
			var m *jetstream.RawStreamMsg
			for try := 0; ; try++ {
				if m, err = s.GetMsg(ctx, seq); err == nil || try == 100 {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if err != nil {
				rt.Fatalf("record %d: %v", seq, err)
			}
			r, err := toRecord(seq, m.Header, m.Data)
			if err != nil {
				rt.Fatal(err)
			}
			got := fmt.Sprintf("takeover %s", r.owner)
			if !r.takeover {
				got = string(r.ops[0].Val)
			}
			if got != want {
				rt.Fatalf("record %d is %q, want %q", seq, got, want)
			}
		}
		if _, last, _ := writers[0].lastSeq(ctx); last != end {
			rt.Fatalf("the log ends at %d, the model at %d", last, end)
		}
	})
	if _, _, err := CheckChain(ctx, nc, site); err != nil {
		t.Fatal(err)
	}
}

// TestLeaseGoesToAStandbyOnlyAfterTheOwnerStoppedAnswering: a standby
// takes the lease only once it has seen the same revision for a TTL, by
// which time the owner's Valid is false; the old owner's next renewal
// fails with ErrLeaseLost.
func TestLeaseGoesToAStandbyOnlyAfterTheOwnerStoppedAnswering(t *testing.T) {
	_, _, js := clusterConn(t)
	kv := ensureAll(t, js, "lease")
	ttl := time.Second
	a, b := newLease(kv, ttl, "a", "http://a"), newLease(kv, ttl, "b", "http://b")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Campaign(ctx, nil); err != nil {
		t.Fatal(err)
	}
	hctx, hcancel := context.WithCancel(ctx)
	held := make(chan error, 1)
	go func() { held <- a.Hold(hctx) }()
	// While a renews, b never gets the lease.
	bctx, bcancel := context.WithTimeout(ctx, 3*ttl)
	if err := b.Campaign(bctx, nil); err == nil {
		t.Fatal("b took the lease while a renewed it")
	}
	bcancel()
	if !a.Valid() {
		t.Fatal("a's lease is not valid while it renews")
	}
	if o, _, ok := b.Seen(); !ok || o.ID != "a" {
		t.Fatalf("b sees owner %+v, want a", o)
	}
	// a stops renewing (a paused process): b takes over, and by then a
	// no longer counts itself the owner.
	hcancel()
	<-held
	stopped := time.Now()
	if err := b.Campaign(ctx, func() bool {
		if a.Valid() {
			t.Errorf("b is about to take the lease while a still counts it valid (%v after a's last renewal)", time.Since(stopped))
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if a.Valid() {
		t.Fatal("a's lease is valid after b took it")
	}
	if err := a.renew(ctx); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("a's renewal after b took over: %v, want ErrLeaseLost", err)
	}
	// A clean stop hands over at once.
	b.Release(ctx)
	start := time.Now()
	c := newLease(kv, ttl, "c", "http://c")
	if err := c.Campaign(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > ttl/2 {
		t.Errorf("c took a released lease in %v, want at once", took)
	}
}
