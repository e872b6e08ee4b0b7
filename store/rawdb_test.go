package store

import (
	"os"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// TestRawDBWritesEveryRecordOnce: the limit's writers, many at once, make
// exactly the transactions asked for, each a record of its own, and Close
// leaves nothing behind.
func TestRawDBWritesEveryRecordOnce(t *testing.T) {
	dir := t.TempDir()
	r, err := OpenRaw(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.SyncedWrites(300, 16); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := r.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("raw/")})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 300 {
		t.Errorf("%d records written, want 300", n)
	}
	if _, err := r.SyncedWrites(0, 1); err == nil {
		t.Error("SyncedWrites(0, 1) did not fail")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("Close left %d entries in %s", len(left), dir)
	}
}
