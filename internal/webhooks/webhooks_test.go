package webhooks_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/internal/webhooks"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// TestWebhookDeliveryVerifiedByIndependentImplementation: an operator's
// cancellation reaches its endpoint signed so that a receiver written from
// the specification verifies it; the webhook-id is the delivery's id; the
// delivery is listed as delivered with the receiver's answer; the secret is
// in no log line.
func TestWebhookDeliveryVerifiedByIndependentImplementation(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true})
	op := e.key("operator", "jett-tours")
	r := newReceiver(t)
	wh := e.register(op, r)
	if !strings.HasPrefix(wh.Secret, "whsec_") || !strings.HasPrefix(wh.ID, "wh_") || wh.URL != r.srv.URL+"/hook" {
		t.Fatalf("POST /v1/webhooks answered %+v", wh)
	}
	b := e.book(op, "main", "08:00", "10:00")
	e.call("DELETE", "/v1/bookings/"+b.ID, op, nil, nil, http.StatusOK)

	checkFor(t, 10*time.Second, func() error {
		if len(r.delivered()) < 1 {
			return errors.New("no delivery yet")
		}
		return nil
	})
	got := r.all()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1 (booking.cancelled): %+v", len(got), got)
	}
	if got[0].Invalid != nil {
		t.Fatalf("signature does not verify: %v", got[0].Invalid)
	}
	if got[0].Type != webhooks.TypeBookingCancelled || got[0].Data["booking"] != b.ID {
		t.Fatalf("payload %s, want booking.cancelled of %s", got[0].Body, b.ID)
	}
	// A receiver with another secret refuses it.
	other := newReceiver(t)
	other.setSecrets("whsec_" + strings.Repeat("A", 44))
	if err := verify(other.secrets[0], http.Header{"Webhook-Id": {got[0].ID}, "Webhook-Timestamp": {fmt.Sprint(time.Now().Unix())},
		"Webhook-Signature": {"v1,AAAA"}}, got[0].Body, time.Now()); err == nil {
		t.Fatal("the verifier accepts a wrong signature: it cannot fail")
	}

	// The receiver has answered; the delivery is recorded as delivered
	// just after (the worker writes it once the answer is in).
	var list api.WebhookDeliveryList
	testenv.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		list = api.WebhookDeliveryList{}
		e.call("GET", "/v1/webhooks/"+wh.ID+"/deliveries", op, nil, &list, http.StatusOK)
		if len(list.Deliveries) != 1 || list.Deliveries[0].Status != store.DeliveryDelivered {
			return fmt.Errorf("deliveries: %+v", list)
		}
		return nil
	})
	d := list.Deliveries[0]
	if d.ID != got[0].ID || d.Status != store.DeliveryDelivered || d.ResponseCode != http.StatusNoContent || d.Attempts != 1 ||
		string(d.Payload) != string(got[0].Body) {
		t.Fatalf("delivery listed as %+v; the receiver got id %s, body %s", d, got[0].ID, got[0].Body)
	}
	// The list shows no secret.
	var eps api.WebhookList
	e.call("GET", "/v1/webhooks", op, nil, &eps, http.StatusOK)
	if len(eps.Webhooks) != 1 || eps.Webhooks[0].ID != wh.ID {
		t.Fatalf("GET /v1/webhooks: %+v", eps)
	}
	// Replay: the same message, the same webhook-id, once more.
	e.call("POST", "/v1/webhooks/"+wh.ID+"/deliveries/"+d.ID+"/replay", op, nil, nil, http.StatusAccepted)
	checkFor(t, 10*time.Second, func() error {
		if n := len(r.all()); n < 2 {
			return fmt.Errorf("%d requests, want the replay too", n)
		}
		return nil
	})
	if again := r.all()[1]; again.ID != d.ID || string(again.Body) != string(got[0].Body) || again.Invalid != nil {
		t.Fatalf("replay sent id %s (%v), want the same message %s", again.ID, again.Invalid, d.ID)
	}
	if logs := e.logs.String(); strings.Contains(logs, wh.Secret) || strings.Contains(logs, strings.TrimPrefix(wh.Secret, "whsec_")) {
		t.Fatalf("the webhook secret is in the logs:\n%s", logs)
	}
	if !strings.Contains(e.logs.String(), wh.ID) {
		t.Fatal("the logs were not captured (no line names the endpoint): the secret check above proves nothing")
	}
	if n, err := testutil.GatherAndCount(e.reg, "tafweej_webhook_deliveries_total"); err != nil || n == 0 {
		t.Fatalf("tafweej_webhook_deliveries_total not exported: %d, %v", n, err)
	}
}

