package store

import (
	"github.com/dgraph-io/badger/v4"

	"github.com/tafweej/tafweej/scheduler"
)

// Load reads every record in one consistent read transaction. Each kind of
// record is sorted by its key: bookings, scans and closures by id, sensors
// and zones by name, idempotency records by operator then key, requests
// and capacity cuts by id.
func (s *Badger) Load() (scheduler.Snapshot, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return scheduler.Snapshot{}, ErrClosed
	}
	var snap scheduler.Snapshot
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		if snap, err = s.loadRest(txn); err != nil {
			return err
		}
		if snap.Bookings, err = loadPrefix[scheduler.Booking](txn, prefixBooking, s.loadWorkers); err != nil {
			return err
		}
		snap.Bookings, err = dropArchived(txn, snap.Bookings)
		return err
	})
	if err != nil {
		return scheduler.Snapshot{}, err
	}
	return snap, nil
}

// loadRest reads every record but the bookings, each kind sorted by its key
// (Load's and LoadStream's).
func (s *Badger) loadRest(txn *badger.Txn) (scheduler.Snapshot, error) {
	var rest scheduler.Snapshot
	var err error
	if rest.Idempotency, err = loadPrefix[scheduler.Idempotency](txn, prefixIdempotency, s.loadWorkers); err != nil {
		return rest, err
	}
	if rest.Scans, err = loadPrefix[scheduler.ScanRecord](txn, prefixScan, s.loadWorkers); err != nil {
		return rest, err
	}
	if rest.Sensors, err = loadPrefix[scheduler.SensorState](txn, prefixSensor, s.loadWorkers); err != nil {
		return rest, err
	}
	if rest.Zones, err = loadPrefix[scheduler.ZoneState](txn, prefixZone, s.loadWorkers); err != nil {
		return rest, err
	}
	if rest.Closures, err = loadPrefix[scheduler.Closure](txn, prefixClosure, s.loadWorkers); err != nil {
		return rest, err
	}
	if rest.Requests, err = loadPrefix[scheduler.Request](txn, prefixRequest, s.loadWorkers); err != nil {
		return rest, err
	}
	if rest.Cuts, err = loadPrefix[scheduler.CapacityCut](txn, prefixCut, s.loadWorkers); err != nil {
		return rest, err
	}
	rest.Meters, err = loadPrefix[scheduler.MeteredGroup](txn, prefixMeter, s.loadWorkers)
	return rest, err
}

// loadChunk is how many records a Load worker decodes at a time.
const loadChunk = 512

// rawChunk is a run of consecutive records copied out of the iterator:
// record i has key data[offs[2i]:offs[2i+1]] and value
// data[offs[2i+1]:offs[2i+2]].
type rawChunk struct {
	seq  int // position of the chunk in key order
	data []byte
	offs []int
}

func (c *rawChunk) len() int           { return (len(c.offs) - 1) / 2 }
func (c *rawChunk) key(i int) []byte   { return c.data[c.offs[2*i]:c.offs[2*i+1]] }
func (c *rawChunk) value(i int) []byte { return c.data[c.offs[2*i+1]:c.offs[2*i+2]] }
func (c *rawChunk) add(k, v []byte) {
	c.data = append(append(c.data, k...), v...)
	c.offs = append(c.offs, len(c.data)-len(v), len(c.data))
}
func (c *rawChunk) reset(seq int) { c.seq, c.data, c.offs = seq, c.data[:0], append(c.offs[:0], 0) }

// loadPrefix decodes every record under prefix, in key order: the records
// streamPrefix hands over (chunks copied out by the iterator, decoded by
// one worker a core), collected.
func loadPrefix[T any](txn *badger.Txn, prefix string, workers int) ([]T, error) {
	var out []T
	err := streamPrefix(txn, prefix, workers, func(recs []T) error {
		out = append(out, recs...)
		return nil
	})
	return out, err
}
