package store

import (
	"errors"
	"fmt"
	"sync"

	"github.com/dgraph-io/badger/v4"

	"github.com/tafweej/tafweej/scheduler"
)

// Pipelined writes: the owner loop's turns written while the next ones are
// applied (engine/pipeline.go).
//
// A Pipe starts a synced write and returns at once; the write's wait
// function returns when it is durable (or failed). Every write of the
// store (pipelined or not) is one link of a chain: it is written to
// Badger only after the write started before it, so Badger's order is
// the order the writes were started in, which is the log's order when
// there is a Replicator (replica.go).
//
// Group commit across turns, at both ends. The log gets one append at a
// time (each stating the sequence it follows, as always), but an append
// carries every write started and not yet appended when its turn comes
// (up to maxAppendBytes): while one append is in flight the next turns
// queue up and go in the next one. Likewise the writes whose appends are
// back while Badger writes others are written together in the next
// synced transaction. So a pipelined owner loop has its turns written
// with one append and one fsync for several of them, in order.
//
// Several appends in flight, each stating the one it follows, were tried
// and dropped: when a deposed owner had several in flight, JetStream
// (nats-server 2.15.2, R3) refused them but then refused or never
// answered the new owner's next append (docs/cluster.md, "Throughput").
//
// Failure: once a write of a Pipe fails, every write of that Pipe started
// after it fails too and none of it is written, until Reset: the owner
// loop applied those turns on top of the failed one, so they cannot stand
// without it. Writes that do not go through the Pipe (API keys, devices)
// are not failed by it (though one that shared the failed append fails
// with it).

// maxAppendBytes bounds the records one log append carries when it takes
// the writes queued behind its first (well under NATS's 1 MiB payload).
const maxAppendBytes = 256 << 10

// AppendLimiter is a Replicator that takes appends of at most
// MaxAppendBytes bytes of keys and values (each op counted with 20 bytes
// more): a write over it fails with ErrTooBig when it is started, so that
// the owner loop splits its turn as it does one too big for Badger.
type AppendLimiter interface {
	MaxAppendBytes() int
}

// Pipeliner is a store that can write the owner loop's turns pipelined.
type Pipeliner interface {
	// Pipe returns a new pipe of writes; the engine has one.
	Pipe() Pipe
}

// Pipe is a sequence of pipelined writes; its methods are called from one
// goroutine at a time (Start from one, the wait functions in the order of
// their Starts from one, Reset when none is in flight).
type Pipe interface {
	// Start starts the synced write of the effects' records and the
	// deliveries (none for nil) after every write started before it, and
	// returns the function that waits until it is durable: nil, or the
	// error that kept it from being written. A non-nil error from Start
	// means nothing was started (ErrTooBig, ErrClosed, an encoding error,
	// or the pipe has failed). Every wait function must be called, in
	// order.
	Start(effects []scheduler.Effect, out []WebhookDelivery) (wait func() error, err error)
	// Reset ends a failure: the next writes are started anew. Call it
	// only when every wait function has returned.
	Reset()
}

// chainEntry is one write of the chain (guarded as Badger.tail says).
type chainEntry struct {
	prev *chainEntry
	done chan struct{} // closed when written or failed
}

// badgerPipe is a Badger store's Pipe.
type badgerPipe struct {
	s *Badger
	// mu guards err: the failure of a write of the pipe, until Reset.
	mu  sync.Mutex
	err error
}

// Pipe returns a pipe of writes (Pipeliner).
func (s *Badger) Pipe() Pipe { return &badgerPipe{s: s} }

var _ Pipeliner = (*Badger)(nil)

func (p *badgerPipe) Start(effects []scheduler.Effect, out []WebhookDelivery) (func() error, error) {
	if err := p.failed(); err != nil {
		return nil, err
	}
	ops, err := encodeOutbox(effects, out)
	if err != nil {
		return nil, err
	}
	return p.s.start(ops, p, false)
}

func (p *badgerPipe) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = nil
}

func (p *badgerPipe) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return fmt.Errorf("store: not written: an earlier write of the pipeline failed: %w", p.err)
	}
	return nil
}

func (p *badgerPipe) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = err
	}
}