// TestWebhookRotatedSecretSignsWithBothForADay: after a rotation each
// delivery verifies with the new secret and, for a day, with the old one.
func TestWebhookRotatedSecretSignsWithBothForADay(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true})
	op := e.key("operator", "jett-tours")
	r := newReceiver(t)
	wh := e.register(op, r)
	var rot api.WebhookCreated
	e.call("POST", "/v1/webhooks/"+wh.ID+"/rotate", op, nil, &rot, http.StatusOK)
	if rot.Secret == wh.Secret || !strings.HasPrefix(rot.Secret, "whsec_") {
		t.Fatalf("rotate answered %+v", rot)
	}
	for _, secret := range []string{rot.Secret, wh.Secret} {
		r.setSecrets(secret)
		b := e.book(op, "main", "08:00", "10:00")
		e.call("DELETE", "/v1/bookings/"+b.ID, op, nil, nil, http.StatusOK)
		checkFor(t, 10*time.Second, func() error {
			for _, g := range r.all() {
				if g.Data["booking"] == b.ID {
					return g.Invalid
				}
			}
			return errors.New("not delivered yet")
		})
	}
	r.setSecrets("whsec_" + strings.Repeat("QUFB", 8))
	b := e.book(op, "main", "08:00", "10:00")
	e.call("DELETE", "/v1/bookings/"+b.ID, op, nil, nil, http.StatusOK)
	checkFor(t, 10*time.Second, func() error {
		for _, g := range r.all() {
			if g.Data["booking"] == b.ID {
				if g.Invalid == nil {
					t.Fatal("a delivery verifies with an unrelated secret")
				}
				return nil
			}
		}
		return errors.New("not delivered yet")
	})
}

// TestWebhookDeliveredAfterReceiverReturns: while the receiver answers 503
// the delivery is retried with backoff, listed as pending with its answer;
// once it is back, the event is delivered, with the same webhook-id on
// every attempt.
func TestWebhookDeliveredAfterReceiverReturns(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true})
	op := e.key("operator", "jett-tours")
	r := newReceiver(t)
	wh := e.register(op, r)
	r.setDown(true)
	b := e.book(op, "main", "08:00", "10:00")
	e.call("DELETE", "/v1/bookings/"+b.ID, op, nil, nil, http.StatusOK)
	checkFor(t, 10*time.Second, func() error {
		if n := len(r.all()); n < 3 {
			return fmt.Errorf("%d attempts while down, want 3", n)
		}
		return nil
	})
	var list api.WebhookDeliveryList
	e.call("GET", "/v1/webhooks/"+wh.ID+"/deliveries", op, nil, &list, http.StatusOK)
	if len(list.Deliveries) != 1 || list.Deliveries[0].Status != store.DeliveryPending ||
		list.Deliveries[0].ResponseCode != http.StatusServiceUnavailable || list.Deliveries[0].NextAttempt.IsZero() {
		t.Fatalf("while the receiver is down the delivery is listed as %+v", list.Deliveries)
	}
	r.setDown(false)
	checkFor(t, 10*time.Second, func() error {
		if len(r.delivered()) != 1 {
			return errors.New("not delivered after the receiver returned")
		}
		return nil
	})
	ids := map[string]bool{}
	for _, g := range r.all() {
		ids[g.ID] = true
		if g.Invalid != nil {
			t.Errorf("attempt %s: %v", g.ID, g.Invalid)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("the attempts carried %d webhook-ids, want the same one on every retry: %v", len(ids), ids)
	}
	checkFor(t, 5*time.Second, func() error {
		e.call("GET", "/v1/webhooks/"+wh.ID+"/deliveries", op, nil, &list, http.StatusOK)
		if d := list.Deliveries[0]; d.Status != store.DeliveryDelivered || d.Attempts < 4 {
			return fmt.Errorf("delivery %+v, want delivered after at least 4 attempts", d)
		}
		return nil
	})
	if got := e.gauge("tafweej_webhook_outbox_pending"); got != 0 {
		t.Fatalf("tafweej_webhook_outbox_pending = %v after delivery, want 0", got)
	}
}

