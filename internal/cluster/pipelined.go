package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tafweej/tafweej/store"
)

// Appends in flight (store.AsyncReplicator): the owner loop writes its
// turns pipelined (engine/pipeline.go), so several appends of one owner
// are in flight at once.
//
// Each append carries a message id of its own (Nats-Msg-Id) and states
// both the sequence it follows (expected-last-sequence: the last
// acknowledged one plus those in flight before it) and, when known, the
// id of the record it follows (expected-last-msg-id). The sequence alone
// would not fence a pipeline: if a deposed owner's append N is refused
// because a new owner's takeover record took sequence S+1, its append N+1,
// which expects S+1, would be taken. The id it expects is its own N's, so
// it is refused too. Only the first append after startWriting (nothing in
// flight) may go without an expected id, as every append did before.
//
// When an append fails, every append in flight after it fails too (the
// log refuses them, or the writer reports them failed), and the next ones
// are refused until none is in flight; the writer then follows its last
// acknowledged record again. An append acknowledged after an earlier one
// failed means the log holds records the owner answered as failed: the
// writer is fenced and the owner steps down (a standby applies the log).

// errCodeWrongLastMsgID is JetStream's "wrong last msg ID" (the server's
// JSStreamWrongLastMsgIDErrF; nats.go has no constant for it).
const errCodeWrongLastMsgID jetstream.ErrorCode = 10070

// StartAppend sends one unit of ops after every append started before it
// and returns at once; ack waits for its sequence (store.AsyncReplicator).
func (l *Log) StartAppend(ops []store.Op) (func() (uint64, error), error) {
	return l.startAppend(encodeOps(ops), false)
}

func (l *Log) startAppend(body []byte, takeover bool) (func() (uint64, error), error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fenced != nil {
		return nil, l.fenced
	}
	if l.valid == nil || !l.valid() {
		return nil, ErrNotOwner
	}
	if len(body) > l.max {
		return nil, fmt.Errorf("%w: a log record of %d bytes is over the NATS max payload (%d bytes)", store.ErrTooBig, len(body), l.max)
	}
	if l.broken != nil {
		return nil, fmt.Errorf("cluster: not appended: an append before it failed: %w", l.broken)
	}
	if l.nonce == "" {
		var b [6]byte
		rand.Read(b[:])
		l.nonce = hex.EncodeToString(b[:])
	}
	l.count++
	id := l.nonce + "." + strconv.FormatUint(l.count, 10)
	m := nats.NewMsg(l.subject)
	m.Data = body
	m.Header.Set(hdrOwner, l.id)
	m.Header.Set(hdrEpoch, strconv.FormatUint(l.epoch, 10))
	if takeover {
		m.Header.Set(hdrTakeover, "1")
	}
	opts := []jetstream.PublishOpt{jetstream.WithMsgID(id), jetstream.WithExpectLastSequence(l.issued), jetstream.WithExpectStream(l.stream)}
	if l.issuedID != "" {
		opts = append(opts, jetstream.WithExpectLastMsgID(l.issuedID))
	}
	fut, err := l.js.PublishMsgAsync(m, opts...)
	if err != nil {
		return nil, fmt.Errorf("cluster: append to %s: %w", l.stream, err)
	}
	after := l.issued
	l.issued++
	l.issuedID = id
	l.inflight++
	l.countInflight()
	sent := time.Now()
	return func() (uint64, error) {
		seq, err := l.acked(fut, after, id)
		if l.m != nil {
			l.m.appended(time.Since(sent))
		}
		return seq, err
	}, nil
}

// countInflight reports the appends in flight; mu is held.
func (l *Log) countInflight() {
	if l.m != nil {
		l.m.inflight.Set(float64(l.inflight))
	}
}

// acked waits for the outcome of the append that follows sequence after.
func (l *Log) acked(fut jetstream.PubAckFuture, after uint64, id string) (uint64, error) {
	var ack *jetstream.PubAck
	var err error
	timer := time.NewTimer(appendTimeout)
	select {
	case ack = <-fut.Ok():
	case err = <-fut.Err():
	case <-timer.C:
		err = fmt.Errorf("no acknowledgement in %s", appendTimeout)
	}
	timer.Stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inflight--
	l.countInflight()
	defer func() {
		if l.inflight == 0 && l.broken != nil && l.fenced == nil {
			// Follow the last acknowledged record again: if a failed
			// append is in the log after all, the next one is refused
			// and fences this writer, as an append whose outcome was
			// unknown always did.
			l.issued, l.issuedID, l.broken = l.last, l.lastID, nil
		}
	}()
	switch {
	case err != nil && l.broken != nil:
		return 0, fmt.Errorf("cluster: not appended: an append before it failed: %w", l.broken)
	case err != nil && wrongLast(err):
		l.broken = err
		l.fence(fmt.Errorf("%w (expected to follow %d)", ErrFenced, after))
		return 0, l.fenced
	case err != nil:
		l.broken = err
		return 0, fmt.Errorf("cluster: append to %s: %w", l.stream, err)
	case l.broken != nil || ack.Sequence != after+1:
		// In the log, though an append before it failed (or not where
		// this writer expected): it holds a record this owner answers
		// as failed. Step down.
		l.fence(fmt.Errorf("%w: record %d was appended though an append before it failed", ErrFenced, ack.Sequence))
		return 0, l.fenced
	}
	l.last, l.lastID = ack.Sequence, id
	return ack.Sequence, nil
}

// fence ends this writer for good; mu is held.
func (l *Log) fence(err error) {
	if l.fenced != nil {
		return
	}
	l.fenced = err
	if f := l.onFenced; f != nil {
		go f(err)
	}
}
