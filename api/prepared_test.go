package api

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/internal/testenv/stack"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/tickets"
)

// TestBookingAnsweredOnlyOnceDurable: POST /v1/bookings prepares its 201
// (the signed ticket, the body) while the booking is being written; if the
// write fails the caller gets a 503, never the prepared 201, and a retry
// with the same Idempotency-Key once the disk is back books it.
func TestBookingAnsweredOnlyOnceDurable(t *testing.T) {
	cfg := stack.Petra(t)
	st := stack.Badger(t)
	fs := &stack.FailingStore{Store: st}
	clock := engine.NewManualClock(storyNow)
	eng, err := engine.New(engine.Options{Config: cfg, Store: fs, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { eng.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	srv, err := New(Options{Engine: eng, Store: st, Signer: tickets.NewSigner(priv), RatePerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	h := &harness{t: t, srv: hs, st: st, clock: clock}
	key := h.key(auth.RoleOperator, "op-1", nil)
	req := BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 4, Window: Window{"08:00", "12:00"}}

	fs.Fail.Store(true)
	r := h.do("POST", "/v1/bookings", key, req, "Idempotency-Key: k-1")
	if r.code != http.StatusServiceUnavailable {
		t.Fatalf("booking whose write failed: %d %s, want 503", r.code, r.body)
	}
	if e := r.errorBody(t); e.Code != CodeUnavailable {
		t.Errorf("error code %q, want %q", e.Code, CodeUnavailable)
	}
	var n int
	if err := eng.Read(context.Background(), func(s *scheduler.State, _ time.Time) { n = s.BookingCount() }); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d bookings after the failed write, want 0", n)
	}

	fs.Fail.Store(false)
	b := h.book(key, req, "Idempotency-Key: k-1")
	if b.Ticket == "" || b.Status != scheduler.StatusConfirmed {
		t.Fatalf("booking after the disk is back: %+v, want confirmed with its ticket", b)
	}
	if _, err := tickets.Verify(priv.Public().(ed25519.PublicKey), b.Ticket); err != nil {
		t.Errorf("the prepared ticket does not verify: %v", err)
	}
}
