package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/tafweej/tafweej/scheduler"
)

// DefaultHistoryTTL is how long raw sensor messages are kept when
// Options.HistoryTTL is zero.
const DefaultHistoryTTL = 7 * 24 * time.Hour

// Options configure Open. The zero value means the defaults.
type Options struct {
	// Logger receives Badger's warnings and errors, and the store's own
	// (failed history writes). Nil discards them.
	Logger *slog.Logger
	// HistoryTTL is how long AppendHistory keeps a message; zero means
	// DefaultHistoryTTL.
	HistoryTTL time.Duration
	// InMemory keeps everything in memory and nothing on disk: for tests
	// only. Nothing survives Close, and writes are not synced.
	InMemory bool
	// MemTableSize is the size of a Badger memtable in bytes, which bounds
	// one Commit to 15% of it (ErrTooBig beyond); zero means 64 MiB. For
	// tests of big commits: a few MiB make ErrTooBig cheap to reach.
	MemTableSize int64
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.HistoryTTL <= 0 {
		o.HistoryTTL = DefaultHistoryTTL
	}
	return o
}

// Badger is the Store on a Badger database. Its methods are safe for
// concurrent use.
type Badger struct {
	db   *badger.DB
	hist *historyWriter

	// mu guards closed. Every operation holds it for reading while it uses
	// db, so Close (which holds it for writing) waits for them to finish.
	mu     sync.RWMutex
	closed bool

	loadWorkers int // goroutines decoding records in Load
}

var _ Store = (*Badger)(nil)

// badgerOptions are the Badger settings of every database of the store,
// sized for a small server (2 cores): a site's state is at most a few
// hundred MB, read once at start and then written in small synced batches.
func badgerOptions(dir string, o Options) badger.Options {
	bo := badger.DefaultOptions(dir).
		// Every acknowledged record must be on disk: each commit fsyncs
		// the memtable's write-ahead log (and the value log, if used).
		WithSyncWrites(true).
		WithLogger(slogAdapter{o.Logger}).
		// A memtable bounds the size of one transaction to 15% of it
		// (ErrTooBig): 64 MiB allows ~9.6 MB or ~100k records per Commit,
		// enough for re-planning a whole day at once.
		WithMemTableSize(64 << 20).
		WithNumMemtables(3).
		// All records are small and kept in the LSM tree with their keys
		// (no value log reads at Load); the value log only takes
		// pathological values over 1 MB.
		WithValueThreshold(1 << 20).
		WithValueLogFileSize(128 << 20).
		// After Load (one scan of every block, which no cache helps), the
		// only reads are API key lookups and backups.
		WithBlockCacheSize(32 << 20).
		WithIndexCacheSize(0). // table indexes stay in memory: a few MB
		WithNumCompactors(2).  // two cores; Badger needs at least 2
		WithCompression(options.Snappy).
		// Records are written by one owner goroutine, blind (no reads in
		// write transactions): conflict detection would only cost memory.
		WithDetectConflicts(false).
		// Badger's metrics are process-global expvars.
		WithMetricsEnabled(false).
		WithNumGoroutines(4) // Backup's stream workers
	if o.InMemory {
		bo = bo.WithDir("").WithValueDir("").WithInMemory(true)
	}
	if o.MemTableSize > 0 {
		// A value must fit in one transaction.
		bo = bo.WithMemTableSize(o.MemTableSize).WithValueThreshold(min(bo.ValueThreshold, o.MemTableSize/10))
	}
	return bo
}

// Open opens (creating it if needed) the store in dir. It fails with an
// error wrapping ErrSchema if the database was written by a newer schema,
// and with Badger's lock error if another process has it open.
func Open(dir string, opts Options) (*Badger, error) {
	opts = opts.withDefaults()
	if dir == "" && !opts.InMemory {
		return nil, errors.New("store: open: no directory given")
	}
	db, err := badger.Open(badgerOptions(dir, opts))
	if err != nil {
		return nil, fmt.Errorf("store: open %q: %w", dir, err)
	}
	if err := initSchema(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %q: %w", dir, err)
	}
	s := &Badger{db: db, loadWorkers: runtime.GOMAXPROCS(0)}
	s.hist = newHistoryWriter(db, opts.Logger, opts.HistoryTTL)
	return s, nil
}

