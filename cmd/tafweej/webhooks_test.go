package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tafweej/tafweej/api"
)

// hookReceiver is a real HTTP endpoint that records every request; while
// down it answers 503.
type hookReceiver struct {
	srv *httptest.Server

	mu   sync.Mutex // guards down, got
	down bool
	got  []hookRequest
}

type hookRequest struct {
	id, typ, booking string
	ok               bool // answered 2xx
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{down: true}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var p struct {
			Type string `json:"type"`
			Data struct {
				Booking string `json:"booking"`
			} `json:"data"`
		}
		json.Unmarshal(body, &p)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got = append(r.got, hookRequest{req.Header.Get("webhook-id"), p.Type, p.Data.Booking, !r.down})
		if r.down {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) requests() []hookRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookRequest(nil), r.got...)
}

// TestWebhookDeliveriesSurviveKill: with the receiver down, cancellations
// are acknowledged and their deliveries attempted; the service is killed
// with SIGKILL (once right after a cancellation was answered); when it
// comes back and the receiver is up, every event is delivered, each with
// the webhook-id its attempts before the crash carried.
func TestWebhookDeliveriesSurviveKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and kills the real service; skipped with -short")
	}
	data := t.TempDir()
	flags := []string{"--clock-start", "2026-12-01T06:00:00+03:00", "--clock-speed", "1", "--webhook-allow-private"}
	srv := startServer(t, data, flags...)
	var k api.KeyCreated
	mustHTTP(t, "POST", srv.httpURL+"/v1/keys", srv.opsKey, api.KeyRequest{Role: "operator", Operator: "jett-tours"}, &k, http.StatusCreated)
	r := newHookReceiver(t)
	var wh api.WebhookCreated
	mustHTTP(t, "POST", srv.httpURL+"/v1/webhooks", k.Key, api.WebhookRequest{URL: r.srv.URL + "/hook"}, &wh, http.StatusCreated)

	book := func() string {
		var b api.Booking
		mustHTTP(t, "POST", srv.httpURL+"/v1/bookings", k.Key, api.BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 10,
			Window: api.Window{From: "09:00", To: "12:00"}}, &b, http.StatusCreated)
		return b.ID
	}
	var cancelled []string
	for range 5 {
		id := book()
		mustHTTP(t, "DELETE", srv.httpURL+"/v1/bookings/"+id, k.Key, nil, nil, http.StatusOK)
		cancelled = append(cancelled, id)
	}
	// Each was tried (and refused) before the crash: its webhook-id is known.
	before := map[string]string{} // booking → webhook-id
	checkFor(t, 30*time.Second, func() error {
		for _, g := range r.requests() {
			if g.typ == "booking.cancelled" {
				before[g.booking] = g.id
			}
		}
		if len(before) < len(cancelled) {
			return fmt.Errorf("%d of %d cancellations attempted", len(before), len(cancelled))
		}
		return nil
	})
	// The receiver has seen each attempt; its outcome is recorded just
	// after, so wait for that too.
	checkFor(t, 10*time.Second, func() error {
		var list api.WebhookDeliveryList
		mustHTTP(t, "GET", srv.httpURL+"/v1/webhooks/"+wh.ID+"/deliveries", k.Key, nil, &list, http.StatusOK)
		for _, d := range list.Deliveries {
			if d.Status != "pending" || d.ResponseCode != http.StatusServiceUnavailable {
				return fmt.Errorf("before the crash delivery %s is %s (HTTP %d), want pending after a 503", d.ID, d.Status, d.ResponseCode)
			}
		}
		return nil
	})
	// One more, killed right after its answer.
	last := book()
	mustHTTP(t, "DELETE", srv.httpURL+"/v1/bookings/"+last, k.Key, nil, nil, http.StatusOK)
	srv.kill()
	cancelled = append(cancelled, last)

	r.mu.Lock()
	r.down = false
	r.mu.Unlock()
	srv = startServer(t, data, flags...)
	checkFor(t, 30*time.Second, func() error {
		ok := map[string]bool{}
		for _, g := range r.requests() {
			if g.ok && g.typ == "booking.cancelled" {
				ok[g.booking] = true
			}
		}
		for _, id := range cancelled {
			if !ok[id] {
				return fmt.Errorf("booking.cancelled of %s not delivered after the restart", id)
			}
		}
		return nil
	})
	for _, g := range r.requests() {
		if want, seen := before[g.booking]; seen && g.id != want {
			t.Errorf("booking %s: webhook-id %s after the restart, %s before", g.booking, g.id, want)
		}
	}
	var list api.WebhookDeliveryList
	checkFor(t, 10*time.Second, func() error {
		mustHTTP(t, "GET", srv.httpURL+"/v1/webhooks/"+wh.ID+"/deliveries", k.Key, nil, &list, http.StatusOK)
		if len(list.Deliveries) != len(cancelled) {
			return fmt.Errorf("%d deliveries listed, want %d", len(list.Deliveries), len(cancelled))
		}
		for _, d := range list.Deliveries {
			if d.Status != "delivered" {
				return fmt.Errorf("delivery %s is %s", d.ID, d.Status)
			}
		}
		return nil
	})
	if strings.Contains(srv.log.String(), wh.Secret) {
		t.Fatal("the webhook secret is in the service's log")
	}
}

