package sensors

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/internal/subjects"
	"github.com/tafweej/tafweej/scheduler"
)

// History keeps raw sensor messages for analysis (store.Store's
// AppendHistory: not synced, an exact redelivery stored once).
type History interface {
	AppendHistory(sensor string, at time.Time, raw []byte) error
}

// Options configure Start. Conn, Engine and Public are required; a zero
// field means its default.
type Options struct {
	Conn *nats.Conn
	// Site is the subject prefix's site id; empty means the engine's
	// configuration's.
	Site   string
	Engine *engine.Engine
	// Public verifies ticket signatures.
	Public ed25519.PublicKey
	// Store keeps the raw counter messages; nil keeps none.
	Store      History
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// StreamMaxAge bounds how long the counter stream keeps messages
	// (default 7 days).
	StreamMaxAge time.Duration
	// StreamMaxBytes bounds the counter stream's size (default 1 GiB).
	StreamMaxBytes int64
	// Replicas of the streams in a clustered JetStream (default 1).
	Replicas int
}

func (o Options) withDefaults() (Options, error) {
	if o.Conn == nil || o.Engine == nil {
		return o, errors.New("sensors: Options.Conn and Options.Engine are required")
	}
	if len(o.Public) != ed25519.PublicKeySize {
		return o, fmt.Errorf("sensors: Options.Public must be an Ed25519 public key of %d bytes, not %d", ed25519.PublicKeySize, len(o.Public))
	}
	if o.Site == "" {
		o.Site = o.Engine.Config().Site
	}
	if !subjects.ValidToken(o.Site) {
		return o, fmt.Errorf("sensors: site %q cannot be a NATS subject token (no dots, spaces, '*' or '>')", o.Site)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.StreamMaxAge <= 0 {
		o.StreamMaxAge = 7 * 24 * time.Hour
	}
	if o.StreamMaxBytes <= 0 {
		o.StreamMaxBytes = 1 << 30
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	return o, nil
}

// Service is the NATS side of a site: the gate scan responder, the people
// counters' JetStream consumer and the alert subscription.
type Service struct {
	o    Options
	nc   *nats.Conn
	js   jetstream.JetStream
	eng  *engine.Engine
	cfg  *scheduler.Config
	gate *Gate
	subj subjects.Site
	log  *slog.Logger
	m    *metrics
	// panics logs and counts the handlers' recovered panics.
	panics *engine.Panics

	gateSub, alertSub *nats.Subscription
	sem               chan struct{} // bounds the scans decided at once
	work              chan scanJob  // scans for idle workers (scanworkers.go); closed by Stop
	workers           atomic.Int32  // scan workers started and not ended

	mu       sync.Mutex     // guards stopping and the Add calls of handlers
	stopping bool           // set by Stop: handlers start no more work
	handlers sync.WaitGroup // gate and alert handlers in flight

	counters *counterConsumer
	alerts   *alertConsumer // the alerts stream's

	stopOnce sync.Once
}

// maxScansInFlight bounds the gate scans waiting for the owner loop at
// once; more wait in the subscription's queue. The owner loop applies what
// is pending in one turn with one synced commit, so concurrency here is
// what makes group commit work.
const maxScansInFlight = 512

// Start ensures the site's JetStream streams (counters, dead letters) and
// the counters' durable consumer, then starts the gate responder, the
// counter consumer and the alert subscription. ctx bounds the setup only;
// Stop ends the service.
func Start(ctx context.Context, o Options) (*Service, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(o.Conn)
	if err != nil {
		return nil, fmt.Errorf("sensors: jetstream: %w", err)
	}
	s := &Service{
		o: o, nc: o.Conn, js: js, eng: o.Engine, cfg: o.Engine.Config(),
		gate: NewGate(o.Engine, o.Public), subj: subjects.For(o.Site),
		log: o.Logger.With("component", "sensors"),
		m:   newMetrics(o.Registerer, o.Conn),
		sem: make(chan struct{}, maxScansInFlight), work: make(chan scanJob),
	}
	s.panics = engine.NewPanics(o.Logger, o.Registerer)
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.ensureStreams(sctx); err != nil {
		return nil, err
	}
	s.counters, err = startCounters(sctx, s)
	if err != nil {
		return nil, err
	}
	if s.alerts, err = startAlerts(sctx, s); err != nil {
		s.counters.stop()
		return nil, err
	}
	s.gateSub, err = s.nc.QueueSubscribe(s.subj.GateScanAll(), gateQueue, s.onScan)
	if err != nil {
		s.alerts.stop()
		s.counters.stop()
		return nil, fmt.Errorf("sensors: subscribe %s: %w", s.subj.GateScanAll(), err)
	}
	s.alertSub, err = s.nc.QueueSubscribe(s.subj.Alert(), alertQueue, s.onAlert)
	if err != nil {
		_ = s.gateSub.Unsubscribe()
		s.alerts.stop()
		s.counters.stop()
		return nil, fmt.Errorf("sensors: subscribe %s: %w", s.subj.Alert(), err)
	}
	for _, sub := range []*nats.Subscription{s.gateSub, s.alertSub} {
		// Generous limits: a burst of scans must queue, not be dropped.
		_ = sub.SetPendingLimits(65536, 64<<20)
	}
	if err := s.nc.FlushTimeout(5 * time.Second); err != nil {
		s.Stop()
		return nil, fmt.Errorf("sensors: subscribe: %w", err)
	}
	s.log.Info("NATS adapters started", "gates", s.subj.GateScanAll(), "counters", s.subj.CounterAll(),
		"stream", s.subj.CounterStream(), "alerts", s.subj.Alert())
	return s, nil
}

// ensureStreams creates or updates the counter and dead-letter streams.
func (s *Service) ensureStreams(ctx context.Context) error {
	_, err := s.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        s.subj.CounterStream(),
		Description: "People counter readings of site " + s.o.Site + " (tafweej)",
		Subjects:    []string{s.subj.CounterAll()},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      s.o.StreamMaxAge,
		MaxBytes:    s.o.StreamMaxBytes,
		Duplicates:  2 * time.Minute,
		Replicas:    s.o.Replicas,
	})
	if err != nil {
		return fmt.Errorf("sensors: stream %s: %w", s.subj.CounterStream(), err)
	}
	_, err = s.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        s.subj.DeadLetterStream(),
		Description: "Invalid messages of site " + s.o.Site + " with the reason in their headers (tafweej)",
		Subjects:    []string{s.subj.DeadLetterAll()},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      s.o.StreamMaxAge,
		MaxBytes:    min(s.o.StreamMaxBytes, 64<<20),
		Replicas:    s.o.Replicas,
	})
	if err != nil {
		return fmt.Errorf("sensors: stream %s: %w", s.subj.DeadLetterStream(), err)
	}
	return nil
}