// initSchema writes the schema marker of a new database, or checks the one
// of an existing database.
func initSchema(db *badger.DB) error {
	err := db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(keySchema))
		if err != nil {
			return err
		}
		return item.Value(checkMarker)
	})
	if !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}
	val, err := encode(schemaMarker{App: "tafweej"})
	if err != nil {
		return err
	}
	return db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(keySchema), val) })
}

// op is one write of a Commit: a put, or a delete when val is nil.
type op struct{ key, val []byte }

// encodeEffects turns the record effects into writes, in order (a later
// write of the same key wins). It fails, naming the effect, on an effect
// type it does not know or a record without its key.
func encodeEffects(effects []scheduler.Effect) ([]op, error) {
	ops := make([]op, 0, len(effects))
	for i, e := range effects {
		var (
			key []byte
			rec any
			bad string // what is wrong with the record's key, if anything
		)
		switch e := deref(e).(type) {
		case nil:
			return nil, fmt.Errorf("store: effect %d: nil effect", i)
		case scheduler.Event:
			continue
		case scheduler.PutBooking:
			key, rec = bookingKey(e.Booking.ID), &e.Booking
			if e.Booking.ID == "" {
				bad = "booking id is empty"
			}
		case scheduler.PutIdempotency:
			key, rec = idempotencyKey(e.Record.Operator, e.Record.Key), &e.Record
			bad = checkIdempotency(e.Record.Operator, e.Record.Key)
		case scheduler.DeleteIdempotency:
			key = idempotencyKey(e.Operator, e.Key)
			bad = checkIdempotency(e.Operator, e.Key)
		case scheduler.PutScan:
			key, rec = scanKey(e.Record.ScanID), &e.Record
			if e.Record.ScanID == "" {
				bad = "scan id is empty"
			}
		case scheduler.DeleteScan:
			key = scanKey(e.ScanID)
			if e.ScanID == "" {
				bad = "scan id is empty"
			}
		case scheduler.PutSensor:
			key, rec = sensorKey(e.State.Sensor), &e.State
			if e.State.Sensor == "" {
				bad = "sensor is empty"
			}
		case scheduler.PutZone:
			key, rec = zoneKey(e.State.Zone), &e.State
			if e.State.Zone == "" {
				bad = "zone is empty"
			}
		case scheduler.PutClosure:
			key, rec = closureKey(e.Closure.ID), &e.Closure
			if e.Closure.ID == "" {
				bad = "closure id is empty"
			}
		case scheduler.PutRequest:
			key, rec = requestKey(e.Request.ID), &e.Request
			if e.Request.ID == "" {
				bad = "request id is empty"
			}
		case scheduler.PutCut:
			key, rec = cutKey(e.Cut.ID), &e.Cut
			if e.Cut.ID == "" {
				bad = "capacity cut id is empty"
			}
		default:
			return nil, fmt.Errorf("store: effect %d: unknown effect type %T", i, e)
		}
		if bad != "" {
			return nil, fmt.Errorf("store: effect %d (%T): %s", i, e, bad)
		}
		o := op{key: key}
		if rec != nil {
			val, err := encode(rec)
			if err != nil {
				return nil, fmt.Errorf("store: effect %d (%T): encode %q: %w", i, e, key, err)
			}
			o.val = val
		}
		ops = append(ops, o)
	}
	return ops, nil
}

func checkIdempotency(operator, key string) string {
	switch {
	case operator == "":
		return "operator is empty"
	case strings.IndexByte(operator, 0) >= 0:
		return fmt.Sprintf("operator %q holds a NUL byte", operator)
	case key == "":
		return "idempotency key is empty"
	}
	return ""
}

