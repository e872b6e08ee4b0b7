package sensors

import (
	"context"
	"errors"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tafweej/tafweej/scheduler"
)

// The counter consumer's settings.
const (
	fetchBatch     = 256              // messages asked for per pull request
	fetchWait      = time.Second      // how long a pull request waits for them
	counterWorkers = 16               // goroutines applying readings, by sensor
	ackWait        = 30 * time.Second // redelivery of a message neither acked nor nakked
	maxAckPending  = 4096
	nakDelay       = 2 * fetchWait // redelivery after an owner-loop failure: after the current fetch
)

// counterConsumer pulls counter messages from the durable consumer and
// applies them. Messages of one sensor go to the same worker, in stream
// order; different sensors are applied in parallel, so the owner loop
// commits many readings in one synced write. A message is acked only after
// the owner loop returned: its checkpoint is then durable in the store, so
// a redelivery (a restart, a lost ack) is recognised as a duplicate.
type counterConsumer struct {
	s       *Service
	workers []chan jetstream.Msg
	wg      sync.WaitGroup // workers
	quit    chan struct{}  // closed by stop
	done    chan struct{}  // closed when the fetch loop has returned

	stopping atomic.Bool

	mu   sync.Mutex // guards cons (re-created by the fetch loop if it vanished)
	cons jetstream.Consumer

	logMu   sync.Mutex // guards lastLog
	lastLog time.Time
}

func startCounters(ctx context.Context, s *Service) (*counterConsumer, error) {
	c := &counterConsumer{s: s, quit: make(chan struct{}), done: make(chan struct{})}
	if err := c.ensure(ctx); err != nil {
		return nil, err
	}
	for range counterWorkers {
		ch := make(chan jetstream.Msg, fetchBatch)
		c.workers = append(c.workers, ch)
		c.wg.Add(1)
		go c.work(ch)
	}
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
				c.dispatch(msg)
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

// dispatch hands a message to its sensor's worker.
func (c *counterConsumer) dispatch(msg jetstream.Msg) {
	h := fnv.New32a()
	h.Write([]byte(msg.Subject()))
	c.workers[h.Sum32()%uint32(len(c.workers))] <- msg
}

func (c *counterConsumer) work(ch chan jetstream.Msg) {
	defer c.wg.Done()
	for msg := range ch {
		c.handle(msg)
	}
}

// handle applies one counter message and acks it, or naks it so that it is
// redelivered when it could not be applied.
func (c *counterConsumer) handle(msg jetstream.Msg) {
	s := c.s
	defer func() {
		if v := recover(); v != nil {
			c.poison(msg, s.panics.Recovered("nats_counter", v))
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
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	res, err := s.eng.Do(ctx, r)
	cancel()
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
// applies what it received and waits for the workers. Cancelling the pull
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
	for _, ch := range c.workers {
		close(ch)
	}
	c.wg.Wait()
}
