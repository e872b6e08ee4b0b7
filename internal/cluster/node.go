package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tafweej/tafweej/store"
)

// ErrDeposed: this instance owned the site and lost it (its lease was
// taken, or its append was fenced). Its owner's service has stopped; the
// caller runs a new Node on the same store, a standby again
// (service.RunCluster).
var ErrDeposed = errors.New("cluster: this instance is no longer the owner")

// Options configure a Node. Site, Data, Conn, Store and Own are required.
type Options struct {
	// Site is the site id (the configuration's site).
	Site string
	// Data is the data directory; the instance's id is kept in DATA/instance.id.
	Data string
	// Conn is the service's own NATS connection to the cluster.
	Conn *nats.Conn
	// Store is the instance's Badger, owned by the caller.
	Store *store.Badger
	// Replicas of the log, the buckets and (by the caller) the streams.
	Replicas int
	// AdvertiseHTTP is the base URL other instances forward HTTP requests
	// to while this one owns the site (--advertise-http).
	AdvertiseHTTP string
	// LeaseTTL is the lease's time to live; zero means DefaultLeaseTTL.
	LeaseTTL time.Duration
	// Logger receives the node's log; nil discards it.
	Logger *slog.Logger
	// Own runs the owner's service until ctx ends. It is called once the
	// instance owns the site, has applied the whole log and appended its
	// takeover record; from then on every store write goes through the log.
	// It calls serve with the HTTP handler of the owner's API once it can
	// answer. An error ends the Node.
	Own func(ctx context.Context, serve func(http.Handler)) error
	// IsOps reports whether a bearer secret is an ops key (GET /v1/cluster).
	IsOps func(secret string) bool
	// SnapshotRecords is how many log records the owner appends between
	// two snapshots of its store (snapshot.go); zero means
	// DefaultSnapshotRecords, negative never.
	SnapshotRecords int
	// FenceOnly, for tests only, stops the owner from checking its lease
	// before it answers or appends, as if its clock lied: only the log's
	// fence then keeps a deposed owner from acknowledging anything.
	FenceOnly bool
	// Metrics are the instance's cluster metrics (metrics.go); nil makes
	// unregistered ones.
	Metrics *Metrics
}

// Node is one instance of a replicated site.
type Node struct {
	o       Options
	log     *slog.Logger
	id      string
	js      jetstream.JetStream
	wal     *Log
	lease   *Lease
	members jetstream.KeyValue

	m       *Metrics
	applied atomic.Uint64 // last log sequence in the store
	owning  atomic.Bool   // Own is running
	inner   atomic.Pointer[http.Handler]
	tailErr atomic.Pointer[error] // the standby's tail failed (cannot campaign)
	// compacted is set when the log was purged past the store; stopCampaign
	// then ends the campaign (Run returns ErrCompacted).
	compacted    atomic.Bool
	stopCampaign atomic.Pointer[context.CancelFunc]

	// mu guards proxies: one reverse proxy per owner URL.
	mu      sync.Mutex
	proxies map[string]http.Handler
}

// New prepares a node: its id (created once in DATA/instance.id) and the
// last sequence its store applied. Nothing is started before Run.
func New(o Options) (*Node, error) {
	if o.Site == "" || o.Data == "" || o.Conn == nil || o.Store == nil || o.Own == nil {
		return nil, errors.New("cluster: Options.Site, Data, Conn, Store and Own are required")
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.SnapshotRecords == 0 {
		o.SnapshotRecords = DefaultSnapshotRecords
	}
	id, err := instanceID(o.Data)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(o.Conn)
	if err != nil {
		return nil, err
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	n := &Node{o: o, log: o.Logger.With("component", "cluster", "instance", id), id: id, js: js, proxies: map[string]http.Handler{}, m: o.Metrics}
	n.m.appliedFrom(n.applied.Load)
	seq, err := o.Store.LogSeq()
	if err != nil {
		return nil, err
	}
	n.applied.Store(seq)
	n.wal = newLog(js, o.Conn, o.Site, id)
	n.wal.m = n.m
	return n, nil
}

// ID is the instance's id.
func (n *Node) ID() string { return n.id }

// instanceID reads DATA/instance.id, or creates it.
func instanceID(dir string) (string, error) {
	path := filepath.Join(dir, "instance.id")
	b, err := os.ReadFile(path)
	if err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("cluster: read instance id: %w", err)
	}
	host, _ := os.Hostname()
	var r [4]byte
	rand.Read(r[:])
	id := strings.Trim(strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' {
			return c
		}
		return '-'
	}, strings.ToLower(host)), "-")
	if id == "" {
		id = "tafweej"
	}
	id += "-" + hex.EncodeToString(r[:])
	if err := os.WriteFile(path, []byte(id+"\n"), 0o640); err != nil {
		return "", fmt.Errorf("cluster: write instance id: %w", err)
	}
	return id, nil
}

