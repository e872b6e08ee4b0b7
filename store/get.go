package store

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// getOne decodes the record stored at key; ErrNotFound if there is none.
// A read error names the key; a decode error is decode's.
func getOne[T any](txn *badger.Txn, key []byte) (T, error) {
	var rec T
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return rec, ErrNotFound
	}
	if err != nil {
		return rec, fmt.Errorf("store: read record %q: %w", key, err)
	}
	err = item.Value(func(v []byte) error { return decode(key, v, &rec) })
	return rec, err
}

// readOne is getOne in a read transaction of its own (ErrClosed once the
// store is closed); the zero T with any error.
func readOne[T any](s *Badger, key []byte) (T, error) {
	var rec T
	err := s.view(func(txn *badger.Txn) error {
		var err error
		rec, err = getOne[T](txn, key)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return rec, nil
}

// findOne is getOne for a record that may well be missing: ok is false,
// and the error nil, when there is none.
func findOne[T any](txn *badger.Txn, key []byte) (rec T, ok bool, err error) {
	rec, err = getOne[T](txn, key)
	if errors.Is(err, ErrNotFound) {
		return rec, false, nil
	}
	return rec, err == nil, err
}
