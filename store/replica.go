package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// Replication: a store whose every synced write first goes to a log.
//
// With a Replicator set (SetReplicator), each write of the durable state
// (Commit, CommitOutbox, API keys, devices, webhook endpoints) is handed to
// the Replicator as one unit of Ops before Badger writes it, and Badger
// then writes the ops together with the log sequence the Replicator
// returned (key m/logseq), in the same synced transaction. If Append fails
// nothing is written and the write fails with its error: the caller (the
// owner loop) rolls back and answers nobody. Writes are serialised, so the
// Badger order is the log order.
//
// If Badger fails after the log accepted the ops, the store is behind its
// own log: every later write fails with ErrReplicaBehind and the owner
// must step down (a standby catches up from the log).
//
// A standby has no Replicator: it writes what it reads from the log with
// ApplyLog. LogSeq reports the last sequence applied either way. Raw
// sensor history, webhook delivery attempts and the schema marker are
// local to each instance and never replicated.

// ErrReplicaBehind: the log accepted a write that Badger then failed to
// write; the store refuses writes until it is reopened and caught up.
var ErrReplicaBehind = errors.New("store: behind its log after a failed write")

// keyLogSeq holds the last log sequence applied (8 bytes, big endian).
const keyLogSeq = "m/logseq"

// Op is one replicated write: a put, or a delete when Val is nil.
type Op struct{ Key, Val []byte }

// Replicator appends a unit of ops to the log and returns its sequence;
// on error the ops are not in the log (or, if unknown, the caller treats
// them as not acknowledged).
type Replicator interface {
	Append(ops []Op) (seq uint64, err error)
}

// SetReplicator makes every later replicated write go through r first;
// nil stops replicating. Set it before the store is used for writes.
func (s *Badger) SetReplicator(r Replicator) {
	s.replMu.Lock()
	defer s.replMu.Unlock()
	s.repl = r
	s.replBroken = nil
}

// LogSeq is the last log sequence applied to the store (0 if none).
func (s *Badger) LogSeq() (uint64, error) {
	var seq uint64
	err := s.view(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(keyLogSeq))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("store: %q holds %d bytes, want 8", keyLogSeq, len(v))
			}
			seq = binary.BigEndian.Uint64(v)
			return nil
		})
	})
	return seq, err
}

// ApplyLog writes ops read from the log at sequence seq, with seq, in one
// synced transaction (a standby catching up). It does not replicate.
func (s *Badger) ApplyLog(seq uint64, ops []Op) error {
	w := make([]op, 0, len(ops)+1)
	for _, o := range ops {
		w = append(w, op{key: o.Key, val: o.Val})
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return s.txn(append(w, seqOp(seq)))
}

func seqOp(seq uint64) op {
	return op{key: []byte(keyLogSeq), val: binary.BigEndian.AppendUint64(nil, seq)}
}

// replicate writes ops through the chain of writes (pipe.go): appended
// to the log first, if there is one, and written with the sequence the
// log gave.
func (s *Badger) replicate(ops []op) error {
	finish, err := s.start(ops, nil, true)
	if err != nil {
		return err
	}
	return finish()
}