// start queues the synced write of ops after the last one started (through
// the log first, if replicated) and returns the function that finishes
// it; pipe, if not nil, is failed by its failure. now says that the
// caller calls that function at once (a write not pipelined): the write
// is then finished on the caller's goroutine, in the call, rather than on
// one of its own that the caller would only wait for (a goroutine started
// and woken for each write, about 35 µs of a synced write's latency at
// one client on this VM).
func (s *Badger) start(ops []op, pipe *badgerPipe, now bool) (func() error, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	if len(ops) == 0 {
		return func() error { return nil }, nil
	}
	s.replMu.Lock()
	defer s.replMu.Unlock()
	if s.replBroken != nil {
		return nil, fmt.Errorf("%w: %v", ErrReplicaBehind, s.replBroken)
	}
	// Too big for one transaction is known now, before anything is sent
	// (the owner loop splits such a turn between its calls).
	if err := s.fits(ops, s.repl != nil); err != nil {
		return nil, err
	}
	w := &write{s: s, ops: ops, pipe: pipe}
	if s.repl != nil {
		w.out = make([]Op, len(ops))
		for i, o := range ops {
			w.out[i] = Op{Key: o.key, Val: o.val}
			w.size += len(o.key) + len(o.val) + 20
		}
		if l, ok := s.repl.(AppendLimiter); ok && w.size > l.MaxAppendBytes() {
			return nil, fmt.Errorf("%w: %d records (%d bytes) over the log's largest record (%d bytes)", ErrTooBig, len(ops), w.size, l.MaxAppendBytes())
		}
		w.repl = s.repl
		w.appended = make(chan struct{})
		s.toAppend = append(s.toAppend, w)
	}
	w.entry = &chainEntry{prev: s.tail, done: make(chan struct{})}
	s.tail = w.entry
	if now {
		return w.finish, nil // the caller waits at once: it finishes the write
	}
	// Each write finishes on its own goroutine, so that the writes whose
	// appends are back while Badger writes others wait together for the
	// next transaction (flush), whoever waits for them.
	finished := make(chan error, 1)
	go func() { finished <- w.finish() }()
	return sync.OnceValue(func() error { return <-finished }), nil
}

// write is one started write.
type write struct {
	s     *Badger
	ops   []op
	pipe  *badgerPipe
	entry *chainEntry
	// Its append (nil repl: none): out are its ops for the log, size their
	// bytes; the append that carries it sets seq and appendErr, then
	// closes appended.
	repl      Replicator
	out       []Op
	size      int
	appended  chan struct{}
	appendErr error

	// Set before it is queued for Badger (flush), read by the one that
	// writes it; err is then set once, before written is closed.
	logged  bool
	seq     uint64
	err     error
	written chan struct{}
}

// finish waits for the write before it to be queued for Badger, then for
// its own append, queues itself, and waits until Badger has written it,
// synced. Writes queued while Badger writes others are written together,
// in one transaction (one fsync for several turns, in their order).
func (w *write) finish() error {
	if p := w.entry.prev; p != nil {
		<-p.done
		w.entry.prev = nil // the chain behind is done with
	}
	if err := w.resolve(); err != nil {
		if w.pipe != nil {
			w.pipe.fail(err) // before the next write looks
		}
		close(w.entry.done)
		return err
	}
	w.written = make(chan struct{})
	w.s.wqMu.Lock()
	w.s.wq = append(w.s.wq, w)
	w.s.wqMu.Unlock()
	close(w.entry.done)
	w.s.flush()
	<-w.written
	return w.err
}

// resolve waits for the write's append, if any: the sequence the log gave
// it, or the error that keeps it from being written.
func (w *write) resolve() error {
	if w.repl == nil {
		if w.pipe != nil {
			return w.pipe.failed()
		}
		return nil
	}
	w.s.appendFrom(w)
	<-w.appended
	if w.appendErr != nil {
		return fmt.Errorf("store: replicate %d records: %w", len(w.ops), w.appendErr)
	}
	w.logged = true
	if w.pipe != nil {
		if err := w.pipe.failed(); err != nil {
			// The log took a write this store will not: it is behind its
			// log now.
			w.s.setBroken(fmt.Errorf("the log accepted a write after an earlier one failed"))
			return err
		}
	}
	return nil
}

// appendFrom makes the append that carries w, unless an earlier one took
// it: w and the writes started after it that wait for their append, up to
// maxAppendBytes, in one log record. Called in the chain's order, so w is
// first of those waiting.
func (s *Badger) appendFrom(w *write) {
	s.replMu.Lock()
	if len(s.toAppend) == 0 || s.toAppend[0] != w {
		s.replMu.Unlock()
		return // taken by the append before
	}
	n, size := 1, w.size
	for n < len(s.toAppend) && s.toAppend[n].repl == w.repl && size+s.toAppend[n].size <= maxAppendBytes {
		size += s.toAppend[n].size
		n++
	}
	ws := s.toAppend[:n:n]
	s.toAppend = s.toAppend[n:]
	s.replMu.Unlock()
	// A write of a failed pipe is never appended: it follows a failed one.
	carried := ws[:0:0]
	for _, x := range ws {
		if x.pipe != nil {
			if err := x.pipe.failed(); err != nil {
				x.appendErr = err
				close(x.appended)
				continue
			}
		}
		carried = append(carried, x)
	}
	if len(carried) == 0 {
		return
	}
	out := carried[0].out
	if len(carried) > 1 {
		out = make([]Op, 0, len(carried)*len(out))
		for _, x := range carried {
			out = append(out, x.out...)
		}
	}
	seq, err := w.repl.Append(out)
	for _, x := range carried {
		x.seq, x.appendErr = seq, err
		close(x.appended)
	}
}