// TestWebhooksCLI: add prints the secret once, list and deliveries show the
// endpoint, --json prints the API's fields, a missing argument is a usage
// error (exit 2).
func TestWebhooksCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real service; skipped with -short")
	}
	srv := startServer(t, t.TempDir(), "--webhook-allow-private")
	var k api.KeyCreated
	mustHTTP(t, "POST", srv.httpURL+"/v1/keys", srv.opsKey, api.KeyRequest{Role: "operator", Operator: "jett-tours"}, &k, http.StatusCreated)
	r := newHookReceiver(t)
	run := func(want int, args ...string) string {
		t.Helper()
		out, code := runCLICombined(t, append([]string{"--server", srv.httpURL, "--key", k.Key}, args...)...)
		if code != want {
			t.Fatalf("tafweej %s: exit %d, want %d:\n%s", strings.Join(args, " "), code, want, out)
		}
		return out
	}
	var created api.WebhookCreated
	if err := json.Unmarshal([]byte(run(0, "webhooks", "add", r.srv.URL+"/hook", "--json")), &created); err != nil || !strings.HasPrefix(created.Secret, "whsec_") {
		t.Fatalf("webhooks add --json: %+v, %v", created, err)
	}
	if out := run(0, "webhooks", "list"); !strings.Contains(out, created.ID) || strings.Contains(out, created.Secret) {
		t.Fatalf("webhooks list:\n%s", out)
	}
	if out := run(0, "webhooks", "rotate", created.ID); !strings.Contains(out, "whsec_") || strings.Contains(out, created.Secret) {
		t.Fatalf("webhooks rotate:\n%s", out)
	}
	if out := run(0, "webhooks", "deliveries", created.ID); !strings.Contains(out, "WEBHOOK-ID") {
		t.Fatalf("webhooks deliveries:\n%s", out)
	}
	run(2, "webhooks", "replay", created.ID)
	run(3, "webhooks", "replay", created.ID, "msg_none")
	run(0, "webhooks", "remove", created.ID)
	if out := run(0, "webhooks", "list", "--json"); !strings.Contains(out, `"webhooks": []`) {
		t.Fatalf("webhooks list --json after remove:\n%s", out)
	}
}

// runCLICombined runs the binary with the test's environment and returns
// its combined output and exit code.
func runCLICombined(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(tafweejBinary(t), args...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	}
	t.Fatalf("run tafweej %s: %v", strings.Join(args, " "), err)
	return "", -1
}
