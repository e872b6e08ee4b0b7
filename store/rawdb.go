package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// RawDB is a fresh Badger database with the store's settings in a new
// temporary directory, for measuring the disk's limits next to the
// service (tafweej bench): synced transactions of one 256-byte record,
// from one writer or many at once. It is not a Store. Close removes it.
// Its methods are safe for concurrent use.
type RawDB struct {
	db  *badger.DB
	dir string
	seq atomic.Uint64 // keys written so far
	val []byte        // the record, 256 bytes (read only)
}

// OpenRaw opens a RawDB in a new temporary directory under dir (put dir on
// the disk of --data).
func OpenRaw(dir string) (*RawDB, error) {
	tmp, err := os.MkdirTemp(dir, "tafweej-rawbench-")
	if err != nil {
		return nil, fmt.Errorf("store: raw database: %w", err)
	}
	db, err := badger.Open(badgerOptions(tmp, Options{}.withDefaults()))
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("store: raw database: open %q: %w", tmp, err)
	}
	return &RawDB{db: db, dir: tmp, val: make([]byte, 256)}, nil
}

// Write makes one synced transaction of one new 256-byte record and
// returns once it is on disk. Concurrent Writes share fsyncs as Badger
// batches them (its own group commit).
func (r *RawDB) Write() error {
	key := binary.BigEndian.AppendUint64([]byte("raw/"), r.seq.Add(1))
	if err := r.db.Update(func(txn *badger.Txn) error { return txn.Set(key, r.val) }); err != nil {
		return fmt.Errorf("store: raw synced write: %w", err)
	}
	return nil
}

// SyncedWrites makes n synced transactions of one record from writers
// goroutines at once, each writing its next when the last is synced, and
// returns how long they took.
func (r *RawDB) SyncedWrites(n, writers int) (time.Duration, error) {
	if n <= 0 || writers <= 0 {
		return 0, fmt.Errorf("store: raw synced writes: n = %d, writers = %d, want both at least 1", n, writers)
	}
	var left atomic.Int64
	left.Store(int64(n))
	errs := make([]error, writers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				if err := r.Write(); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	return took, errors.Join(errs...)
}

// Close closes the database and removes its directory.
func (r *RawDB) Close() error {
	err := r.db.Close()
	if rerr := os.RemoveAll(r.dir); err == nil {
		err = rerr
	}
	return err
}