// deref accepts pointers to effects too: *PutBooking has PutBooking's
// methods, so it is an Effect as well.
func deref(e scheduler.Effect) scheduler.Effect {
	switch p := e.(type) {
	case *scheduler.PutBooking:
		if p != nil {
			return *p
		}
	case *scheduler.PutIdempotency:
		if p != nil {
			return *p
		}
	case *scheduler.DeleteIdempotency:
		if p != nil {
			return *p
		}
	case *scheduler.PutScan:
		if p != nil {
			return *p
		}
	case *scheduler.DeleteScan:
		if p != nil {
			return *p
		}
	case *scheduler.PutSensor:
		if p != nil {
			return *p
		}
	case *scheduler.PutZone:
		if p != nil {
			return *p
		}
	case *scheduler.PutClosure:
		if p != nil {
			return *p
		}
	case *scheduler.PutRequest:
		if p != nil {
			return *p
		}
	case *scheduler.PutCut:
		if p != nil {
			return *p
		}
	case *scheduler.Event:
		if p != nil {
			return *p
		}
	default:
		return e
	}
	return nil // a nil pointer
}

// Commit writes the effects' records in one transaction and returns once it
// is synced to disk. Events are ignored; a batch without records writes
// nothing. On any error nothing was written. A batch over Badger's
// transaction limit fails with ErrTooBig.
func (s *Badger) Commit(effects []scheduler.Effect) error {
	ops, err := encodeEffects(effects)
	if err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	if len(ops) == 0 {
		return nil
	}
	err = s.db.Update(func(txn *badger.Txn) error {
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
	})
	if errors.Is(err, badger.ErrTxnTooBig) {
		size := 0
		for _, o := range ops {
			size += len(o.key) + len(o.val)
		}
		return fmt.Errorf("%w: %d records (%d bytes), limit %d records or %d bytes", ErrTooBig,
			len(ops), size, s.db.MaxBatchCount()-1, s.db.MaxBatchSize()-1)
	}
	if err != nil {
		return fmt.Errorf("store: commit of %d records: %w", len(ops), err)
	}
	return nil
}

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

// PutKey stores an API key, synced. A key with the same hash is replaced.
func (s *Badger) PutKey(k APIKey) error {
	if k.Hash == "" {
		return errors.New("store: put key: hash is empty")
	}
	val, err := encode(&k)
	if err != nil {
		return fmt.Errorf("store: put key: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(apiKeyKey(k.Hash), val) }); err != nil {
		return fmt.Errorf("store: put key: %w", err)
	}
	return nil
}

// LookupKey returns the key with that hash, or ErrNotFound.
func (s *Badger) LookupKey(hash string) (APIKey, error) {
	if hash == "" {
		return APIKey{}, ErrNotFound
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return APIKey{}, ErrClosed
	}
	var k APIKey
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(apiKeyKey(hash))
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error { return decode(item.Key(), v, &k) })
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return APIKey{}, ErrNotFound
	}
	if err != nil {
		return APIKey{}, err
	}
	return k, nil
}

// DeleteKey removes an API key, synced; ErrNotFound if there is none.
func (s *Badger) DeleteKey(hash string) error {
	if hash == "" {
		return ErrNotFound
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	err := s.db.Update(func(txn *badger.Txn) error {
		if _, err := txn.Get(apiKeyKey(hash)); err != nil {
			return err
		}
		return txn.Delete(apiKeyKey(hash))
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: delete key: %w", err)
	}
	return nil
}

// ListKeys returns every API key, sorted by hash.
func (s *Badger) ListKeys() ([]APIKey, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	var keys []APIKey
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		keys, err = loadPrefix[APIKey](txn, prefixKey, 1)
		return err
	})
	return keys, err
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

// Backup writes a consistent full backup (Badger's backup format: every
// live key at one read timestamp, history included) to w. Restore reads it.
func (s *Badger) Backup(w io.Writer) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	if _, err := s.db.Backup(w, 0); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}