// WaitReady creates the site's log and buckets, waiting (and saying so in
// the log every few seconds) while the cluster's JetStream is not ready.
func (n *Node) WaitReady(ctx context.Context) error {
	start := time.Now()
	var said time.Time
	for {
		err := n.ensure(ctx)
		if err == nil {
			if time.Since(start) > time.Second {
				n.log.Info("cluster JetStream ready", "waited", time.Since(start).Round(time.Millisecond))
			}
			return nil
		}
		if time.Since(said) >= 5*time.Second {
			n.log.Info("waiting for the cluster's JetStream to be ready", "replicas", n.o.Replicas, "err", err)
			said = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (n *Node) ensure(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := ensureLog(cctx, n.js, n.o.Site, n.o.Replicas); err != nil {
		return fmt.Errorf("log stream: %w", err)
	}
	kv, err := ensureLeaseBucket(cctx, n.js, n.o.Site, n.o.Replicas)
	if err != nil {
		return fmt.Errorf("lease bucket: %w", err)
	}
	n.lease = newLease(kv, n.o.LeaseTTL, n.id, n.o.AdvertiseHTTP)
	n.lease.onRenew = n.m.renewed
	if n.members, err = ensureInstancesBucket(cctx, n.js, n.o.Site, n.o.Replicas, n.lease.ttl); err != nil {
		return fmt.Errorf("instances bucket: %w", err)
	}
	return nil
}

// Run runs the instance: a standby tailing the log and campaigning for
// the lease, then the owner. Call WaitReady first if Handler serves
// meanwhile (the handler reads what WaitReady opens). It returns nil when ctx ends (an owner gives
// its lease up first), ErrDeposed when it lost the site, or Own's error.
func (n *Node) Run(ctx context.Context) error {
	if n.lease == nil {
		if err := n.WaitReady(ctx); err != nil {
			return nil
		}
	}
	pctx, pcancel := context.WithCancel(ctx)
	defer pcancel()
	go n.present(pctx)
	for {
		tctx, tcancel := context.WithCancel(ctx)
		tailDone := make(chan struct{})
		go func() { defer close(tailDone); n.tailLoop(tctx) }()
		n.log.Info("standby: applying the log", "applied", n.applied.Load())
		cctx, ccancel := context.WithCancel(ctx)
		n.stopCampaign.Store(&ccancel)
		if n.compacted.Load() {
			ccancel()
		}
		err := n.lease.Campaign(cctx, func() bool { return n.tailErr.Load() == nil })
		ccancel()
		if err != nil {
			tcancel()
			<-tailDone
			if n.compacted.Load() && ctx.Err() == nil {
				return ErrCompacted
			}
			return nil
		}
		won := time.Now()
		hctx, hcancel := context.WithCancel(ctx)
		held := make(chan error, 1)
		go func() { held <- n.lease.Hold(hctx) }()
		ok, err := n.takeover(ctx, tcancel, tailDone)
		if err != nil {
			hcancel()
			return err
		}
		if !ok {
			hcancel()
			<-held
			continue // the lease went to another: a standby again
		}
		n.log.Info("owner: took the site", "applied", n.applied.Load(), "lease_revision", n.lease.Revision(), "took", time.Since(won).Round(time.Millisecond))
		err = n.own(ctx, held)
		hcancel()
		return err
	}
}

// The bounds of a batch of records a standby applies in one transaction
// (well under Badger's limit of one transaction).
const (
	maxBatchRecords = 20_000
	maxBatchBytes   = 4 << 20
)

// tailLoop applies the log to the store from the last applied sequence on,
// starting again after a failure, until ctx ends.
func (n *Node) tailLoop(ctx context.Context) {
	for ctx.Err() == nil {
		from := n.applied.Load() + 1
		// Records are applied in batches, one synced transaction each:
		// while more are waiting (catching up) up to maxBatchRecords or
		// maxBatchBytes; at the log's end each at once.
		var batch []store.Op
		var size int
		var last uint64
		flush := func() error {
			if last == 0 {
				return nil
			}
			if err := n.o.Store.ApplyLog(last, batch); err != nil {
				return fmt.Errorf("cluster: apply log records up to %d: %w", last, err)
			}
			n.applied.Store(last)
			batch, size, last = batch[:0], 0, 0
			return nil
		}
		err := n.wal.tail(ctx, from, func(r record) error {
			batch = append(batch, r.ops...)
			size += r.size
			last = r.seq
			if r.pending == 0 || len(batch) >= maxBatchRecords || size >= maxBatchBytes {
				return flush()
			}
			return nil
		})
		if err == nil || ctx.Err() != nil {
			return
		}
		if errors.Is(err, store.ErrClosed) {
			return
		}
		if errors.Is(err, ErrCompacted) {
			n.log.Warn("standby: the log was compacted past this store; restoring the latest snapshot", "applied", n.applied.Load(), "err", err)
			n.compacted.Store(true)
			if c := n.stopCampaign.Load(); c != nil {
				(*c)()
			}
			return
		}
		n.tailErr.Store(&err)
		n.log.Error("standby: cannot apply the log; not campaigning", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		n.tailErr.Store(nil)
	}
}

// takeover applies the rest of the log, then appends the takeover record
// expecting the last sequence applied. It reports false if the lease was
// lost meanwhile. stopTail ends the tail, tailDone is closed when it has.
func (n *Node) takeover(ctx context.Context, stopTail context.CancelFunc, tailDone chan struct{}) (bool, error) {
	for {
		// Apply up to the log's last sequence, as its leader has it.
		for {
			if n.compacted.Load() {
				stopTail()
				<-tailDone
				n.lease.Release(ctx)
				return false, ErrCompacted
			}
			if !n.lease.Valid() {
				stopTail()
				<-tailDone
				return false, nil
			}
			qctx, cancel := context.WithTimeout(ctx, time.Second)
			_, last, err := n.wal.lastSeq(qctx)
			cancel()
			if err == nil && n.applied.Load() > last {
				stopTail()
				<-tailDone
				n.lease.Release(ctx)
				return false, fmt.Errorf("cluster: this instance's store has applied log sequence %d, but the site's log ends at %d: "+
					"its data directory belongs to another cluster or a lost log; move DATA/badger aside to start it empty", n.applied.Load(), last)
			}
			if err == nil && n.applied.Load() == last {
				break
			}
			select {
			case <-ctx.Done():
				stopTail()
				<-tailDone
				return false, nil
			case <-time.After(5 * time.Millisecond):
			}
		}
		stopTail()
		<-tailDone
		applied := n.applied.Load()
		n.wal.startWriting(applied, n.lease.Revision(), n.lease.Valid, nil)
		seq, err := n.wal.append(encodeOps(nil), true)
		switch {
		case err == nil:
			if err := n.o.Store.ApplyLog(seq, nil); err != nil {
				return false, err
			}
			n.applied.Store(seq)
			n.m.takeovers.Inc()
			return true, nil
		case errors.Is(err, ErrFenced):
			// The old owner appended after we looked: apply it too.
			n.log.Warn("takeover: the log moved on; applying the rest", "expected", applied)
			var tctx context.Context
			tctx, stopTail = context.WithCancel(ctx)
			tailDone = make(chan struct{})
			done := tailDone
			go func() { defer close(done); n.tailLoop(tctx) }()
		default:
			n.log.Warn("takeover: append refused; campaigning again", "err", err)
			n.lease.lose()
			return false, nil
		}
	}
}

// own runs the owner until ctx ends, the lease is lost or an append is
// fenced.
func (n *Node) own(ctx context.Context, held <-chan error) error {
	octx, ocancel := context.WithCancel(ctx)
	defer ocancel()
	var deposed atomic.Pointer[error]
	depose := func(err error) {
		if deposed.CompareAndSwap(nil, &err) {
			n.log.Error("owner: deposed; answering nobody and stepping down", "err", err)
		}
		n.wal.stopWriting(err)
		n.inner.Store(nil)
		ocancel()
	}
	n.wal.startWriting(n.applied.Load(), n.lease.Revision(), n.leaseValid, depose)
	n.o.Store.SetReplicator(replicator{n})
	go func() {
		if err := <-held; err != nil {
			if n.o.FenceOnly { // tests: the fence alone must stop it
				n.log.Warn("owner: lease lost; not checked (FenceOnly)", "err", err)
				return
			}
			depose(err)
		}
	}()
	n.owning.Store(true)
	n.m.SetRole("owner")
	if n.o.SnapshotRecords > 0 {
		go n.snapshotLoop(octx)
	}
	err := n.o.Own(octx, func(h http.Handler) { n.inner.Store(&h) })
	n.inner.Store(nil)
	n.owning.Store(false)
	n.m.SetRole("standby")
	n.wal.stopWriting(ErrNotOwner)
	if d := deposed.Load(); d != nil {
		return fmt.Errorf("%w: %v", ErrDeposed, *d)
	}
	if ctx.Err() != nil {
		rctx, cancel := context.WithTimeout(context.Background(), time.Second)
		n.lease.Release(rctx)
		cancel()
		n.log.Info("owner: stopped; lease released")
		return nil
	}
	return err
}

// replicator appends through the node, tracking what was applied.
type replicator struct{ n *Node }

func (r replicator) Append(ops []store.Op) (uint64, error) {
	seq, err := r.n.wal.Append(ops)
	if err == nil {
		r.n.applied.Store(seq)
	}
	return seq, err
}

// MaxAppendBytes is the largest log record (store.AppendLimiter).
func (r replicator) MaxAppendBytes() int { return r.n.wal.max }

var _ store.AppendLimiter = replicator{}

// Role is "owner" while the instance owns the site and its lease is
// valid, else "standby".
func (n *Node) Role() string {
	if n.owning.Load() && n.lease != nil && n.leaseValid() {
		return "owner"
	}
	return "standby"
}

// leaseValid is the lease's Valid, or always true with FenceOnly.
func (n *Node) leaseValid() bool { return n.o.FenceOnly || n.lease.Valid() }

// Applied is the last log sequence the instance's store applied.
func (n *Node) Applied() uint64 { return n.applied.Load() }
