package api

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/internal/testenv/stack"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
	"github.com/tafweej/tafweej/tickets"
)

// storyNow is when the operator books: two days before 1 December.
var storyNow = time.Date(2026, 11, 29, 10, 0, 0, 0, testenv.Amman)

type testClock = engine.ManualClock

// harness is a real engine on a real Badger store behind a real HTTP
// server.
type harness struct {
	t      testing.TB
	cfg    *scheduler.Config
	clock  *testClock
	st     *store.Badger
	eng    *engine.Engine
	api    *Server
	srv    *httptest.Server
	reg    *prometheus.Registry
	pub    ed25519.PublicKey
	opsKey string
	stop   func() // stops the engine
}

// newHarness starts everything; opts may adjust the API's options (Engine,
// Store, Signer and Registerer are set by the harness).
func newHarness(t testing.TB, adjust func(*Options)) *harness {
	t.Helper()
	h := &harness{t: t, cfg: stack.Petra(t), clock: engine.NewManualClock(storyNow), reg: prometheus.NewRegistry()}
	st := stack.Badger(t)
	h.st = st
	var err error
	h.eng, err = engine.New(engine.Options{Config: h.cfg, Store: st, Clock: h.clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.eng.Run(ctx); close(done) }()
	var once sync.Once
	h.stop = func() { once.Do(func() { cancel(); <-done }) }

	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h.pub = priv.Public().(ed25519.PublicKey)
	opts := Options{Engine: h.eng, Store: st, Signer: tickets.NewSigner(priv), Registerer: h.reg, RatePerSecond: -1}
	if adjust != nil {
		adjust(&opts)
	}
	h.api, err = New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = httptest.NewServer(h.api)
	t.Cleanup(func() {
		h.srv.Close()
		h.stop()
		st.Close()
	})
	h.opsKey = h.key(auth.RoleOps, "", nil)
	return h
}

// key makes an API key.
func (h *harness) key(role, operator string, gates []string) string {
	h.t.Helper()
	secret, _, err := auth.CreateKey(h.st, role, operator, gates, "test", h.clock.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	return secret
}

// response is an answer, read whole.
type response struct {
	code   int
	header http.Header
	body   []byte
}

// errorBody decodes an error answer.
func (r response) errorBody(t testing.TB) Error {
	t.Helper()
	var e ErrorResponse
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Code == "" {
		t.Fatalf("answer %d is not an error body: %s", r.code, r.body)
	}
	return e.Error
}

func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("answer %d does not decode into %T: %v: %s", r.code, v, err, r.body)
	}
}

// do sends a request. body is sent as is if it is a string or []byte,
// else encoded as JSON; a body is sent as application/json unless header
// says otherwise. header is "Name: value" lines.
func (h *harness) do(method, path, key string, body any, header ...string) response {
	h.t.Helper()
	r, err := h.try(http.DefaultClient, method, path, key, body, header...)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func (h *harness) try(c *http.Client, method, path, key string, body any, header ...string) (response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		return response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for _, l := range header {
		k, v, _ := strings.Cut(l, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	resp, err := c.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{code: resp.StatusCode, header: resp.Header, body: data}, nil
}

// book books and expects a 201.
func (h *harness) book(key string, req BookingRequest, header ...string) Booking {
	h.t.Helper()
	r := h.do("POST", "/v1/bookings", key, req, header...)
	if r.code != http.StatusCreated {
		h.t.Fatalf("POST /v1/bookings %+v: %d %s", req, r.code, r.body)
	}
	var b Booking
	r.decode(h.t, &b)
	return b
}

// availability returns the remaining places per "HH:MM gate".
func (h *harness) availability(key, date, route string) map[string]int {
	h.t.Helper()
	r := h.do("GET", "/v1/availability?date="+date+"&route="+route, key, nil)
	if r.code != http.StatusOK {
		h.t.Fatalf("availability: %d %s", r.code, r.body)
	}
	var a Availability
	r.decode(h.t, &a)
	out := map[string]int{}
	for _, s := range a.Slots {
		out[s.Slot.In(testenv.Amman).Format("15:04")+" "+s.Gate] = s.Remaining
	}
	return out
}

// waitFor polls cond until it returns nil or the time is up.
func waitFor(t testing.TB, total time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var errNotYet = errors.New("not yet")
