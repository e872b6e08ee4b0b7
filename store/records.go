package store

import (
	"errors"
	"fmt"

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
			var err error
			switch e := deref(e).(type) {
			case scheduler.PutBooking:
				err = getRecord(txn, seen, bookingKey(e.Booking.ID), &snap.Bookings)
			case scheduler.PutIdempotency:
				err = getRecord(txn, seen, idempotencyKey(e.Record.Operator, e.Record.Key), &snap.Idempotency)
			case scheduler.DeleteIdempotency:
				err = getRecord(txn, seen, idempotencyKey(e.Operator, e.Key), &snap.Idempotency)
			case scheduler.PutScan:
				err = getRecord(txn, seen, scanKey(e.Record.ScanID), &snap.Scans)
			case scheduler.DeleteScan:
				err = getRecord(txn, seen, scanKey(e.ScanID), &snap.Scans)
			case scheduler.PutSensor:
				err = getRecord(txn, seen, sensorKey(e.State.Sensor), &snap.Sensors)
			case scheduler.PutZone:
				err = getRecord(txn, seen, zoneKey(e.State.Zone), &snap.Zones)
			case scheduler.PutClosure:
				err = getRecord(txn, seen, closureKey(e.Closure.ID), &snap.Closures)
			case scheduler.PutRequest:
				err = getRecord(txn, seen, requestKey(e.Request.ID), &snap.Requests)
			case scheduler.PutCut:
				err = getRecord(txn, seen, cutKey(e.Cut.ID), &snap.Cuts)
			case scheduler.PutMeter:
				err = getRecord(txn, seen, meterKey(e.Group.Booking), &snap.Meters)
			case scheduler.DeleteMeter:
				err = getRecord(txn, seen, meterKey(e.Booking), &snap.Meters)
			}
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
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: read record %q: %w", key, err)
	}
	var rec T
	if err := item.Value(func(v []byte) error { return decode(key, v, &rec) }); err != nil {
		return err
	}
	*out = append(*out, rec)
	return nil
}
