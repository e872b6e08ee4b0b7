package sensors

import (
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tafweej/tafweej/internal/subjects"
	"github.com/tafweej/tafweej/scheduler"
)

// eventQueue is how many events may wait to be published. The owner loop
// publishes after each turn; a turn's events are a handful, a closure's a
// few hundred.
const eventQueue = 8192

// Events publishes the scheduler's events on tafweej.<site>.events.<kind>
// as JSON {"kind", "at", "data"}. Its Publish is engine.Options.Publish: it
// never blocks the owner loop. Events are queued and sent in order by one
// goroutine; if the queue is full (NATS far behind) an event is dropped and
// logged. Events are core NATS messages: a subscriber that is away misses
// them, the state (GET /v1/bookings, /v1/occupancy) is the authority.
type Events struct {
	nc   *nats.Conn
	subj subjects.Site
	log  *slog.Logger
	q    chan *nats.Msg

	mu      sync.Mutex // guards closed, dropped and lastLog
	closed  bool
	dropped int
	lastLog time.Time

	done chan struct{} // closed when the publishing goroutine returns
}

// NewEvents returns a publisher of site's events on nc. Close it after the
// engine has stopped.
func NewEvents(nc *nats.Conn, site string, log *slog.Logger) *Events {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Events{nc: nc, subj: subjects.For(site), log: log.With("component", "events"),
		q: make(chan *nats.Msg, eventQueue), done: make(chan struct{})}
	go e.run()
	return e
}

// Publish queues ev for publishing; it does not block.
func (e *Events) Publish(ev scheduler.Event) {
	data, err := json.Marshal(ev)
	if err != nil {
		e.log.Error("event not encodable; dropped", "kind", ev.Kind, "err", err)
		return
	}
	m := &nats.Msg{Subject: e.subj.Event(ev.Kind), Data: data}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	select {
	case e.q <- m:
	default:
		e.dropped++
		if time.Since(e.lastLog) > 10*time.Second {
			e.log.Warn("event queue full; events dropped", "dropped", e.dropped, "kind", ev.Kind)
			e.lastLog = time.Now()
		}
	}
}

func (e *Events) run() {
	defer close(e.done)
	for m := range e.q {
		if err := e.nc.PublishMsg(m); err != nil {
			e.log.Warn("event not published", "subject", m.Subject, "err", err)
		}
	}
}

// Close publishes what is queued, flushes the connection (for up to 5 s)
// and stops. Later Publish calls are ignored.
func (e *Events) Close() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	close(e.q)
	e.mu.Unlock()
	<-e.done
	if e.nc.IsConnected() {
		_ = e.nc.FlushTimeout(5 * time.Second)
	}
}
