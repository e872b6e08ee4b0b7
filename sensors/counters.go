package sensors

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tafweej/tafweej/scheduler"
)

// The counter consumer's settings.
const (
	fetchBatch    = 256              // messages asked for per pull request
	fetchWait     = time.Second      // how long a pull request waits for them
	applyBatch    = 256              // most readings applied together (one Engine.DoAll)
	ackWait       = 30 * time.Second // redelivery of a message neither acked nor nakked
	maxAckPending = 4096
	nakDelay      = 2 * fetchWait // redelivery after an owner-loop failure: after the current fetch
)

// applyLinger is how long a batch of readings waits for more while
// readings keep coming (the last batch was applied less than applyLinger
// before this one's first reading arrived). A reading that comes alone is
// applied at once. See counterConsumer.
const applyLinger = 10 * time.Millisecond

// counterConsumer pulls counter messages from the durable consumer and
// applies them. The fetch loop hands the messages, in stream order, to one
// applier, which applies them in batches: all the readings of a batch are
// queued to the owner loop together (Engine.DoAll), in stream order, so
// that one synced write commits many readings and each sensor's readings
// are applied in the order it sent them. While readings keep coming, a
// batch waits up to applyLinger for more: every synced write of the store
// takes the disk from JetStream's own writes (one fsync per message
// published), so fewer and fuller writes let the whole pipeline go faster.
// A message is acked only after the owner loop returned: its checkpoint is
// then durable in the store, so a redelivery (a restart, a lost ack) is
// recognised as a duplicate.
type counterConsumer struct {
	s       *Service
	in      chan jetstream.Msg // fetched messages, in stream order, to the applier
	applied chan struct{}      // closed when the applier has returned
	quit    chan struct{}      // closed by stop
	done    chan struct{}      // closed when the fetch loop has returned

	stopping atomic.Bool

	mu   sync.Mutex // guards cons (re-created by the fetch loop if it vanished)
	cons jetstream.Consumer

	logMu   sync.Mutex // guards lastLog
	lastLog time.Time
}

func startCounters(ctx context.Context, s *Service) (*counterConsumer, error) {
	c := &counterConsumer{s: s, in: make(chan jetstream.Msg, 2*applyBatch), applied: make(chan struct{}),
		quit: make(chan struct{}), done: make(chan struct{})}
	if err := c.ensure(ctx); err != nil {
		return nil, err
	}
	go c.apply()
	go c.loop()
	return c, nil
}

// ensure creates or updates the durable consumer.
func (c *counterConsumer) ensure(ctx context.Context) error {
	cons, err := c.s.js.CreateOrUpdateConsumer(ctx, c.s.subj.CounterStream(), jetstream.ConsumerConfig{
		Durable:       counterDurable,
		Description:   "tafweej: applies people counter readings to the schedule",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxDeliver:    -1,
		MaxAckPending: maxAckPending,
		FilterSubject: c.s.subj.CounterAll(),
	})
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.cons = cons
	c.mu.Unlock()
	return nil
}

func (c *counterConsumer) consumer() jetstream.Consumer {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cons
}

// loop fetches batches until stop. After an error (disconnected, consumer
// or stream gone) it waits with backoff and re-creates the stream and
// consumer if the server lost them.
func (c *counterConsumer) loop() {
	defer close(c.done)
	failures := 0
	for {
		select {
		case <-c.quit:
			return
		default:
		}
		if !c.s.nc.IsConnected() {
			// A pull request sent now would wait in the reconnect buffer
			// and reach the server stale; wait for the connection.
			select {
			case <-c.quit:
				return
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		batch, err := c.consumer().Fetch(fetchBatch, jetstream.FetchMaxWait(fetchWait))
		if err == nil {
			for msg := range batch.Messages() {
				c.in <- msg
			}
			err = batch.Error()
		}
		if err == nil {
			if failures > 0 {
				c.s.log.Info("counter consumer fetching again", "after_failures", failures)
			}
			failures = 0
			continue
		}
		failures++
		c.logf("counter fetch failed; retrying", "err", err, "failures", failures)
		select {
		case <-c.quit:
			return
		case <-time.After(backoff(failures)):
		}
		if c.s.nc.IsConnected() && (failures%5 == 0 || errors.Is(err, jetstream.ErrConsumerNotFound) ||
			errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrStreamNotFound)) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if serr := c.s.ensureStreams(ctx); serr != nil {
				c.logf("counter stream not re-created", "err", serr)
			} else if cerr := c.ensure(ctx); cerr != nil {
				c.logf("counter consumer not re-created", "err", cerr)
			}
			cancel()
		}
	}
}

// logf logs a warning at most every 30 s.
func (c *counterConsumer) logf(msg string, args ...any) {
	c.logMu.Lock()
	defer c.logMu.Unlock()
	if time.Since(c.lastLog) < 30*time.Second {
		return
	}
	c.lastLog = time.Now()
	c.s.log.Warn(msg, args...)
}