// Stop unsubscribes, waits for the scans and alerts being decided, and lets
// the counter consumer finish its current fetch (at most about a second)
// and apply what it received. Call it before stopping the engine: with the
// engine gone, those counter messages are nakked and redelivered two
// seconds later (to the next start), and scans waiting are left unanswered.
func (s *Service) Stop() {
	s.stopOnce.Do(func() {
		if s.gateSub != nil {
			_ = s.gateSub.Unsubscribe()
		}
		if s.alertSub != nil {
			_ = s.alertSub.Unsubscribe()
		}
		s.mu.Lock()
		s.stopping = true
		s.mu.Unlock()
		s.handlers.Wait()
		close(s.work) // no scan is handed over any more: idle workers end
		s.alerts.stop()
		s.counters.stop()
		s.log.Info("NATS adapters stopped")
	})
}

// ---- gate scans ----

// onScan is called by the subscription's goroutine; the scan is decided on
// a worker goroutine of its own (scanworkers.go) so that scans from many
// gates share the owner loop's turns.
func (s *Service) onScan(m *nats.Msg) {
	start := time.Now()
	if m.Reply == "" {
		s.m.invalid.WithLabelValues("scan", reasonNoReply).Inc()
		return
	}
	if !s.begin() {
		return
	}
	s.sem <- struct{}{}
	s.dispatch(scanJob{m: m, start: start})
}

// begin registers a handler, unless the service is stopping.
func (s *Service) begin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return false
	}
	s.handlers.Add(1)
	return true
}

func (s *Service) scan(m *nats.Msg, start time.Time) {
	defer func() {
		if v := recover(); v != nil {
			s.replyInternal(m, s.panics.Recovered("nats_scan", v))
		}
	}()
	hook("nats_scan")
	gate := s.subj.GateOf(m.Subject)
	req, err := decodeScan(m.Data)
	var res scheduler.ScanResult
	if err != nil {
		res = reject(scheduler.ReasonBadRequest, "")
		if _, ok := s.cfg.Gate(gate); ok {
			res.Gate = gate
		} else {
			res = unknownGate(gate)
		}
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		res, err = s.gate.decide(ctx, gate, req)
		cancel()
		if id := internalID(err); id != "" {
			s.replyInternal(m, id)
			return
		}
		if errors.Is(err, ErrUnavailable) {
			// No reply: the device times out and retries with the same
			// scan_id, which admits nobody twice.
			s.log.Error("gate scan not decided; no reply sent", "gate", gate, "scan_id", req.ScanID, "err", err)
			s.m.scanDur.WithLabelValues("none").Observe(time.Since(start).Seconds())
			return
		}
	}
	if err != nil {
		s.m.invalid.WithLabelValues("scan", reasonOf(err)).Inc()
		s.log.Debug("gate scan refused", "gate", gate, "reason", res.Reason, "err", err)
	}
	data, jerr := encodeScanResult(res)
	if jerr != nil {
		s.log.Error("scan reply not encodable", "err", jerr)
		return
	}
	if rerr := m.Respond(data); rerr != nil {
		s.log.Warn("scan reply not sent", "gate", gate, "err", rerr)
	}
	s.m.scanDur.WithLabelValues(res.Decision).Observe(time.Since(start).Seconds())
}

