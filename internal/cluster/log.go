package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tafweej/tafweej/internal/subjects"
	"github.com/tafweej/tafweej/store"
)

// ErrFenced: the log refused an append because another record follows the
// one this writer expected: another instance owns the site now.
var ErrFenced = errors.New("cluster: fenced: another instance appended to the log")

// ErrNotOwner: an append while this instance's lease is not (or no
// longer surely) valid.
var ErrNotOwner = errors.New("cluster: not the owner, or the lease is not renewed")

// Headers of a log record.
const (
	hdrOwner    = "Tafweej-Owner"    // the appending instance's id
	hdrEpoch    = "Tafweej-Epoch"    // the lease revision it held
	hdrTakeover = "Tafweej-Takeover" // "1" on the takeover record
)

// appendTimeout bounds one append; an append whose outcome is unknown is
// reported as failed (the record may still be in the log: the next append
// is then fenced and the owner steps down, never diverging).
const appendTimeout = 2 * time.Second

// Log is a site's log: appends fenced by expected-last-sequence, reads
// from any sequence.
type Log struct {
	js      jetstream.JetStream
	stream  string
	subject string
	id      string
	max     int // largest record the server takes

	// mu guards last, epoch, valid and fenced: the last sequence appended
	// and acknowledged, the lease revision appends are stamped with, the
	// lease check, and the refusal that ended this writer; and the appends
	// in flight (pipelined.go): issued, inflight and broken.
	mu     sync.Mutex
	last   uint64
	epoch  uint64
	valid  func() bool
	fenced error
	// onFenced is called once, without mu, when an append is refused.
	onFenced func(error)

	issued   uint64 // the sequence the next append must follow (last plus those in flight)
	inflight int    // appends sent and not yet acknowledged or failed
	broken   error  // an append in flight failed: those after it fail too, until none is in flight

	m *Metrics // nil: none
}

// ensureLog creates or updates the site's log stream.
func ensureLog(ctx context.Context, js jetstream.JetStream, site string, replicas int) (jetstream.Stream, error) {
	sub := subjects.For(site)
	return js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        sub.LogStream(),
		Description: "tafweej: the log of site " + site + " (internal/cluster)",
		Subjects:    []string{sub.Log()},
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardNew,
		AllowDirect: true,
	})
}

func newLog(js jetstream.JetStream, nc *nats.Conn, site, id string) *Log {
	sub := subjects.For(site)
	max := int(nc.MaxPayload())
	if max <= 0 {
		max = 1 << 20
	}
	return &Log{js: js, stream: sub.LogStream(), subject: sub.Log(), id: id, max: max - 1024}
}

// startWriting makes the log writable after sequence last, stamped with
// the lease revision epoch, while valid reports true.
func (l *Log) startWriting(last, epoch uint64, valid func() bool, onFenced func(error)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last, l.epoch, l.valid, l.onFenced, l.fenced = last, epoch, valid, onFenced, nil
	l.issued, l.inflight, l.broken = last, 0, nil
}

// stopWriting refuses every later append.
func (l *Log) stopWriting(why error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fenced == nil {
		l.fenced = why
	}
}

// Append appends one unit of ops after the last sequence this writer
// knows, and returns its sequence (store.Replicator). A refused append
// fences the writer for good.
func (l *Log) Append(ops []store.Op) (uint64, error) {
	return l.append(encodeOps(ops), false)
}

func (l *Log) append(body []byte, takeover bool) (uint64, error) {
	ack, err := l.startAppend(body, takeover)
	if err != nil {
		return 0, err
	}
	return ack()
}

// wrongLast reports a refused expected-last-sequence.
func wrongLast(err error) bool {
	var api *jetstream.APIError
	if errors.As(err, &api) {
		return api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
	}
	return false
}

// record is one log record read back.
type record struct {
	seq      uint64
	owner    string
	epoch    uint64
	takeover bool
	ops      []store.Op
	pending  uint64 // records after it in the log when it was read
	size     int    // bytes of its body
}

// lastSeq is the log's last sequence, asked of the stream leader.
func (l *Log) lastSeq(ctx context.Context) (first, last uint64, err error) {
	s, err := l.js.Stream(ctx, l.stream)
	if err != nil {
		return 0, 0, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, 0, err
	}
	return info.State.FirstSeq, info.State.LastSeq, nil
}

// tail delivers every record from sequence from on, in order, to apply,
// until ctx ends or apply fails. A record missing from the sequence (the
// log was purged below it) is an error.
func (l *Log) tail(ctx context.Context, from uint64, apply func(record) error) error {
	cons, err := l.js.OrderedConsumer(ctx, l.stream, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: from,
	})
	if err != nil {
		return fmt.Errorf("cluster: read %s from %d: %w", l.stream, from, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(512))
	if err != nil {
		return fmt.Errorf("cluster: read %s from %d: %w", l.stream, from, err)
	}
	defer it.Stop()
	go func() { <-ctx.Done(); it.Stop() }()
	next := from
	for {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("cluster: read %s: %w", l.stream, err)
		}
		md, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("cluster: read %s: %w", l.stream, err)
		}
		r, err := toRecord(md.Sequence.Stream, m.Headers(), m.Data())
		if err != nil {
			return err
		}
		r.pending = md.NumPending
		if r.seq != next {
			return fmt.Errorf("%w: %s: record %d follows %d", ErrCompacted, l.stream, r.seq, next-1)
		}
		if err := apply(r); err != nil {
			return err
		}
		next++
	}
}

func toRecord(seq uint64, h nats.Header, data []byte) (record, error) {
	ops, err := decodeOps(data)
	if err != nil {
		return record{}, fmt.Errorf("record %d: %w", seq, err)
	}
	epoch, _ := strconv.ParseUint(h.Get(hdrEpoch), 10, 64)
	return record{seq: seq, owner: h.Get(hdrOwner), epoch: epoch, takeover: h.Get(hdrTakeover) == "1", ops: ops, size: len(data)}, nil
}
