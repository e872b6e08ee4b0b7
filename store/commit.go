package store

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/tafweej/tafweej/scheduler"
)

// Commit writes the effects' records in one transaction and returns once it
// is synced to disk. Events are ignored; a batch without records writes
// nothing. On any error nothing was written. A batch over Badger's
// transaction limit fails with ErrTooBig.
func (s *Badger) Commit(effects []scheduler.Effect) error {
	ops, err := encodeEffects(effects)
	if err != nil {
		return err
	}
	return s.writeOps(ops)
}

// writeOps writes ops (a nil value deletes its key) in one synced
// transaction; on any error nothing was written, and a batch over Badger's
// transaction limit fails with ErrTooBig.
func (s *Badger) writeOps(ops []op) error {
	return s.replicate(ops) // replica.go: through the log, if any
}

// putOps sets or deletes (a nil value) each op's key in txn, stopping at
// the first error.
func putOps(txn *badger.Txn, ops []op) error {
	for _, o := range ops {
		var err error
		if o.val == nil {
			err = txn.Delete(o.key)
		} else {
			err = txn.Set(o.key, o.val)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// txn writes ops in one synced transaction; s.mu is held for reading.
func (s *Badger) txn(ops []op) error {
	err := s.db.Update(func(txn *badger.Txn) error { return putOps(txn, ops) })
	if errors.Is(err, badger.ErrTxnTooBig) {
		return s.tooBig(ops)
	}
	if err != nil {
		return fmt.Errorf("store: commit of %d records: %w", len(ops), err)
	}
	return nil
}

// tooBig is ErrTooBig for ops.
func (s *Badger) tooBig(ops []op) error {
	size := 0
	for _, o := range ops {
		size += len(o.key) + len(o.val)
	}
	return fmt.Errorf("%w: %d records (%d bytes), limit %d records or %d bytes", ErrTooBig,
		len(ops), size, s.db.MaxBatchCount()-1, s.db.MaxBatchSize()-1)
}