// ---- alerts ----

// AlertReply is the answer to an alert sent as a request.
type AlertReply struct {
	// Result is "closed" (a closure was opened), "ignored" (the rule does
	// not close for this severity), "duplicate" (an alert with this id
	// was applied before), "invalid" or "internal" (the service failed on
	// it: Error names the failure's id in the log).
	Result  string `json:"result"`
	Closure string `json:"closure,omitempty"`
	Error   string `json:"error,omitempty"`
}

func (s *Service) onAlert(m *nats.Msg) {
	if !s.begin() {
		return
	}
	defer s.handlers.Done()
	defer func() {
		if v := recover(); v != nil {
			id := s.panics.Recovered("nats_alert", v)
			if m.Reply != "" {
				data, _ := json.Marshal(AlertReply{Result: reasonInternal, Error: internalMessage(id)})
				_ = m.Respond(data)
			}
		}
	}()
	hook("nats_alert")
	reply := func(r AlertReply) {
		if m.Reply == "" {
			return
		}
		data, _ := json.Marshal(r)
		if err := m.Respond(data); err != nil {
			s.log.Warn("alert reply not sent", "err", err)
		}
	}
	a, err := decodeAlert(m.Data)
	if err == nil {
		err = validateAlert(s.cfg, a)
	}
	if err != nil {
		s.deadLetter("alert", m, err)
		reply(AlertReply{Result: "invalid", Error: err.Error()})
		return
	}
	id := "al_" + a.ID
	if a.ID == "" {
		id = "al_" + randomID()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.eng.Do(ctx, scheduler.Alert{ID: id, Kind: a.Kind, Zones: a.Zones, Severity: a.Severity})
	if pid := internalID(err); pid != "" {
		reply(AlertReply{Result: reasonInternal, Error: internalMessage(pid)})
		return
	}
	if err != nil {
		// No reply: a sender that asked retries.
		s.log.Error("alert not applied", "kind", a.Kind, "zones", a.Zones, "err", err)
		return
	}
	var se *scheduler.Error
	switch {
	case errors.As(res.Err, &se) && se.Code == scheduler.CodeConflict && a.ID != "":
		reply(AlertReply{Result: "duplicate", Closure: id})
	case res.Err != nil:
		s.deadLetter("alert", m, &invalidError{Reason: reasonRejected, Msg: res.Err.Error()})
		reply(AlertReply{Result: "invalid", Error: res.Err.Error()})
	case res.Closure != nil:
		s.log.Warn("alert closed zones", "kind", a.Kind, "severity", a.Severity, "closure", res.Closure.ID, "zones", res.Closure.Zones)
		reply(AlertReply{Result: "closed", Closure: res.Closure.ID})
	default:
		s.log.Info("alert below its rule's threshold; nothing closed", "kind", a.Kind, "severity", a.Severity)
		reply(AlertReply{Result: "ignored"})
	}
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ---- dead letters ----

// deadLetter counts an invalid message and copies it, with why, to
// tafweej.<site>.deadletter.<kind>.
func (s *Service) deadLetter(kind string, m *nats.Msg, err error) {
	reason := reasonOf(err)
	s.m.invalid.WithLabelValues(kind, reason).Inc()
	s.m.deadLetter.WithLabelValues(kind).Inc()
	msg := err.Error()
	if len(msg) > 1024 {
		msg = msg[:1024]
	}
	dl := &nats.Msg{Subject: s.subj.DeadLetter(kind), Data: m.Data, Header: nats.Header{}}
	dl.Header.Set(subjects.HeaderReason, reason)
	dl.Header.Set(subjects.HeaderError, headerSafe(msg))
	dl.Header.Set(subjects.HeaderSubject, m.Subject)
	if id := m.Header.Get(jetstream.MsgIDHeader); id != "" {
		dl.Header.Set(subjects.HeaderMsgID, id)
	}
	if ie := (*invalidError)(nil); errors.As(err, &ie) && ie.Rule != "" {
		dl.Header.Set(subjects.HeaderRule, ie.Rule)
	}
	if perr := s.nc.PublishMsg(dl); perr != nil {
		s.log.Warn("dead letter not published", "kind", kind, "err", perr)
	}
	s.log.Debug("message dead-lettered", "kind", kind, "subject", m.Subject, "reason", reason, "err", err)
}

// headerSafe makes s a valid header value: one line of valid UTF-8.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
}
