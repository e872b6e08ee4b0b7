package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/internal/subjects"
	"github.com/tafweej/tafweej/store"
)

const keyHelp = "pass the API key as ?key=<key> (or \"Authorization: Bearer <key>\"); " +
	"gate keys are made with `tafweej keys create` or POST /v1/keys by operations"

// authenticate finds the key of an event stream request: ?key= (an
// EventSource cannot send headers) or a Bearer header. It answers the
// error itself and returns false when the request may not stream.
func (h *handler) authenticate(w http.ResponseWriter, r *http.Request) (store.APIKey, string, bool) {
	secret := r.URL.Query().Get("key")
	if secret == "" {
		secret, _ = auth.Bearer(r.Header.Get("Authorization"))
	}
	if secret == "" {
		writeError(w, http.StatusUnauthorized, "unauthorized", "key", "missing API key: %s", keyHelp)
		return store.APIKey{}, "", false
	}
	k, err := h.o.Keys.Lookup(secret)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusUnauthorized, "unauthorized", "key", "unknown API key: %s", keyHelp)
		return store.APIKey{}, "", false
	}
	if err != nil {
		h.log.Error("api key lookup failed", "err", err)
		writeError(w, http.StatusServiceUnavailable, "unavailable", "", "the API key could not be checked; retry later")
		return store.APIKey{}, "", false
	}
	if k.Role != auth.RoleGate && k.Role != auth.RoleOps {
		writeError(w, http.StatusForbidden, "forbidden", "key",
			"GET /web/events is for keys of role %s or %s; this key has role %q", auth.RoleGate, auth.RoleOps, k.Role)
		return store.APIKey{}, "", false
	}
	return k, secret, true
}

// frame is one message of the stream, as the NATS events are:
// {"kind", "at", "data"}.
type frame struct {
	Kind string          `json:"kind"`
	At   time.Time       `json:"at"`
	Data json.RawMessage `json:"data"`
}

// problem is the data of a sensor.problem frame.
type problem struct {
	Kind    string `json:"kind"` // counter, alert, scan
	Reason  string `json:"reason"`
	Error   string `json:"error"`
	Subject string `json:"subject"`
}

// events: GET /web/events, the site's events as server-sent events, one
// unnamed event per NATS event with its JSON as data. With ?check=1 it
// only checks the key and answers 204.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	revoked := h.o.Keys.Revoked() // before the lookup, so no revocation is missed
	k, secret, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	if r.URL.Query().Get("check") != "" {
		w.Header().Set("X-Tafweej-Role", k.Role)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	rc := http.NewResponseController(w)
	q := make(chan []byte, streamBuffer)
	overflow := make(chan struct{})
	var once sync.Once // closes overflow; the subscriptions' callbacks run on their own goroutines
	push := func(b []byte) {
		select {
		case q <- b:
		default:
			once.Do(func() { close(overflow) })
		}
	}
	subj := subjects.For(h.o.Site)
	var subs []*nats.Subscription
	defer func() {
		for _, s := range subs {
			_ = s.Unsubscribe()
		}
	}()
	sub, err := h.o.Conn.Subscribe(subj.EventAll(), func(m *nats.Msg) {
		// Compact: a newline inside would end the SSE data line.
		var b bytes.Buffer
		if json.Compact(&b, m.Data) == nil {
			push(b.Bytes())
		}
	})
	if err == nil {
		subs = append(subs, sub)
		if k.Role == auth.RoleOps {
			sub, err = h.o.Conn.Subscribe(subj.DeadLetterAll(), func(m *nats.Msg) {
				p := problem{Kind: subj.DeadLetterKind(m.Subject), Reason: m.Header.Get(subjects.HeaderReason),
					Error: m.Header.Get(subjects.HeaderError), Subject: m.Header.Get(subjects.HeaderSubject)}
				data, _ := json.Marshal(p)
				b, _ := json.Marshal(frame{Kind: EventSensorProblem, At: h.o.Now(), Data: data})
				push(b)
			})
			if err == nil {
				subs = append(subs, sub)
			}
		}
	}
	if err == nil {
		err = h.o.Conn.FlushTimeout(5 * time.Second)
	}
	if err != nil {
		h.log.Warn("event stream: subscribe", "err", err)
		writeError(w, http.StatusServiceUnavailable, "unavailable", "", "live events are not available now (NATS: %v); retry later", err)
		return
	}
	h.mu.Lock()
	h.streams++
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.streams--
		h.mu.Unlock()
	}()

	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// The page reconnects 3 s after a drop; "ready" tells it the stream is
	// live, so it can re-read the state it may have missed.
	fmt.Fprintf(w, "retry: 3000\n: connected as %s\n\nevent: ready\ndata: {\"role\":%q}\n\n", k.Role, k.Role)
	if err := rc.Flush(); err != nil {
		return
	}
	beat := time.NewTicker(h.o.Heartbeat)
	defer beat.Stop()
	closed := h.o.Conn.StatusChanged(nats.CLOSED)
	defer h.o.Conn.RemoveStatusListener(closed)
	for {
		select {
		case <-r.Context().Done():
			return
		case <-closed:
			return
		case <-revoked:
			// A key was revoked: end the stream if it was this one (the
			// page's reconnection then gets the 401).
			if _, err := h.o.Keys.Lookup(secret); errors.Is(err, store.ErrNotFound) {
				h.log.Info("event stream ended: its key was revoked", "id", k.ID())
				return
			}
			revoked = h.o.Keys.Revoked()
		case <-overflow:
			h.log.Warn("event stream too slow; closed so that the page reconnects")
			return
		case b := <-q:
			if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
				return
			}
			// Send what else is waiting in the same write.
			for more := true; more; {
				select {
				case b := <-q:
					if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
						return
					}
				default:
					more = false
				}
			}
			if err := rc.Flush(); err != nil {
				return
			}
		case <-beat.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
	}
}