// TestWebhookClosureTellsEachOperatorExactlyItsEvents: five operators with
// ten bookings each through the Siq, one endpoint each; closing the Siq
// moves (or cancels) all fifty. Each endpoint receives exactly its
// operator's booking events — one per booking, with the old and the new
// wave and the closure's reason — and one zone.closed naming exactly its
// bookings; nothing of another operator. A sixth operator whose bookings
// are on the next day gets nothing.
func TestWebhookClosureTellsEachOperatorExactlyItsEvents(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true})
	const operators, each = 5, 10
	type opState struct {
		key      string
		r        *receiver
		bookings map[string]api.Booking
	}
	ops := map[string]*opState{}
	for i := range operators {
		name := fmt.Sprintf("op-%d", i)
		o := &opState{key: e.key("operator", name), r: newReceiver(t), bookings: map[string]api.Booking{}}
		e.register(o.key, o.r)
		for j := range each {
			from := 8*60 + 15*((i*each+j)%8)
			b := e.book(o.key, "main", fmt.Sprintf("%02d:%02d", from/60, from%60), "12:00")
			o.bookings[b.ID] = b
		}
		ops[name] = o
	}
	quiet := &opState{key: e.key("operator", "next-day-tours"), r: newReceiver(t)}
	e.register(quiet.key, quiet.r)
	e.call("POST", "/v1/bookings", quiet.key, api.BookingRequest{Date: "2026-12-02", Route: "main", PartySize: 10,
		Window: api.Window{From: "08:00", To: "10:00"}}, nil, http.StatusCreated)

	var cl struct {
		ID string `json:"id"`
	}
	e.call("POST", "/v1/closures", e.opsKey, api.ClosureRequest{Zones: []string{"siq"}, Reason: "flood",
		Until: "2026-12-01T11:00:00+03:00"}, &cl, http.StatusCreated)

	kinds := map[string]int{}
	for name, o := range ops {
		// What the service says happened to the operator's bookings.
		var list api.BookingList
		e.call("GET", "/v1/bookings?date=2026-12-01", o.key, nil, &list, http.StatusOK)
		want := map[string]api.Booking{}
		for _, b := range list.Bookings {
			if b.Status == "rescheduled" || b.Status == "cancelled" {
				want[b.ID] = b
			}
		}
		if len(want) != each {
			t.Fatalf("%s: %d of its %d bookings were moved or cancelled by the closure", name, len(want), each)
		}
		checkFor(t, 10*time.Second, func() error {
			if n := len(o.r.delivered()); n < each+1 {
				return fmt.Errorf("%s: %d deliveries, want %d", name, n, each+1)
			}
			return nil
		})
		seen := map[string]bool{}
		closed := 0
		for _, g := range o.r.delivered() {
			if g.Invalid != nil {
				t.Errorf("%s: %s does not verify: %v", name, g.ID, g.Invalid)
			}
			switch g.Type {
			case webhooks.TypeZoneClosed:
				closed++
				if g.Data["closure"] != cl.ID || g.Data["reason"] != "flood" {
					t.Errorf("%s: zone.closed %s", name, g.Body)
				}
				var listed []string
				for _, id := range g.Data["bookings"].([]any) {
					listed = append(listed, id.(string))
				}
				var mine []string
				for id := range o.bookings {
					mine = append(mine, id)
				}
				slices.Sort(listed)
				slices.Sort(mine)
				if !slices.Equal(listed, mine) {
					t.Errorf("%s: zone.closed lists bookings %v, want its own %v", name, listed, mine)
				}
			case webhooks.TypeBookingMoved, webhooks.TypeBookingCancelled:
				id, _ := g.Data["booking"].(string)
				b, ok := want[id]
				if !ok {
					t.Errorf("%s received %s of booking %s, which is not one of its own changed bookings", name, g.Type, id)
					continue
				}
				if seen[id] {
					t.Errorf("%s: booking %s told twice", name, id)
				}
				seen[id] = true
				kinds[g.Type]++
				if g.Data["operator"] != name || g.Data["reason"] != "closure: flood" && !strings.Contains(fmt.Sprint(g.Data["reason"]), "flood") {
					t.Errorf("%s: %s", name, g.Body)
				}
				if g.Type == webhooks.TypeBookingMoved {
					from, _ := g.Data["from"].(map[string]any)
					to, _ := g.Data["to"].(map[string]any)
					orig := o.bookings[id]
					if from == nil || from["gate"] != orig.Gate || !sameTime(from["slot"], orig.Slot) ||
						to == nil || to["gate"] != b.Gate || !sameTime(to["slot"], b.Slot) {
						t.Errorf("%s: moved %s from %v to %v; was %s %s, now %s %s", name, id, from, to, orig.Slot, orig.Gate, b.Slot, b.Gate)
					}
				} else if b.Status != "cancelled" {
					t.Errorf("%s: told booking %s was cancelled; it is %s", name, id, b.Status)
				}
			default:
				t.Errorf("%s: unexpected %s: %s", name, g.Type, g.Body)
			}
		}
		if closed != 1 || len(seen) != each {
			t.Errorf("%s: %d zone.closed and %d of its %d bookings told", name, closed, len(seen), each)
		}
	}
	t.Logf("the closure's events: %v", kinds)
	if kinds[webhooks.TypeBookingMoved] == 0 {
		t.Error("the closure moved no booking: the old and new waves of booking.moved went untested")
	}
	// Everything is delivered by now; the quiet operator got nothing.
	if got := quiet.r.all(); len(got) != 0 {
		t.Fatalf("an operator whose bookings are on another day received %d events: %s", len(got), got[0].Body)
	}
}

