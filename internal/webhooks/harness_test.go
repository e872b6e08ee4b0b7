package webhooks_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/internal/testenv/stack"
	"github.com/tafweej/tafweej/internal/webhooks"
	"github.com/tafweej/tafweej/store"
	"github.com/tafweej/tafweej/tickets"
)

// verify checks a Standard Webhooks signature the way a receiver would,
// written from the specification (standardwebhooks.com, "Verifying
// webhook authenticity") and sharing no code with the package: the signed
// content is "<webhook-id>.<webhook-timestamp>.<body>", the key is the
// base64-decoded secret after its "whsec_" prefix, the signature
// HMAC-SHA256 in base64; the header holds space-separated "v1,<sig>"
// entries, any of which may match; the timestamp must be within five
// minutes of now.
func verify(secret string, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp %q is not Unix seconds", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("webhook-timestamp %s is %s from now", ts, d)
	}
	if !strings.HasPrefix(secret, "whsec_") {
		return fmt.Errorf("secret does not start with whsec_")
	}
	key, err := base64.StdEncoding.DecodeString(secret[len("whsec_"):])
	if err != nil {
		return fmt.Errorf("secret is not base64: %v", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte("."))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, entry := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no signature in %q matches", sigs)
}

// received is one request a receiver got.
type received struct {
	ID      string
	Type    string
	Data    map[string]any
	Body    []byte
	Answer  int
	Invalid error // the signature did not verify
}

// receiver is a real HTTP endpoint that verifies every request with the
// secrets it is given and records it; while down it answers 503.
type receiver struct {
	srv *httptest.Server

	mu      sync.Mutex // guards secrets, down, got
	secrets []string
	down    bool
	got     []received
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		rec := received{ID: req.Header.Get("webhook-id"), Body: body, Answer: http.StatusNoContent}
		var p struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			rec.Invalid = err
		}
		rec.Type, rec.Data = p.Type, p.Data
		if rec.Invalid == nil {
			rec.Invalid = errors.New("no secret")
			for _, s := range r.secrets {
				if rec.Invalid = verify(s, req.Header, body, time.Now()); rec.Invalid == nil {
					break
				}
			}
		}
		if r.down {
			rec.Answer = http.StatusServiceUnavailable
		}
		r.got = append(r.got, rec)
		w.WriteHeader(rec.Answer)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) setSecrets(s ...string) { r.mu.Lock(); r.secrets = s; r.mu.Unlock() }
func (r *receiver) setDown(d bool)         { r.mu.Lock(); r.down = d; r.mu.Unlock() }

// all is every request so far.
func (r *receiver) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// delivered is each message answered 2xx, by webhook-id.
func (r *receiver) delivered() map[string]received {
	out := map[string]received{}
	for _, g := range r.all() {
		if g.Answer < 300 {
			out[g.ID] = g
		}
	}
	return out
}

// checkFor polls f until it returns nil or total has passed.
func checkFor(t *testing.T, total time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", total, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logBuffer collects every log line of the stack.
type logBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// env is the real stack: Badger, the engine on a manual clock, the webhook
// service (allowing loopback receivers, quick retries) and the HTTP API.
type env struct {
	t      *testing.T
	st     *store.Badger
	eng    *engine.Engine
	clock  *engine.ManualClock
	hooks  *webhooks.Service
	api    *httptest.Server
	reg    *prometheus.Registry
	logs   *logBuffer
	opsKey string
}

func newEnv(t *testing.T, opts webhooks.Options, before ...func(*store.Badger)) *env {
	t.Helper()
	e := &env{t: t, st: stack.Badger(t), reg: prometheus.NewRegistry(), logs: &logBuffer{}}
	for _, f := range before {
		f(e.st)
	}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := stack.Petra(t)
	opts.Store, opts.Config, opts.Logger, opts.Registerer = e.st, cfg, log, e.reg
	if opts.MinBackoff == 0 {
		opts.MinBackoff, opts.MaxBackoff = 20*time.Millisecond, 200*time.Millisecond
	}
	var err error
	if e.hooks, err = webhooks.New(opts); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.hooks.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	// The story's day: 1 December 2026, early morning.
	e.clock = engine.NewManualClock(time.Date(2026, 12, 1, 6, 0, 0, 0, testenv.Amman))
	e.eng, _ = stack.Engine(t, engine.Options{Config: cfg, Store: e.st, Clock: e.clock, Outbox: e.hooks, Logger: log})
	key, _, err := tickets.LoadOrCreateKey(filepath.Join(t.TempDir(), "ticket.key"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(api.Options{Engine: e.eng, Store: e.st, Signer: tickets.NewSigner(key), Logger: log,
		Registerer: e.reg, RatePerSecond: -1, Webhooks: e.hooks})
	if err != nil {
		t.Fatal(err)
	}
	e.api = httptest.NewServer(srv)
	t.Cleanup(e.api.Close)
	e.opsKey = e.key("ops", "")
	return e
}

// key makes an API key.
func (e *env) key(role, operator string) string {
	secret, _, err := auth.CreateKey(e.st, role, operator, nil, "", e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return secret
}

// call makes an API request and decodes the answer into out; it fails the
// test unless the status is want.
func (e *env) call(method, path, key string, in, out any, want int) {
	e.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.api.URL+path, body)
	req.Header.Set("Authorization", "Bearer "+key)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		e.t.Fatalf("%s %s: HTTP %d, want %d: %s", method, path, resp.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
}

// register adds an endpoint at r for the operator key and tells r its
// secret.
func (e *env) register(key string, r *receiver) api.WebhookCreated {
	e.t.Helper()
	var wh api.WebhookCreated
	e.call("POST", "/v1/webhooks", key, api.WebhookRequest{URL: r.srv.URL + "/hook"}, &wh, http.StatusCreated)
	r.setSecrets(wh.Secret)
	return wh
}

// book books a group of 10 on 1 December.
func (e *env) book(key, route, from, to string) api.Booking {
	e.t.Helper()
	var b api.Booking
	e.call("POST", "/v1/bookings", key, api.BookingRequest{Date: "2026-12-01", Route: route, PartySize: 10,
		Window: api.Window{From: from, To: to}}, &b, http.StatusCreated)
	return b
}

// gauge is the value of an unlabelled gauge in the env's registry.
func (e *env) gauge(name string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	e.t.Fatalf("no gauge %s", name)
	return 0
}