// Close writes queued history, then flushes and closes the database. Later
// calls return nil; other methods return ErrClosed.
func (s *Badger) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.hist.close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Restore restores a backup made by Backup into dir, which must not exist
// or be empty. The backup is loaded into a temporary directory beside dir
// and checked (schema marker, every record decodes) before it is renamed to
// dir, so a failed restore leaves nothing behind.
func Restore(dir string, r io.Reader) error {
	if dir == "" {
		return errors.New("store: restore: no directory given")
	}
	dir = filepath.Clean(dir)
	if err := checkEmptyDir(dir); err != nil {
		return err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o750); err != nil {
		return fmt.Errorf("store: restore into %q: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".restore-")
	if err != nil {
		return fmt.Errorf("store: restore into %q: %w", dir, err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	if err := loadBackup(tmp, r); err != nil {
		return fmt.Errorf("store: restore into %q: %w", dir, err)
	}
	// Check that this build can read every record before it replaces
	// anything.
	s, err := Open(tmp, Options{})
	if err != nil {
		return fmt.Errorf("store: restore into %q: %w", dir, err)
	}
	_, err = s.Load()
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: restore into %q: %w", dir, err)
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("store: restore into %q: %w", dir, err) // not empty any more
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("store: restore into %q: %w", dir, err)
	}
	done = true
	if err := syncDir(parent); err != nil {
		return fmt.Errorf("store: restore into %q: %w", dir, err)
	}
	return nil
}

// loadBackup loads a backup into a new database in dir and checks that it is
// a tafweej backup.
func loadBackup(dir string, r io.Reader) (err error) {
	db, err := badger.Open(badgerOptions(dir, Options{}.withDefaults()))
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}()
	load := func() (err error) {
		// db.Load trusts its input; frameChecker stops the worst (a huge
		// allocation), this the rest.
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("the backup is corrupt: %v", p)
			}
		}()
		return db.Load(&frameChecker{r: r}, 256)
	}
	if err := load(); err != nil {
		return fmt.Errorf("read backup: %w", err)
	}
	return db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(keySchema))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("the backup has no %q record: it is empty or not a tafweej backup", keySchema)
		}
		if err != nil {
			return err
		}
		return item.Value(checkMarker)
	})
}

// maxBackupFrame bounds one list of a backup. Badger's stream writes lists
// of at most about 100 MB (its soft limit plus one record of at most 1 MB).
const maxBackupFrame = 1 << 30

// frameChecker passes a backup through and fails on a list whose size header
// is over maxBackupFrame: db.Load would allocate whatever a corrupt header
// says. A backup is a sequence of (8-byte little-endian size, protobuf
// KVList of that size).
type frameChecker struct {
	r    io.Reader
	hdr  [8]byte
	nhdr int    // bytes of the current size header seen
	left uint64 // bytes of the current list still to pass
	off  int64  // bytes passed so far
}

func (f *frameChecker) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	for i := 0; i < n; {
		if f.left > 0 {
			k := min(uint64(n-i), f.left)
			i += int(k)
			f.left -= k
			continue
		}
		f.hdr[f.nhdr] = p[i]
		f.nhdr++
		i++
		if f.nhdr == len(f.hdr) {
			f.nhdr = 0
			f.left = binary.LittleEndian.Uint64(f.hdr[:])
			if f.left > maxBackupFrame {
				// Keep this read's bytes from Load: it never sees the
				// whole header.
				return 0, fmt.Errorf("the backup is corrupt or not a backup: a list at byte %d claims %d bytes (at most %d)",
					f.off+int64(i)-8, f.left, maxBackupFrame)
			}
		}
	}
	f.off += int64(n)
	return n, err
}

// checkEmptyDir accepts a directory that does not exist or is empty.
func checkEmptyDir(dir string) error {
	f, err := os.Open(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: restore into %q: %w", dir, err)
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("store: restore into %q: %w", dir, err)
	}
	if len(names) > 0 {
		return fmt.Errorf("store: restore into %q: the directory is not empty and may hold a database; "+
			"move it away or choose another --data directory", dir)
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// slogAdapter passes Badger's warnings and errors to slog; its info and
// debug chatter (every compaction, every write) goes to Debug and nowhere.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Errorf(f string, args ...any)   { a.log(slog.LevelError, f, args) }
func (a slogAdapter) Warningf(f string, args ...any) { a.log(slog.LevelWarn, f, args) }
func (a slogAdapter) Infof(f string, args ...any)    { a.log(slog.LevelDebug, f, args) }
func (a slogAdapter) Debugf(string, ...any)          {}

func (a slogAdapter) log(level slog.Level, f string, args []any) {
	ctx := context.Background()
	if !a.l.Enabled(ctx, level) {
		return
	}
	a.l.Log(ctx, level, strings.TrimSpace(fmt.Sprintf(f, args...)), "component", "badger")
}