// apply applies the fetched messages in batches until stop closes c.in.
func (c *counterConsumer) apply() {
	defer close(c.applied)
	batch := make([]jetstream.Msg, 0, applyBatch)
	var last time.Time // when the last batch was applied
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		msg, ok := <-c.in
		if !ok {
			return
		}
		batch = append(batch[:0], msg)
		// Take what is queued; while readings keep coming, wait up to
		// applyLinger for more.
		linger := time.Since(last) < applyLinger
		if linger {
			timer.Reset(applyLinger) // Go ≥ 1.23: no stale value to drain
		}
	collect:
		for ok && len(batch) < applyBatch {
			var m jetstream.Msg
			if linger {
				select {
				case m, ok = <-c.in:
				case <-timer.C:
					linger = false
					break collect
				}
			} else {
				select {
				case m, ok = <-c.in:
				default:
					break collect
				}
			}
			if ok {
				batch = append(batch, m)
			}
		}
		timer.Stop()
		c.applyBatch(batch)
		last = time.Now()
		clear(batch) // let the messages go
		if !ok {
			return
		}
	}
}

// counterItem is one message of a batch being applied.
type counterItem struct {
	msg jetstream.Msg
	r   scheduler.CounterReading
}

// applyBatch applies a batch of messages: each is decoded and validated
// (a bad one is dead-lettered and acked), the readings are applied
// together, and each message is then acked, or nakked to be redelivered
// if its reading could not be applied. A panic is recovered per message.
func (c *counterConsumer) applyBatch(batch []jetstream.Msg) {
	items := make([]counterItem, 0, len(batch))
	for _, msg := range batch {
		if r, ok := c.prepare(msg); ok {
			items = append(items, counterItem{msg: msg, r: r})
		}
	}
	if len(items) == 0 {
		return
	}
	cmds := make([]scheduler.Command, len(items))
	for i, it := range items {
		cmds[i] = it.r
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	res, errs := c.s.eng.DoAll(ctx, cmds)
	cancel()
	for i, it := range items {
		c.finish(it.msg, it.r, res[i], errs[i])
	}
}

// prepare decodes and validates a counter message; a bad one is
// dead-lettered and acked, and ok is false.
func (c *counterConsumer) prepare(msg jetstream.Msg) (r scheduler.CounterReading, ok bool) {
	s := c.s
	defer func() {
		if v := recover(); v != nil {
			c.poison(msg, s.panics.Recovered("nats_counter", v))
			ok = false
		}
	}()
	hook("nats_counter")
	var delay time.Duration // since the message reached the server
	if md, err := msg.Metadata(); err == nil {
		s.m.pending.Set(float64(md.NumPending))
		delay = max(time.Since(md.Timestamp), 0)
	}
	r, err := decodeCounter(s.subj, msg.Subject(), msg.Headers().Get(jetstream.MsgIDHeader), msg.Data())
	r.Delay = delay
	if err == nil {
		err = validateCounter(s.cfg, r)
	}
	if err != nil {
		s.deadLetter("counter", &nats.Msg{Subject: msg.Subject(), Data: msg.Data(), Header: msg.Headers()}, err)
		_ = msg.Ack() // poison is never redelivered
		return r, false
	}
	return r, true
}

// finish acks a message whose reading the owner loop applied (err nil),
// or naks it so that it is redelivered when it could not be applied.
func (c *counterConsumer) finish(msg jetstream.Msg, r scheduler.CounterReading, res scheduler.Result, err error) {
	s := c.s
	applied := false // the reading is durable: a failure from here on must not say otherwise
	defer func() {
		if v := recover(); v != nil {
			id := s.panics.Recovered("nats_counter", v)
			if applied {
				c.poisonApplied(msg, id)
			} else {
				c.poison(msg, id)
			}
		}
	}()
	if id := internalID(err); id != "" {
		c.poison(msg, id)
		return
	}
	if err != nil {
		c.logf("counter reading not applied; redelivery asked", "sensor", r.Sensor, "seq", r.Seq, "err", err)
		// Not at once: the fetch still running would get it straight
		// back (an engine that stopped would refuse it again and again).
		_ = msg.NakWithDelay(nakDelay)
		return
	}
	applied = true
	hook("nats_counter_applied")
	if s.o.Store != nil {
		if herr := s.o.Store.AppendHistory(r.Sensor, r.At, msg.Data()); herr != nil {
			c.logf("counter history not kept", "sensor", r.Sensor, "err", herr)
		}
	}
	if res.Counter == scheduler.CounterImplausible {
		s.deadLetter("counter", &nats.Msg{Subject: msg.Subject(), Data: msg.Data(), Header: msg.Headers()},
			&invalidError{Reason: reasonImplausible, Rule: res.Rule, Msg: res.RuleDetail})
	}
	if res.Counter == scheduler.CounterInvalid {
		msgErr := "refused by the scheduler"
		if res.Err != nil {
			msgErr = res.Err.Error()
		}
		s.deadLetter("counter", &nats.Msg{Subject: msg.Subject(), Data: msg.Data(), Header: msg.Headers()},
			&invalidError{Reason: reasonRejected, Msg: msgErr})
	}
	_ = msg.Ack()
}

// stop ends the fetch loop after its current fetch (at most fetchWait),
// applies what it received and waits for the applier. Cancelling the pull
// request instead would leave the messages the server already sent for it
// unacknowledged until AckWait, and naking them at once would have the
// running fetch receive them again and again.
func (c *counterConsumer) stop() {
	if c.stopping.Swap(true) {
		<-c.done
		return
	}
	close(c.quit)
	<-c.done
	close(c.in)
	<-c.applied
}
