package store

import (
	"github.com/dgraph-io/badger/v4"

	"github.com/tafweej/tafweej/scheduler"
)

// RecordReader is implemented by stores that can read back a few records:
// the engine undoes a turn whose commit failed by putting back, for each
// record the turn wrote, what is durable (engine/undo.go), instead of
// loading everything again.
type RecordReader interface {
	// Records returns, in one consistent read, the records the effects name
	// (Put and Delete effects alike; events are ignored) as they are stored
	// now: a record that is not stored is absent from the snapshot. Its
	// errors are Load's (ErrClosed, a *SchemaError, an I/O error).
	Records(effects []scheduler.Effect) (scheduler.Snapshot, error)
}

var _ RecordReader = (*Badger)(nil)

// Records implements RecordReader.
func (s *Badger) Records(effects []scheduler.Effect) (scheduler.Snapshot, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return scheduler.Snapshot{}, ErrClosed
	}
	var snap scheduler.Snapshot
	seen := map[string]bool{}
	err := s.db.View(func(txn *badger.Txn) error {
		for _, e := range effects {
			r := effectKey(e)
			var err error
			switch r.kind {
			case kindBooking:
				err = getRecord(txn, seen, r.key, &snap.Bookings)
			case kindIdempotency:
				err = getRecord(txn, seen, r.key, &snap.Idempotency)
			case kindScan:
				err = getRecord(txn, seen, r.key, &snap.Scans)
			case kindSensor:
				err = getRecord(txn, seen, r.key, &snap.Sensors)
			case kindZone:
				err = getRecord(txn, seen, r.key, &snap.Zones)
			case kindClosure:
				err = getRecord(txn, seen, r.key, &snap.Closures)
			case kindRequest:
				err = getRecord(txn, seen, r.key, &snap.Requests)
			case kindCut:
				err = getRecord(txn, seen, r.key, &snap.Cuts)
			case kindMeter:
				err = getRecord(txn, seen, r.key, &snap.Meters)
			} // archived days are not part of a Snapshot; events have no record
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return scheduler.Snapshot{}, err
	}
	return snap, nil
}

// getRecord appends the record stored at key to out, once per key, if there
// is one.
func getRecord[T any](txn *badger.Txn, seen map[string]bool, key []byte, out *[]T) error {
	if seen[string(key)] {
		return nil
	}
	seen[string(key)] = true
	rec, ok, err := findOne[T](txn, key)
	if ok {
		*out = append(*out, rec)
	}
	return err
}