func sameTime(v any, want time.Time) bool {
	s, _ := v.(string)
	got, err := time.Parse(time.RFC3339, s)
	return err == nil && got.Equal(want)
}

// TestWebhookOtherOperatorsEndpointsAreNotVisible: an operator cannot see,
// rotate, remove, list the deliveries of, or replay another's endpoint;
// ops and gate keys have no webhooks.
func TestWebhookOtherOperatorsEndpointsAreNotVisible(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true})
	a, b := e.key("operator", "alpha"), e.key("operator", "beta")
	wh := e.register(a, newReceiver(t))
	var list api.WebhookList
	e.call("GET", "/v1/webhooks", b, nil, &list, http.StatusOK)
	if len(list.Webhooks) != 0 {
		t.Fatalf("beta lists alpha's endpoint: %+v", list)
	}
	e.call("POST", "/v1/webhooks/"+wh.ID+"/rotate", b, nil, nil, http.StatusNotFound)
	e.call("GET", "/v1/webhooks/"+wh.ID+"/deliveries", b, nil, nil, http.StatusNotFound)
	e.call("POST", "/v1/webhooks/"+wh.ID+"/deliveries/msg_x/replay", b, nil, nil, http.StatusNotFound)
	e.call("DELETE", "/v1/webhooks/"+wh.ID, b, nil, nil, http.StatusNotFound)
	e.call("GET", "/v1/webhooks", e.opsKey, nil, nil, http.StatusForbidden)
	e.call("DELETE", "/v1/webhooks/"+wh.ID, a, nil, nil, http.StatusNoContent)
	e.call("GET", "/v1/webhooks", a, nil, &list, http.StatusOK)
	if len(list.Webhooks) != 0 {
		t.Fatalf("removed endpoint still listed: %+v", list)
	}
}

// TestWebhookRefusesPrivateAddresses: without AllowPrivate, URLs on
// loopback, private, link-local or unspecified addresses (literal or by
// name) are refused at registration with a 400 naming url.
func TestWebhookRefusesPrivateAddresses(t *testing.T) {
	e := newEnv(t, webhooks.Options{})
	op := e.key("operator", "jett-tours")
	for _, u := range []string{
		"http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]/hook", "http://10.1.2.3/hook",
		"http://192.168.0.10/hook", "http://172.16.5.4/hook", "http://169.254.169.254/latest/meta-data",
		"http://0.0.0.0/hook", "http://[fd00::1]/hook", "http://[::ffff:127.0.0.1]/hook", "http://100.64.0.1/hook",
		"ftp://example.com/hook", "http://user:pw@example.com/hook", "not a url",
	} {
		var out struct {
			Error api.Error `json:"error"`
		}
		e.call("POST", "/v1/webhooks", op, api.WebhookRequest{URL: u}, &out, http.StatusBadRequest)
		if out.Error.Field != "url" {
			t.Errorf("%s: refused with %+v, want field url", u, out.Error)
		}
	}
	// The unit under the check: public addresses pass.
	if _, err := e.hooks.Add(context.Background(), "jett-tours", "https://93.184.215.14/hook"); err != nil {
		t.Fatalf("a public address is refused: %v", err)
	}
}

