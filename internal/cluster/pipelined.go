package cluster

import (
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tafweej/tafweej/store"
)

// Appends, one in flight at a time (store/pipe.go carries the turns
// queued behind an append in the next one).
//
// Several appends in flight, each stating the sequence and the message id
// it follows (Nats-Expected-Last-Msg-Id), were built and dropped: when a
// deposed owner had three in flight after a new owner's takeover record,
// the R3 stream (nats-server 2.15.2) refused them, as it should, but then
// refused the new owner's next append as following the wrong sequence
// (without message ids) or never answered it (with them). The writer keeps
// the accounting of appends in flight (issued, broken) so that a failed
// append is followed by one that expects the last acknowledged record.

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
	m := nats.NewMsg(l.subject)
	m.Data = body
	m.Header.Set(hdrOwner, l.id)
	m.Header.Set(hdrEpoch, strconv.FormatUint(l.epoch, 10))
	if takeover {
		m.Header.Set(hdrTakeover, "1")
	}
	opts := []jetstream.PublishOpt{jetstream.WithExpectLastSequence(l.issued), jetstream.WithExpectStream(l.stream)}
	fut, err := l.js.PublishMsgAsync(m, opts...)
	if err != nil {
		return nil, fmt.Errorf("cluster: append to %s: %w", l.stream, err)
	}
	after := l.issued
	l.issued++
	l.inflight++
	l.countInflight()
	sent := time.Now()
	return func() (uint64, error) {
		seq, err := l.acked(fut, after)
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
func (l *Log) acked(fut jetstream.PubAckFuture, after uint64) (uint64, error) {
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
			l.issued, l.broken = l.last, nil
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
	l.last = ack.Sequence
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
