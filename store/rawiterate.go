package store

import (
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// RawIterateBookings measures the limit of a restart: it opens the
// database in dir (closed, written by Open) with the store's settings and
// iterates every stored booking record on one goroutine, copying each value
// out, without decoding anything. It returns how many records it read and
// the time from opening to the last record (the database is closed after).
func RawIterateBookings(dir string) (records int, took time.Duration, err error) {
	start := time.Now()
	db, err := badger.Open(badgerOptions(dir, Options{}.withDefaults()))
	if err != nil {
		return 0, 0, fmt.Errorf("store: raw iterate: open %q: %w", dir, err)
	}
	defer db.Close()
	var buf []byte
	err = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixBooking)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			if buf, err = item.ValueCopy(buf[:0]); err != nil {
				return fmt.Errorf("store: raw iterate: read %q: %w", item.Key(), err)
			}
			records++
		}
		return nil
	})
	return records, time.Since(start), err
}
