package sensors

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/internal/subjects"
	"github.com/tafweej/tafweej/internal/testenv/stack"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
	"github.com/tafweej/tafweej/tickets"
)

// raceEnabled is set by race_test.go when the tests run with -race.
var raceEnabled bool

type testClock = engine.ManualClock

// NewTicker returns a ticker that never fires: tests send Tick themselves.

// testNATS is an embedded server and its authorization.
type testNATS struct {
	*server.Server
	auth *Auth
}

// runNATS starts an embedded NATS server with JetStream on a random port.
// Clients connect as the service with ns.auth.ServiceOption().
func runNATS(t testing.TB) *testNATS {
	t.Helper()
	auth, err := NewAuth(nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := StartEmbedded(EmbeddedOptions{Port: -1, StoreDir: t.TempDir(), NoLog: true, Auth: auth})
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	t.Cleanup(s.Shutdown)
	return &testNATS{Server: s, auth: auth}
}

// checkFor polls fn every sleep until it returns nil or total has passed.
func checkFor(t testing.TB, total, sleep time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	var err error
	for time.Now().Before(deadline) {
		if err = fn(); err == nil {
			return
		}
		time.Sleep(sleep)
	}
	t.Fatalf("condition not met after %v: %v", total, err)
}

// harness is a site on a real NATS server, a real Badger store and a real
// engine with a controllable clock, with the service under test.
type harness struct {
	t     testing.TB
	cfg   *scheduler.Config
	clock *testClock
	ns    *testNATS
	url   string
	// connOpts authenticate the harness's connections: as the service on
	// the embedded server, none on an external one.
	connOpts []nats.Option
	dir      string // Badger
	signer   *tickets.Signer

	client *nats.Conn // the devices' connection
	js     jetstream.JetStream

	// the service side; replaced by restart
	nc        *nats.Conn
	st        *store.Badger
	eng       *engine.Engine
	engCancel context.CancelFunc
	engDone   chan error
	events    *Events
	svc       *Service
	reg       *prometheus.Registry

	evMu  sync.Mutex // guards evLog
	evLog []scheduler.Event

	logs syncBuffer // the service side's log
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type harnessOptions struct {
	url string // an external server; "" starts an embedded one
	// connOpts authenticate the harness's connections to an external
	// server (the embedded one's are the service's own).
	connOpts []nats.Option
	noSvc    bool // do not start the service
	config   func(*scheduler.Config)
}

// startAt is 1 December 2026 (a Tuesday, winter hours 06:00-15:00) at
// 06:00 in Amman.
func startAt(cfg *scheduler.Config) time.Time {
	return time.Date(2026, 12, 1, 6, 0, 0, 0, cfg.Location())
}

func newHarness(t testing.TB, o harnessOptions) *harness {
	t.Helper()
	cfg := stack.Petra(t)
	if o.config != nil {
		o.config(cfg)
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, cfg: cfg, clock: engine.NewManualClock(startAt(cfg)), dir: t.TempDir(), signer: tickets.NewSigner(key), url: o.url, connOpts: o.connOpts}
	if h.url == "" {
		h.ns = runNATS(t)
		h.url = h.ns.ClientURL()
		h.connOpts = []nats.Option{h.ns.auth.ServiceOption()}
	}
	h.client, err = nats.Connect(h.url, append([]nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(50 * time.Millisecond)}, h.connOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.client.Close)
	h.js, err = jetstream.New(h.client)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := h.client.Subscribe("tafweej.petra.events.>", func(m *nats.Msg) {
		var ev struct {
			Kind string          `json:"kind"`
			At   time.Time       `json:"at"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			t.Errorf("event %s is not JSON: %v", m.Subject, err)
			return
		}
		if m.Subject != "tafweej.petra.events."+ev.Kind {
			t.Errorf("event of kind %q on subject %q", ev.Kind, m.Subject)
		}
		h.evMu.Lock()
		h.evLog = append(h.evLog, scheduler.Event{Kind: ev.Kind, At: ev.At, Data: ev.Data})
		h.evMu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := h.client.Flush(); err != nil {
		t.Fatal(err)
	}
	h.start(!o.noSvc)
	t.Cleanup(h.stop)
	return h
}

// start opens the store, starts the engine and (if svc) the service.
func (h *harness) start(svc bool) {
	t := h.t
	t.Helper()
	var err error
	log := slog.New(slog.NewTextHandler(&h.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h.nc, err = Connect(h.url, ConnectOptions{Name: "tafweej-test", Logger: log, Options: h.connOpts})
	if err != nil {
		t.Fatal(err)
	}
	h.st, err = store.Open(h.dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h.reg = prometheus.NewRegistry()
	h.events = NewEvents(h.nc, h.cfg.Site, nil)
	h.eng, err = engine.New(engine.Options{Config: h.cfg, Store: h.st, Clock: h.clock, Publish: h.events.Publish, Registerer: h.reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.engCancel = cancel
	h.engDone = make(chan error, 1)
	go func(e *engine.Engine) { h.engDone <- e.Run(ctx) }(h.eng)
	if svc {
		h.startService()
	}
}

func (h *harness) startService() {
	h.t.Helper()
	var err error
	h.svc, err = Start(context.Background(), Options{Conn: h.nc, Engine: h.eng, Public: h.signer.Public(), Store: h.st, Registerer: h.reg})
	if err != nil {
		h.t.Fatal(err)
	}
}

// stop stops the service, the engine and the store, in the lead's order.
func (h *harness) stop() {
	if h.eng == nil {
		return
	}
	if h.svc != nil {
		h.svc.Stop()
		h.svc = nil
	}
	h.engCancel()
	<-h.engDone
	h.events.Close()
	if err := h.st.Close(); err != nil {
		h.t.Errorf("store close: %v", err)
	}
	h.nc.Close()
	h.eng = nil
}

// restart stops everything of the service side and starts it again on the
// same store and NATS server.
func (h *harness) restart() {
	h.stop()
	h.start(true)
}

func (h *harness) do(cmd scheduler.Command) scheduler.Result {
	h.t.Helper()
	res, err := h.eng.Do(context.Background(), cmd)
	if err != nil {
		h.t.Fatalf("%T: %v", cmd, err)
	}
	return res
}

var bookingSeq int

// book books a group of party on route entering in the window [from, to)
// ("HH:MM") on date ("" for the harness's day).
func (h *harness) book(operator, route, date string, party int, from, to string) scheduler.Booking {
	h.t.Helper()
	if date == "" {
		date = h.clock.Now().Format(time.DateOnly)
	}
	f, _ := scheduler.ParseClock(from)
	u, _ := scheduler.ParseClock(to)
	bookingSeq++
	res := h.do(scheduler.Book{ID: fmt.Sprintf("bk_test%d", bookingSeq), Operator: operator,
		Request: scheduler.BookingRequest{Date: date, Route: route, PartySize: party, Window: scheduler.Window{From: f, To: u}}})
	if res.Err != nil {
		h.t.Fatalf("book %s %d on %s %s-%s: %v", route, party, date, from, to, res.Err)
	}
	return *res.Booking
}

func (h *harness) booking(id string) scheduler.Booking {
	h.t.Helper()
	var b scheduler.Booking
	var ok bool
	if err := h.eng.Read(context.Background(), func(s *scheduler.State, _ time.Time) { b, ok = s.Booking("", id) }); err != nil {
		h.t.Fatal(err)
	}
	if !ok {
		h.t.Fatalf("no booking %q", id)
	}
	return b
}

// at sets the clock to HH:MM of the harness's day.
func (h *harness) at(hhmm string) {
	m, err := scheduler.ParseClock(hhmm)
	if err != nil {
		h.t.Fatal(err)
	}
	d := startAt(h.cfg)
	h.clock.Set(time.Date(d.Year(), d.Month(), d.Day(), 0, m, 0, 0, h.cfg.Location()))
}

// scanRaw sends data as a scan at gate and returns the raw reply.
func (h *harness) scanRaw(gate string, data []byte) []byte {
	h.t.Helper()
	m, err := h.client.Request("tafweej.petra.gate."+gate+".scan", data, 5*time.Second)
	if err != nil {
		h.t.Fatalf("scan at %s: %v", gate, err)
	}
	return m.Data
}

func (h *harness) scan(gate string, req scheduler.ScanRequest) scheduler.ScanResult {
	h.t.Helper()
	data, _ := json.Marshal(req)
	return decodeReply(h.t, h.scanRaw(gate, data))
}

func decodeReply(t testing.TB, data []byte) scheduler.ScanResult {
	t.Helper()
	var res scheduler.ScanResult
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("reply %s: %v", data, err)
	}
	return res
}

// occupancy is a zone's live picture.
func (h *harness) occupancy(zone string) scheduler.ZoneOccupancy {
	h.t.Helper()
	var out scheduler.ZoneOccupancy
	err := h.eng.Read(context.Background(), func(s *scheduler.State, now time.Time) {
		for _, o := range s.Occupancy(now) {
			if o.Zone == zone {
				out = o
			}
		}
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

func (h *harness) sensor(id string) scheduler.SensorState {
	h.t.Helper()
	var out scheduler.SensorState
	if err := h.eng.Read(context.Background(), func(s *scheduler.State, _ time.Time) {
		for _, st := range s.Sensors() {
			if st.Sensor == id {
				out = st
			}
		}
	}); err != nil {
		h.t.Fatal(err)
	}
	return out
}

// events returns the events of kind received so far.
func (h *harness) eventsOf(kind string) []scheduler.Event {
	h.evMu.Lock()
	defer h.evMu.Unlock()
	var out []scheduler.Event
	for _, ev := range h.evLog {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// waitEvent waits for an event of kind whose data contains substr.
func (h *harness) waitEvent(kind, substr string) scheduler.Event {
	h.t.Helper()
	var found scheduler.Event
	checkFor(h.t, 5*time.Second, 10*time.Millisecond, func() error {
		for _, ev := range h.eventsOf(kind) {
			if strings.Contains(string(ev.Data.(json.RawMessage)), substr) {
				found = ev
				return nil
			}
		}
		return fmt.Errorf("no %s event with %q (have %d of that kind)", kind, substr, len(h.eventsOf(kind)))
	})
	return found
}

// metric reads a counter or gauge from the harness's registry; labels are
// name=value pairs that must all match. Missing series read 0.
func (h *harness) metric(name string, labels ...string) float64 {
	h.t.Helper()
	return gatherValue(h.t, h.reg, name, labels...)
}

func gatherValue(t testing.TB, g prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				if labelValue(m, labels[i]) != labels[i+1] {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			case m.Histogram != nil:
				sum += float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return sum
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// deadLetters subscribes to the dead letters of kind.
type deadLetters struct {
	mu   sync.Mutex // guards msgs
	msgs []*nats.Msg
}

func (h *harness) watchDeadLetters(kind string) *deadLetters {
	h.t.Helper()
	d := &deadLetters{}
	sub, err := h.client.Subscribe("tafweej.petra.deadletter."+kind, func(m *nats.Msg) {
		d.mu.Lock()
		d.msgs = append(d.msgs, m)
		d.mu.Unlock()
	})
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := h.client.Flush(); err != nil {
		h.t.Fatal(err)
	}
	return d
}

// wait waits for a dead letter with the reason (of a message on subject,
// if not "") and returns it.
func (d *deadLetters) wait(t testing.TB, reason, subject string) *nats.Msg {
	t.Helper()
	var found *nats.Msg
	checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		d.mu.Lock()
		defer d.mu.Unlock()
		for _, m := range d.msgs {
			if m.Header.Get(subjects.HeaderReason) == reason && (subject == "" || m.Header.Get(subjects.HeaderSubject) == subject) {
				found = m
				return nil
			}
		}
		return fmt.Errorf("no dead letter with reason %q among %d", reason, len(d.msgs))
	})
	return found
}
