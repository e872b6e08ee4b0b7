package store

import (
	"encoding/binary"
	"fmt"
	"os"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// RawSyncedWrites measures the disk's limit for acknowledged writes: n
// transactions of one 256-byte record each, one after the other, each synced,
// on a fresh database with the store's settings in a new temporary directory
// under dir (removed afterwards). Put dir on the disk of --data. It returns
// the transactions per second. Commit, which syncs once for a whole batch,
// should beat it by about the batch size.
func RawSyncedWrites(dir string, n int) (perSec float64, err error) {
	if n <= 0 {
		return 0, fmt.Errorf("store: raw synced writes: n = %d, want at least 1", n)
	}
	tmp, err := os.MkdirTemp(dir, "tafweej-rawbench-")
	if err != nil {
		return 0, fmt.Errorf("store: raw synced writes: %w", err)
	}
	defer os.RemoveAll(tmp)
	db, err := badger.Open(badgerOptions(tmp, Options{}.withDefaults()))
	if err != nil {
		return 0, fmt.Errorf("store: raw synced writes: open %q: %w", tmp, err)
	}
	defer db.Close()
	val := make([]byte, 256)
	key := make([]byte, 0, 16)
	start := time.Now()
	for i := range n {
		key = binary.BigEndian.AppendUint64(append(key[:0], "raw/"...), uint64(i))
		if err := db.Update(func(txn *badger.Txn) error { return txn.Set(key, val) }); err != nil {
			return 0, fmt.Errorf("store: raw synced writes: %w", err)
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
