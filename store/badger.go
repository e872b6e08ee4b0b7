package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
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

	// replMu guards repl and replBroken, and serialises the writes that
	// may be replicated (replica.go), so that Badger's order is the log's.
	replMu     sync.Mutex
	repl       Replicator
	replBroken error
	// tail is the last write started and toAppend those waiting for
	// their log append, in order (pipe.go); guarded by replMu.
	tail     *chainEntry
	toAppend []*write
	// wqMu guards wq, the writes whose turn has come, in order, and
	// wqBusy, set while a goroutine writes them (pipe.go).
	wqMu   sync.Mutex
	wq     []*write
	wqBusy bool
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
