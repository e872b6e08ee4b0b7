package web_test

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
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/internal/testenv"
	teststack "github.com/tafweej/tafweej/internal/testenv/stack"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/sensors"
	"github.com/tafweej/tafweej/store"
	"github.com/tafweej/tafweej/tickets"
	"github.com/tafweej/tafweej/web"
)

// bookingNow is when the test bookings are made: two days ahead of the
// visit on 1 December.
var bookingNow = time.Date(2026, 11, 29, 10, 0, 0, 0, testenv.Amman)

type testClock = engine.ManualClock

// stack is the real service in-process: embedded NATS, Badger, the owner
// loop, the NATS adapters, the API with the console mounted, over HTTP.
type stack struct {
	t      testing.TB
	cfg    *scheduler.Config
	clock  *testClock
	st     *store.Badger
	nc     *nats.Conn
	eng    *engine.Engine
	srv    *httptest.Server
	opsKey string
}

// loadMap reads configs/petra.geojson, the zones' map.
func loadMap(t testing.TB, cfg *scheduler.Config) *scheduler.SiteMap {
	t.Helper()
	data, err := os.ReadFile("../configs/petra.geojson")
	if err != nil {
		t.Fatal(err)
	}
	m, err := scheduler.ParseSiteMap(data, cfg)
	if err != nil {
		t.Fatalf("configs/petra.geojson: %v", err)
	}
	return m
}

func newStack(t testing.TB) *stack {
	t.Helper()
	return newStackAt(t, bookingNow)
}

// newStackAt starts the stack with its clock at start.
func newStackAt(t testing.TB, start time.Time) *stack {
	t.Helper()
	return newStackOn(t, start, teststack.Petra(t), t.TempDir())
}

// newStackOn starts the stack with its clock at start, on configuration
// cfg and the store in dir (which may hold data already).
func newStackOn(t testing.TB, start time.Time, cfg *scheduler.Config, dir string) *stack {
	t.Helper()
	s := &stack{t: t, cfg: cfg, clock: engine.NewManualClock(start)}
	natsAuth, err := sensors.NewAuth(nil)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := sensors.StartEmbedded(sensors.EmbeddedOptions{Port: -1, StoreDir: t.TempDir(), NoLog: true, Auth: natsAuth})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	s.nc, err = nats.Connect(ns.ClientURL(), natsAuth.ServiceOption()) // the console shares the service's connection
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.nc.Close)
	s.st = teststack.BadgerAt(t, dir)
	events := sensors.NewEvents(s.nc, s.cfg.Site, nil)
	s.eng, err = engine.New(engine.Options{Config: s.cfg, Store: s.st, Clock: s.clock, Publish: events.Publish})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.eng.Run(ctx); close(done) }()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer := tickets.NewSigner(priv)
	svc, err := sensors.Start(ctx, sensors.Options{Conn: s.nc, Engine: s.eng, Public: signer.Public(), Store: s.st})
	if err != nil {
		t.Fatal(err)
	}
	keys := auth.NewKeys(s.st) // shared, as serve does
	h, err := web.New(web.Options{Store: s.st, Keys: keys, Conn: s.nc, Config: s.cfg, Now: s.eng.Now, Heartbeat: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	a, err := api.New(api.Options{Engine: s.eng, Store: s.st, Keys: keys, Signer: signer, RatePerSecond: -1,
		Gate:  sensors.NewGate(s.eng, signer.Public()),
		Extra: map[string]http.Handler{"/gate": h, "/ops": h, "/web/": h}, Map: loadMap(t, s.cfg)})
	if err != nil {
		t.Fatal(err)
	}
	s.srv = httptest.NewUnstartedServer(a)
	s.srv.Start()
	// Cleanups run last-registered first: HTTP (streams end), adapters,
	// engine, events; then the store, NATS connection and server above.
	t.Cleanup(func() {
		s.srv.CloseClientConnections()
		s.srv.Close()
		svc.Stop()
		cancel()
		<-done
		events.Close()
	})
	s.opsKey = s.key(auth.RoleOps, "")
	return s
}

func (s *stack) key(role, operator string) string {
	s.t.Helper()
	secret, _, err := auth.CreateKey(s.st, role, operator, nil, "test", s.clock.Now())
	if err != nil {
		s.t.Fatal(err)
	}
	return secret
}

// do sends a JSON request and decodes a JSON answer into out (if not nil).
func (s *stack) do(method, path, key string, body, out any) int {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.srv.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			s.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

// book books a party on the main trail on 1 December between 08:00 and
// 09:00 and returns the booking with its ticket code.
func (s *stack) book(operatorKey string, party int) api.Booking {
	s.t.Helper()
	var b api.Booking
	code := s.do("POST", "/v1/bookings", operatorKey, api.BookingRequest{Date: "2026-12-01", Route: "main", PartySize: party,
		Window: api.Window{From: "08:00", To: "09:00"}, Language: "de"}, &b)
	if code != http.StatusCreated || b.Ticket == "" {
		s.t.Fatalf("POST /v1/bookings: %d %+v", code, b)
	}
	return b
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
		time.Sleep(20 * time.Millisecond)
	}
}

var errNotYet = errors.New("not yet")
