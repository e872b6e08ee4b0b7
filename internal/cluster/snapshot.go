package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tafweej/tafweej/internal/subjects"
)

// Snapshots bound a new instance's catch-up. The owner, every
// Options.SnapshotRecords records, writes a backup of its store (Badger's
// backup at one read timestamp, with the log sequence it holds, m/logseq)
// to the object "latest" of the bucket TAFWEEJ_<SITE>_SNAPSHOTS, then
// purges the log up to a tenth of that many records before the snapshot's
// sequence, so a standby a little behind still reads on from the log. A
// standby whose next record was purged (an empty one, or one long
// stopped) gets ErrCompacted from Run: the caller restores the snapshot
// into a new store (FetchSnapshot, store.Restore) and runs a new Node on
// it, which applies the log from the snapshot's sequence on.

// DefaultSnapshotRecords is how many log records the owner appends
// between two snapshots when Options.SnapshotRecords is zero.
const DefaultSnapshotRecords = 100_000

// snapshotObject is the name of the latest snapshot in the bucket.
const snapshotObject = "latest"

// ErrCompacted: the log was purged past this instance's store; restore
// the latest snapshot (FetchSnapshot) and start again.
var ErrCompacted = errors.New("cluster: the log was compacted past this instance's store")

func ensureSnapshots(ctx context.Context, js jetstream.JetStream, site string, replicas int) (jetstream.ObjectStore, error) {
	return js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      subjects.For(site).SnapshotBucket(),
		Description: "tafweej: the latest snapshot of site " + site + "'s store",
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		Compression: true,
	})
}

// snapshotLoop snapshots the owner's store every SnapshotRecords records,
// until ctx ends.
func (n *Node) snapshotLoop(ctx context.Context) {
	every := uint64(n.o.SnapshotRecords)
	last := n.applied.Load()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if n.applied.Load()-last < every {
			continue
		}
		start := time.Now()
		seq, err := n.snapshot(ctx)
		if err != nil {
			n.log.Warn("snapshot failed; the log keeps its records", "err", err)
			continue
		}
		last = seq
		n.log.Info("snapshot written; log compacted", "sequence", seq, "took", time.Since(start).Round(time.Millisecond))
	}
}

// snapshot writes the store's backup as the latest snapshot and purges
// the log up to every/10 records before it. It returns the sequence the
// snapshot holds at least.
func (n *Node) snapshot(ctx context.Context) (uint64, error) {
	obs, err := ensureSnapshots(ctx, n.js, n.o.Site, n.o.Replicas)
	if err != nil {
		return 0, err
	}
	// The backup is at a read timestamp at or after this: it holds at
	// least this sequence (m/logseq is written with the records).
	seq, err := n.o.Store.LogSeq()
	if err != nil {
		return 0, err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(n.o.Store.Backup(pw)) }()
	_, err = obs.Put(ctx, jetstream.ObjectMeta{Name: snapshotObject,
		Metadata: map[string]string{"seq": strconv.FormatUint(seq, 10), "instance": n.id}}, pr)
	pr.CloseWithError(err)
	if err != nil {
		return 0, fmt.Errorf("cluster: write snapshot: %w", err)
	}
	keep := uint64(n.o.SnapshotRecords / 10)
	if seq > keep+1 {
		s, err := n.js.Stream(ctx, n.wal.stream)
		if err != nil {
			return seq, err
		}
		if err := s.Purge(ctx, jetstream.WithPurgeSequence(seq-keep)); err != nil {
			return seq, fmt.Errorf("cluster: compact the log: %w", err)
		}
	}
	return seq, nil
}

// FetchSnapshot writes the site's latest snapshot (a store backup) to
// file and returns the log sequence it holds at least.
func FetchSnapshot(ctx context.Context, nc *nats.Conn, site, file string) (uint64, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, err
	}
	obs, err := js.ObjectStore(ctx, subjects.For(site).SnapshotBucket())
	if err != nil {
		return 0, fmt.Errorf("cluster: snapshots of %s: %w", site, err)
	}
	info, err := obs.GetInfo(ctx, snapshotObject)
	if err != nil {
		return 0, fmt.Errorf("cluster: latest snapshot of %s: %w", site, err)
	}
	seq, _ := strconv.ParseUint(info.Metadata["seq"], 10, 64)
	if err := obs.GetFile(ctx, snapshotObject, file); err != nil {
		os.Remove(file)
		return 0, fmt.Errorf("cluster: read the latest snapshot of %s: %w", site, err)
	}
	return seq, nil
}