// TestWebhookDialRefusesPrivateAddressAtDelivery: an endpoint that points
// at a loopback address when delivering (as after DNS rebinding; here
// stored directly, since registration refuses it) gets no request: the
// dialler checks the address it connects to.
func TestWebhookDialRefusesPrivateAddressAtDelivery(t *testing.T) {
	r := newReceiver(t)
	// Registered while it resolved to a public address; now it is
	// loopback. The service loads it at start.
	ep := store.WebhookEndpoint{ID: "wh_rebound", Operator: "jett-tours", URL: r.srv.URL + "/hook",
		Secret: "whsec_" + strings.Repeat("QUFB", 8), CreatedAt: time.Now()}
	e2 := newEnv(t, webhooks.Options{}, func(st *store.Badger) {
		if err := st.PutWebhook(ep); err != nil {
			t.Fatal(err)
		}
	})
	op := e2.key("operator", "jett-tours")
	b := e2.book(op, "main", "08:00", "10:00")
	e2.call("DELETE", "/v1/bookings/"+b.ID, op, nil, nil, http.StatusOK)
	var ds []store.WebhookDelivery
	checkFor(t, 10*time.Second, func() error {
		var err error
		if ds, err = e2.hooks.Deliveries("jett-tours", ep.ID); err != nil {
			return err
		}
		if len(ds) != 1 || ds[0].Attempts < 2 {
			return fmt.Errorf("deliveries %+v, want one tried twice", ds)
		}
		return nil
	})
	if !strings.Contains(ds[0].Error, "not allowed") {
		t.Fatalf("the attempt failed with %q, want the address refused", ds[0].Error)
	}
	if n := len(r.all()); n != 0 {
		t.Fatalf("the loopback receiver got %d requests", n)
	}
}

// TestWebhookMetricsLint: the webhook metrics pass promlint.
func TestWebhookMetricsLint(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true})
	problems, err := testutil.GatherAndLint(e.reg, "tafweej_webhook_deliveries_total", "tafweej_webhook_attempts_total",
		"tafweej_webhook_outbox_pending", "tafweej_webhook_endpoints", "tafweej_webhook_delivery_latency_seconds")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// TestWebhookRequestAllottedTellsTheBookingAndWave: when a planned day's
// requests are allotted at the cut-off, the operator is told each
// request's outcome with its booking and wave.
func TestWebhookRequestAllottedTellsTheBookingAndWave(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true})
	op := e.key("operator", "jett-tours")
	r := newReceiver(t)
	e.register(op, r)
	var q api.Request
	e.call("POST", "/v1/requests", op, api.RequestBody{BookingRequest: api.BookingRequest{Date: "2027-04-06", Route: "main",
		PartySize: 20, Window: api.Window{From: "08:00", To: "11:00"}}, Preferred: "09:00"}, &q, http.StatusCreated)
	// Past the cut-off (three days before, 18:00): the next tick allots.
	e.clock.Set(time.Date(2027, 4, 3, 18, 30, 0, 0, e.clock.Now().Location()))
	if _, err := e.eng.Do(context.Background(), scheduler.Tick{}); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 30*time.Second, func() error {
		for _, g := range r.delivered() {
			if g.Type == webhooks.TypeRequestAllotted {
				return nil
			}
		}
		return errors.New("no request.allotted yet")
	})
	var got api.Request
	e.call("GET", "/v1/requests/"+q.ID, op, nil, &got, http.StatusOK)
	for _, g := range r.delivered() {
		if g.Type != webhooks.TypeRequestAllotted {
			continue
		}
		wave, _ := g.Data["wave"].(map[string]any)
		if g.Invalid != nil || g.Data["request"] != q.ID || got.Booking == nil || g.Data["booking"] != got.Booking.ID ||
			wave == nil || wave["gate"] != got.Booking.Gate || !sameTime(wave["slot"], got.Booking.Slot) {
			t.Fatalf("request.allotted %s (%v); the request is %+v", g.Body, g.Invalid, got)
		}
	}
}
