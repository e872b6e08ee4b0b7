package store

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"

	"github.com/tafweej/tafweej/scheduler"
)

// StreamLoader is Load for a restart that never holds every booking in
// one slice: *Badger implements it; engine uses it when the store does and
// Load otherwise.
type StreamLoader interface {
	// LoadStream reads, in one read transaction, every record Load returns
	// but the bookings into rest (rest.Bookings is nil) and calls start with
	// it and an estimate of the number of bookings (from the database's
	// tables: it may be off either way, 0 if unknown); then it calls each with the bookings in key order (by id), a chunk
	// at a time, archived dates' bookings left out as Load does. A chunk is
	// reused once each returns. An error from start or each stops the load
	// and is returned as is; other errors are Load's.
	LoadStream(start func(rest scheduler.Snapshot, bookings int) error, each func([]scheduler.Booking) error) error
}

var _ StreamLoader = (*Badger)(nil)

func (s *Badger) LoadStream(start func(rest scheduler.Snapshot, bookings int) error, each func([]scheduler.Booking) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return s.db.View(func(txn *badger.Txn) error {
		rest, err := s.loadRest(txn)
		if err != nil {
			return err
		}
		pending, err := pendingArchived(txn)
		if err != nil {
			return err
		}
		if err := start(rest, s.estimateKeys(prefixBooking)); err != nil {
			return err
		}
		return streamPrefix(txn, prefixBooking, s.loadWorkers, func(bs []scheduler.Booking) error {
			if len(pending) > 0 {
				bs = slices.DeleteFunc(bs, func(b scheduler.Booking) bool {
					date, ok := pending[b.ID]
					return ok && date == b.Date
				})
			}
			if len(bs) == 0 {
				return nil
			}
			return each(bs)
		})
	})
}

// pendingArchived maps each booking still to be moved to the archive to
// its archived date (dropArchived's set).
func pendingArchived(txn *badger.Txn) (map[string]string, error) {
	days, err := loadPrefix[scheduler.ArchivedDay](txn, prefixArchiveDay, 1)
	if err != nil {
		return nil, err
	}
	pending := map[string]string{} // booking id → its archived date
	for _, d := range days {
		for _, id := range d.Pending {
			pending[id] = d.Date
		}
	}
	return pending, nil
}

// streamPrefix decodes every record under prefix and calls each with them
// in key order, a chunk at a time, from one goroutine at a time. Workers
// decode chunks while the caller's goroutine iterates; a chunk's slice is
// reused once each returns. It stops at the first error: a record that
// does not decode (the first in key order) or each's.
func streamPrefix[T any](txn *badger.Txn, prefix string, workers int, each func([]T) error) error {
	workers = max(workers, 1)
	var zero T
	_, bookings := any(&zero).(*scheduler.Booking)
	type decoded struct {
		seq  int
		recs []T
		err  error
	}
	var (
		failed atomic.Bool
		errMu  sync.Mutex // guards firstErr
		first  error
	)
	fail := func(err error) {
		errMu.Lock()
		if first == nil {
			first = err
		}
		errMu.Unlock()
		failed.Store(true)
	}
	chunks := make(chan *rawChunk, 2*workers)
	free := make(chan *rawChunk, 3*workers) // raw chunks to reuse
	freeRecs := make(chan []T, 3*workers+2) // decoded slices to reuse
	done := make(chan decoded, 2*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var nm *names // bookings: the worker's interned strings
			if bookings {
				nm = newNames()
			}
			for c := range chunks {
				var recs []T
				select {
				case recs = <-freeRecs:
				default:
					recs = make([]T, 0, loadChunk)
				}
				recs = recs[:c.len()]
				d := decoded{seq: c.seq, recs: recs}
				for i := range d.recs {
					if bookings && decodeBookingFastNames(c.value(i), any(&d.recs[i]).(*scheduler.Booking), nm) {
						continue
					}
					if d.err = decode(c.key(i), c.value(i), &d.recs[i]); d.err != nil {
						break
					}
				}
				done <- d
				select { // decoded strings do not alias data: reuse it
				case free <- c:
				default:
				}
			}
		})
	}
	// The consumer hands chunks to each in key order.
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		waiting := map[int]decoded{}
		next := 0
		for d := range done {
			waiting[d.seq] = d
			for {
				d, ok := waiting[next]
				if !ok {
					break
				}
				delete(waiting, next)
				next++
				if failed.Load() {
					continue // drain
				}
				if d.err != nil {
					fail(d.err)
					continue
				}
				if err := each(d.recs); err != nil {
					fail(err)
					continue
				}
				clear(d.recs) // drop references to the decoded strings
				select {
				case freeRecs <- d.recs[:0]:
				default:
				}
			}
		}
	}()

	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
	seq := 0
	nextRaw := func() *rawChunk {
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
	c := nextRaw()
	for it.Rewind(); it.Valid() && !failed.Load(); it.Next() {
		item := it.Item()
		if err := item.Value(func(v []byte) error { c.add(item.Key(), v); return nil }); err != nil {
			fail(fmt.Errorf("store: read record %q: %w", item.Key(), err))
			break
		}
		if c.len() == loadChunk {
			chunks <- c
			seq++
			c = nextRaw()
		}
	}
	it.Close()
	if c.len() > 0 && !failed.Load() {
		chunks <- c
	}
	close(chunks)
	wg.Wait()
	close(done)
	<-consumed
	return first
}

// estimateKeys is the number of keys of the tables that may hold keys
// under prefix: keys of other prefixes in the same tables, and
// overwritten or deleted ones, count too, and the memtables' are left
// out.
func (s *Badger) estimateKeys(prefix string) int {
	lo := []byte(prefix)
	hi := append([]byte(prefix[:len(prefix)-1]), prefix[len(prefix)-1]+1) // just past the prefix
	n := 0
	for _, t := range s.db.Tables() {
		if bytes.Compare(t.Right, lo) >= 0 && bytes.Compare(t.Left, hi) < 0 {
			n += int(t.KeyCount)
		}
	}
	return n
}
