package store

import (
	"fmt"
	"sync"
	"sync/atomic"

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
		if snap.Bookings, err = loadPrefix[scheduler.Booking](txn, prefixBooking, s.loadWorkers); err != nil {
			return err
		}
		if snap.Bookings, err = dropArchived(txn, snap.Bookings); err != nil {
			return err
		}
		if snap.Idempotency, err = loadPrefix[scheduler.Idempotency](txn, prefixIdempotency, s.loadWorkers); err != nil {
			return err
		}
		if snap.Scans, err = loadPrefix[scheduler.ScanRecord](txn, prefixScan, s.loadWorkers); err != nil {
			return err
		}
		if snap.Sensors, err = loadPrefix[scheduler.SensorState](txn, prefixSensor, s.loadWorkers); err != nil {
			return err
		}
		if snap.Zones, err = loadPrefix[scheduler.ZoneState](txn, prefixZone, s.loadWorkers); err != nil {
			return err
		}
		if snap.Closures, err = loadPrefix[scheduler.Closure](txn, prefixClosure, s.loadWorkers); err != nil {
			return err
		}
		if snap.Requests, err = loadPrefix[scheduler.Request](txn, prefixRequest, s.loadWorkers); err != nil {
			return err
		}
		snap.Cuts, err = loadPrefix[scheduler.CapacityCut](txn, prefixCut, s.loadWorkers)
		return err
	})
	if err != nil {
		return scheduler.Snapshot{}, err
	}
	return snap, nil
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

// loadPrefix decodes every record under prefix, in key order. JSON decoding
// is most of the cost of Load, so the iterator only copies records out in
// chunks, and workers (one per core) decode them.
func loadPrefix[T any](txn *badger.Txn, prefix string, workers int) ([]T, error) {
	type decoded struct {
		recs []T
		err  error
	}
	var (
		mu      sync.Mutex // guards results
		results []decoded  // by chunk seq
		failed  atomic.Bool
	)
	chunks := make(chan *rawChunk, 2*workers)
	free := make(chan *rawChunk, 3*workers) // chunks to reuse
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for c := range chunks {
				d := decoded{recs: make([]T, c.len())}
				for i := range d.recs {
					if d.err = decode(c.key(i), c.value(i), &d.recs[i]); d.err != nil {
						failed.Store(true)
						break
					}
				}
				mu.Lock()
				for len(results) <= c.seq {
					results = append(results, decoded{})
				}
				results[c.seq] = d
				mu.Unlock()
				select { // decoded strings do not alias data: reuse it
				case free <- c:
				default:
				}
			}
		})
	}

	// Values live in the LSM tree next to their keys: reading them in place
	// is cheaper than letting the iterator prefetch copies.
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
	seq := 0
	next := func() *rawChunk {
		select {
		case c := <-free:
			c.reset(seq)
			return c
		default:
			c := &rawChunk{data: make([]byte, 0, 64<<10), offs: make([]int, 0, 2*loadChunk+1)}
			c.reset(seq)
			return c
		}
	}
	c := next()
	var err error
	for it.Rewind(); it.Valid() && !failed.Load(); it.Next() {
		item := it.Item()
		if err = item.Value(func(v []byte) error { c.add(item.Key(), v); return nil }); err != nil {
			err = fmt.Errorf("store: read record %q: %w", item.Key(), err)
			break
		}
		if c.len() == loadChunk {
			chunks <- c
			seq++
			c = next()
		}
	}
	it.Close()
	if c.len() > 0 {
		chunks <- c
	}
	close(chunks)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	n := 0
	for _, d := range results {
		if d.err != nil {
			return nil, d.err // the first failing record in key order
		}
		n += len(d.recs)
	}
	if n == 0 {
		return nil, nil
	}
	out := make([]T, 0, n)
	for _, d := range results {
		out = append(out, d.recs...)
	}
	return out, nil
}
