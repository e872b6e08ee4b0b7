package store

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Raw sensor history is written in batches. Badger's SyncWrites is set for
// the whole database, so writing each message on its own would cost an fsync
// per counter message, taken from the same disk as acknowledged bookings and
// scans. Batching makes it one fsync per second at most; the price is that a
// crash may lose the last second of history, which the Store contract allows
// (history is for analysis, not for recovery).
const (
	historyFlushEvery = time.Second
	historyFlushAt    = 1024      // queued messages that start a flush early
	historyMaxQueued  = 256 << 10 // beyond this AppendHistory refuses messages
)

// historyWriter queues history entries and writes them from one goroutine.
type historyWriter struct {
	db  *badger.DB
	log *slog.Logger
	ttl time.Duration

	mu      sync.Mutex // guards queued
	queued  []*badger.Entry
	kick    chan struct{} // a flush is wanted now; buffered, capacity 1
	stop    chan struct{} // closed by close
	stopped chan struct{} // closed when the goroutine has written all and returned
}

func newHistoryWriter(db *badger.DB, log *slog.Logger, ttl time.Duration) *historyWriter {
	h := &historyWriter{
		db: db, log: log, ttl: ttl,
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	go h.run()
	return h
}

func (h *historyWriter) append(sensor string, at time.Time, raw []byte) error {
	// Copy raw: the caller may reuse its buffer. The TTL starts now, by the
	// wall clock, because Badger expires entries by the wall clock.
	e := badger.NewEntry(historyKey(sensor, at, raw), append([]byte(nil), raw...)).WithTTL(h.ttl)
	h.mu.Lock()
	n := len(h.queued)
	if n >= historyMaxQueued {
		h.mu.Unlock()
		return fmt.Errorf("store: append history: %d messages are waiting to be written; message of sensor %q dropped", n, sensor)
	}
	h.queued = append(h.queued, e)
	h.mu.Unlock()
	if n+1 == historyFlushAt {
		select {
		case h.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

func (h *historyWriter) run() {
	defer close(h.stopped)
	t := time.NewTicker(historyFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-h.kick:
		case <-h.stop:
			h.flush()
			return
		}
		h.flush()
	}
}

// flush writes the queued entries. A WriteBatch splits them into as many
// transactions as their size needs: history need not be atomic.
func (h *historyWriter) flush() {
	h.mu.Lock()
	entries := h.queued
	h.queued = nil
	h.mu.Unlock()
	if len(entries) == 0 {
		return
	}
	wb := h.db.NewWriteBatch()
	defer wb.Cancel()
	for _, e := range entries {
		if err := wb.SetEntry(e); err != nil {
			h.log.Warn("sensor history not written", "component", "store", "messages", len(entries), "err", err)
			return
		}
	}
	if err := wb.Flush(); err != nil {
		h.log.Warn("sensor history not written", "component", "store", "messages", len(entries), "err", err)
	}
}

// close writes what is queued and stops the goroutine. The caller makes sure
// append is not called any more.
func (h *historyWriter) close() {
	close(h.stop)
	<-h.stopped
}

// AppendHistory queues a raw sensor message, kept for Options.HistoryTTL.
// Messages are written in batches about once a second (see historyWriter),
// so the last second of history may be lost in a crash; Close writes what is
// queued. It fails if too many messages are waiting to be written.
func (s *Badger) AppendHistory(sensor string, at time.Time, raw []byte) error {
	if sensor == "" {
		return errors.New("store: append history: sensor is empty")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return s.hist.append(sensor, at, raw)
}