// flush writes the queued writes, unless another goroutine is writing
// them: then that one writes these too.
func (s *Badger) flush() {
	s.wqMu.Lock()
	if s.wqBusy {
		s.wqMu.Unlock()
		return
	}
	s.wqBusy = true
	for len(s.wq) > 0 {
		batch := s.wq
		s.wq = nil
		s.wqMu.Unlock()
		s.writeBatch(batch)
		s.wqMu.Lock()
	}
	s.wqBusy = false
	s.wqMu.Unlock()
}

// writeBatch writes queued writes, in their order, in one synced
// transaction (each alone if together they are too big), and tells each.
func (s *Badger) writeBatch(batch []*write) {
	live := batch[:0:0]
	for _, w := range batch {
		if w.pipe != nil {
			// A write of its pipe failed in a batch before this one.
			if err := w.pipe.failed(); err != nil {
				if w.logged {
					s.setBroken(fmt.Errorf("the log accepted a write after an earlier one failed"))
				}
				w.done(err)
				continue
			}
		}
		live = append(live, w)
	}
	if len(live) == 0 {
		return
	}
	if len(live) > 1 {
		err := s.writeTogether(live)
		if !errors.Is(err, ErrTooBig) {
			for _, w := range live {
				w.done(err)
			}
			return
		}
	}
	for _, w := range live {
		w.done(s.writeTogether([]*write{w}))
	}
}

// writeTogether writes the ops of ws in one synced transaction, with the
// last log sequence among them.
func (s *Badger) writeTogether(ws []*write) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	logged := false
	var seq uint64
	n := 0
	for _, w := range ws {
		n += len(w.ops)
		if w.logged {
			logged = true
			seq = max(seq, w.seq)
		}
	}
	if s.closed {
		if logged {
			s.setBroken(ErrClosed)
		}
		return ErrClosed
	}
	if err := s.brokenErr(); err != nil {
		return err
	}
	ops := make([]op, 0, n+1)
	for _, w := range ws {
		ops = append(ops, w.ops...)
	}
	if logged {
		ops = append(ops, seqOp(seq))
	}
	if err := s.txn(ops); err != nil {
		if errors.Is(err, ErrTooBig) && len(ws) > 1 {
			return err // the caller writes them one by one
		}
		if logged {
			s.setBroken(err)
			return fmt.Errorf("%w: %v", ErrReplicaBehind, err)
		}
		return err
	}
	return nil
}

// done ends the write with err.
func (w *write) done(err error) {
	w.err = err
	if err != nil && w.pipe != nil {
		w.pipe.fail(err)
	}
	close(w.written)
}

func (s *Badger) setBroken(err error) {
	s.replMu.Lock()
	defer s.replMu.Unlock()
	if s.replBroken == nil {
		s.replBroken = err
	}
}

func (s *Badger) brokenErr() error {
	s.replMu.Lock()
	defer s.replMu.Unlock()
	if s.replBroken != nil {
		return fmt.Errorf("%w: %v", ErrReplicaBehind, s.replBroken)
	}
	return nil
}

// fits reports ErrTooBig if ops (with the log sequence, if logged) are
// over Badger's transaction limit: it sets them in a transaction it then
// discards. s.mu is held for reading.
func (s *Badger) fits(ops []op, logged bool) error {
	// Far under Badger's limits (each entry costs it at most its key, its
	// value and a few bytes of meta): no trial transaction to know it.
	size := 0
	for _, o := range ops {
		size += len(o.key) + len(o.val) + 32
	}
	if int64(len(ops)+1) < s.db.MaxBatchCount()/2 && int64(size) < s.db.MaxBatchSize()/2 {
		return nil
	}
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	if logged {
		ops = append(ops[:len(ops):len(ops)], seqOp(0))
	}
	if err := putOps(txn, ops); errors.Is(err, badger.ErrTxnTooBig) {
		return s.tooBig(ops)
	} else if err != nil {
		return fmt.Errorf("store: commit of %d records: %w", len(ops), err)
	}
	return nil
}
