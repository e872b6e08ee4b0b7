package api

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/tickets"
)

// engineScanner decides scans the way the NATS responder does: verify the
// ticket, then ask the engine. It is a real Scanner, not a stand-in.
type engineScanner struct {
	eng *engine.Engine
	pub ed25519.PublicKey
}

func (s engineScanner) Decide(ctx context.Context, gate string, req scheduler.ScanRequest) scheduler.ScanResult {
	reject := func(reason string) scheduler.ScanResult {
		return scheduler.ScanResult{Decision: scheduler.DecisionReject, Reason: reason, Gate: gate, Message: scheduler.Message(reason)}
	}
	tk, err := tickets.Verify(s.pub, req.Ticket)
	switch {
	case errors.Is(err, tickets.ErrSignature):
		return reject(scheduler.ReasonInvalidSignature)
	case err != nil:
		return reject(scheduler.ReasonUnknownTicket)
	}
	if req.Count == 0 {
		req.Count = 1
	}
	res, err := s.eng.Do(ctx, scheduler.Scan{Gate: gate, Ticket: tk, Count: req.Count, ScanID: req.ScanID, Device: req.Device})
	if err != nil || res.Scan == nil {
		return scheduler.ScanResult{} // undecided, as the sensors package answers
	}
	return *res.Scan
}

func TestScans(t *testing.T) {
	var h *harness
	h = newHarness(t, func(o *Options) { o.Gate = &lateScanner{h: &h} })
	op := h.key(auth.RoleOperator, "desert-tours", nil)
	b := h.book(op, BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 12, Window: Window{"09:00", "10:00"}})
	h.clock.Set(time.Date(2026, 12, 1, 9, 2, 0, 0, testenv.Amman))

	all := h.key(auth.RoleGate, "", nil)
	back := h.key(auth.RoleGate, "", []string{"little-petra"})
	scan := func(key, gate string, count int, id string) (int, scheduler.ScanResult) {
		r := h.do("POST", "/v1/scans", key, ScanBody{Gate: gate, ScanRequest: scheduler.ScanRequest{Ticket: b.Ticket, Count: count, ScanID: id, Device: "dev7", At: "2026-12-01T09:02:00+03:00"}})
		var res scheduler.ScanResult
		if r.code == http.StatusOK {
			r.decode(t, &res)
		}
		return r.code, res
	}
	if code, _ := scan(back, "visitor-centre", 12, "s1"); code != http.StatusForbidden {
		t.Errorf("gate key for little-petra at visitor-centre: %d", code)
	}
	code, res := scan(all, "visitor-centre", 10, "s2")
	if code != 200 || res.Decision != scheduler.DecisionAdmit || res.Admitted != 10 || res.Remaining != 2 || res.Booking != b.ID {
		t.Fatalf("first scan: %d %+v", code, res)
	}
	if code, again := scan(all, "visitor-centre", 10, "s2"); code != 200 || again.Admitted != 10 || again.Remaining != 2 {
		t.Errorf("retried scan_id: %d %+v, want the same answer", code, again)
	}
	code, res = scan(h.opsKey, "visitor-centre", 5, "s3")
	if code != 200 || res.Decision != scheduler.DecisionPartial || res.Admitted != 2 {
		t.Errorf("ops scan of 5 with 2 left: %d %+v", code, res)
	}
	if _, res = scan(all, "visitor-centre", 1, "s4"); res.Reason != scheduler.ReasonAlreadyUsed {
		t.Errorf("scan of a used ticket: %+v", res)
	}
	if _, res = scan(back, "little-petra", 1, "s5"); res.Reason != scheduler.ReasonAlreadyUsed && res.Reason != scheduler.ReasonWrongGate {
		t.Errorf("scan at little-petra: %+v", res)
	}
	r := h.do("POST", "/v1/scans", all, `{"gate":"back-door","ticket":"x"}`)
	if r.code != 400 || r.errorBody(t).Field != "gate" {
		t.Errorf("unknown gate: %d %s", r.code, r.body)
	}
	r = h.do("POST", "/v1/scans", all, `{"ticket":"x"}`)
	if r.code != 400 || r.errorBody(t).Field != "gate" {
		t.Errorf("no gate: %d %s", r.code, r.body)
	}
	r = h.do("POST", "/v1/scans", all, `{"gate":"visitor-centre","ticket":"TFW1.forged.sig","count":1}`)
	var forged scheduler.ScanResult
	r.decode(t, &forged)
	if r.code != 200 || forged.Decision != scheduler.DecisionReject {
		t.Errorf("forged ticket: %d %+v", r.code, forged)
	}
	var got Booking
	h.do("GET", "/v1/bookings/"+b.ID, op, nil).decode(t, &got)
	if got.Admitted != 12 || got.Status != scheduler.StatusCompleted {
		t.Errorf("after the scans: %+v", got)
	}
	h.stop()
	if r := h.do("POST", "/v1/scans", all, ScanBody{Gate: "visitor-centre", ScanRequest: scheduler.ScanRequest{Ticket: b.Ticket, ScanID: "s9"}}); r.code != 503 || r.errorBody(t).Code != CodeUnavailable {
		t.Errorf("scan with the scheduler stopped: %d %s", r.code, r.body)
	}
}

// lateScanner lets the harness be built before the scanner that needs it.
type lateScanner struct{ h **harness }

func (l *lateScanner) Decide(ctx context.Context, gate string, req scheduler.ScanRequest) scheduler.ScanResult {
	h := *l.h
	return engineScanner{eng: h.eng, pub: h.pub}.Decide(ctx, gate, req)
}

func TestOperations(t *testing.T) {
	h := newHarness(t, nil)
	op := h.key(auth.RoleOperator, "desert-tours", nil)
	// A group today at 11:00, within the status horizon.
	today := h.book(op, BookingRequest{Date: "2026-11-29", Route: "main", PartySize: 30, Window: Window{"11:00", "12:00"}})

	var st Status
	r := h.do("GET", "/v1/status", op, nil)
	r.decode(t, &st)
	if r.code != 200 || st.Clock != "manual" || st.SiteClosed || len(st.Zones) != len(h.cfg.Zones) || len(st.Evacuation.Zones) != len(h.cfg.Zones) {
		t.Fatalf("status: %d %s", r.code, r.body)
	}
	if len(st.Waves) != 1 || st.Waves[0].Booked != 30 || !st.Waves[0].Slot.Equal(today.Slot) || st.Closures == nil {
		t.Errorf("status waves %+v closures %v", st.Waves, st.Closures)
	}
	if !strings.Contains(string(r.body), `"at":"2026-11-29T10:00:00+03:00"`) {
		t.Errorf("status time not in the site's zone: %s", r.body)
	}

	// Close the Siq: the group is re-planned around it, status shows it.
	r = h.do("POST", "/v1/closures", h.opsKey, ClosureRequest{Zones: []string{"siq"}, Reason: "flood warning"})
	if r.code != http.StatusCreated {
		t.Fatalf("close: %d %s", r.code, r.body)
	}
	var cl scheduler.Closure
	r.decode(t, &cl)
	if !strings.HasPrefix(cl.ID, "cl_") || cl.Source != "ops" || cl.Reason != "flood warning" || r.header.Get("Location") != "/v1/closures/"+cl.ID {
		t.Errorf("closure %+v", cl)
	}
	h.do("GET", "/v1/status", h.opsKey, nil).decode(t, &st)
	if len(st.Closures) != 1 || st.SiteClosed || !zone(st.Zones, "siq").Closed {
		t.Errorf("status after closing the Siq: closures %+v, site closed %v", st.Closures, st.SiteClosed)
	}
	var got Booking
	h.do("GET", "/v1/bookings/"+today.ID, op, nil).decode(t, &got)
	if got.Status == scheduler.StatusConfirmed {
		t.Errorf("the group crossing the closed Siq is still %+v", got)
	}

	// The whole site.
	r = h.do("POST", "/v1/closures", h.opsKey, `{"all":true,"reason":"evacuation","until":"2026-11-29T18:00:00+03:00"}`)
	var site scheduler.Closure
	r.decode(t, &site)
	if r.code != 201 || !site.Until.Equal(time.Date(2026, 11, 29, 18, 0, 0, 0, testenv.Amman)) {
		t.Fatalf("site closure: %d %s", r.code, r.body)
	}
	h.do("GET", "/v1/status", op, nil).decode(t, &st)
	if !st.SiteClosed || len(st.Closures) != 2 {
		t.Errorf("site closed %v, closures %d", st.SiteClosed, len(st.Closures))
	}
	var list ClosureList
	h.do("GET", "/v1/closures", h.opsKey, nil).decode(t, &list)
	if len(list.Closures) != 2 {
		t.Errorf("closures listed: %d", len(list.Closures))
	}
	for _, id := range []string{cl.ID, site.ID} {
		r := h.do("DELETE", "/v1/closures/"+id, h.opsKey, nil)
		var lifted scheduler.Closure
		r.decode(t, &lifted)
		if r.code != 200 || lifted.Lifted.IsZero() {
			t.Errorf("reopen %s: %d %s", id, r.code, r.body)
		}
	}
	if r := h.do("DELETE", "/v1/closures/"+cl.ID, h.opsKey, nil); r.code != http.StatusConflict {
		t.Errorf("second reopen: %d", r.code)
	}
	h.do("GET", "/v1/status", op, nil).decode(t, &st)
	if st.SiteClosed || len(st.Closures) != 0 {
		t.Errorf("after reopening: site closed %v, closures %v", st.SiteClosed, st.Closures)
	}

	// Holds and resets answer the zone.
	var z scheduler.ZoneOccupancy
	r = h.do("POST", "/v1/holds", h.opsKey, `{"zone":"treasury","on":true}`)
	r.decode(t, &z)
	if r.code != 200 || z.Zone != "treasury" || !z.Held {
		t.Errorf("hold: %d %s", r.code, r.body)
	}
	r = h.do("POST", "/v1/holds", h.opsKey, `{"zone":"treasury","on":false}`)
	r.decode(t, &z)
	if r.code != 200 || z.Held {
		t.Errorf("release: %d %s", r.code, r.body)
	}
	r = h.do("POST", "/v1/zones/siq/reset", h.opsKey, nil)
	r.decode(t, &z)
	if r.code != 200 || z.Zone != "siq" || z.Live != 0 {
		t.Errorf("reset: %d %s", r.code, r.body)
	}

	var occ Occupancy
	r = h.do("GET", "/v1/occupancy", op, nil)
	r.decode(t, &occ)
	if r.code != 200 || len(occ.Zones) != len(h.cfg.Zones) {
		t.Errorf("occupancy: %d %s", r.code, r.body)
	}

	// Keys made over the API work at once, shown once.
	r = h.do("POST", "/v1/keys", h.opsKey, KeyRequest{Role: "operator", Operator: "new-op", Name: "New Operator"})
	var k KeyCreated
	r.decode(t, &k)
	if r.code != http.StatusCreated || !strings.HasPrefix(k.Key, auth.SecretPrefix) || !strings.HasPrefix(k.Key, k.Prefix) || k.Operator != "new-op" {
		t.Fatalf("key: %d %s", r.code, r.body)
	}
	if r := h.do("GET", "/v1/bookings", k.Key, nil); r.code != 200 {
		t.Errorf("new key: %d %s", r.code, r.body)
	}
	r = h.do("POST", "/v1/keys", h.opsKey, KeyRequest{Role: "gate", Gates: []string{"little-petra"}})
	if r.code != http.StatusCreated {
		t.Errorf("gate key: %d %s", r.code, r.body)
	}
}

func zone(zs []scheduler.ZoneOccupancy, id string) scheduler.ZoneOccupancy {
	for _, z := range zs {
		if z.Zone == id {
			return z
		}
	}
	return scheduler.ZoneOccupancy{}
}

func TestHealthAndReadiness(t *testing.T) {
	var ready error
	h := newHarness(t, func(o *Options) { o.Ready = func() error { return ready } })
	var hl Health
	r := h.do("GET", "/healthz", "", nil)
	r.decode(t, &hl)
	if r.code != 200 || hl.Status != "ok" || hl.Clock != "manual" || !hl.Time.Equal(storyNow) {
		t.Errorf("healthz: %d %s", r.code, r.body)
	}
	if !strings.Contains(string(r.body), "+03:00") {
		t.Errorf("healthz time not in the site's zone: %s", r.body)
	}
	if r := h.do("GET", "/readyz", "", nil); r.code != 200 {
		t.Errorf("readyz: %d %s", r.code, r.body)
	}
	ready = errors.New("nats: not connected")
	r = h.do("GET", "/readyz", "", nil)
	if r.code != 503 || r.errorBody(t).Code != CodeNotReady || !strings.Contains(string(r.body), "nats: not connected") {
		t.Errorf("readyz when NATS is down: %d %s", r.code, r.body)
	}
	ready = nil
	h.stop()
	if r := h.do("GET", "/readyz", "", nil); r.code != 503 {
		t.Errorf("readyz with the engine stopped: %d %s", r.code, r.body)
	}
	op := h.key(auth.RoleOperator, "desert-tours", nil)
	r = h.do("POST", "/v1/bookings", op, BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 2, Window: Window{"09:00", "10:00"}})
	if r.code != 503 || r.errorBody(t).Code != CodeUnavailable {
		t.Errorf("booking with the engine stopped: %d %s", r.code, r.body)
	}
	if r := h.do("GET", "/healthz", "", nil); r.code != 200 {
		t.Errorf("healthz with the engine stopped: %d", r.code)
	}
}

func TestMetrics(t *testing.T) {
	h := newHarness(t, nil)
	op := h.key(auth.RoleOperator, "desert-tours", nil)
	for range 3 {
		h.book(op, BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 2, Window: Window{"09:00", "10:00"}})
	}
	h.do("POST", "/v1/bookings", op, `{`)
	h.do("GET", "/v1/bookings/bk_a", op, nil)
	h.do("GET", "/v1/bookings/bk_b", op, nil)
	h.do("GET", "/no/such/thing", "", nil)
	m := h.api.m
	for _, c := range []struct {
		route, method, code string
		want                float64
	}{
		{"/v1/bookings", "POST", "201", 3},
		{"/v1/bookings", "POST", "400", 1},
		{"/v1/bookings/{id}", "GET", "404", 2},
		{"unmatched", "GET", "404", 1},
	} {
		if got := testutil.ToFloat64(m.requests.WithLabelValues(c.route, c.method, c.code)); got != c.want {
			t.Errorf("requests{%s %s %s} = %v, want %v", c.route, c.method, c.code, got, c.want)
		}
	}
	if n := testutil.CollectAndCount(m.duration); n < 3 {
		t.Errorf("duration series: %d", n)
	}
	problems, err := testutil.CollectAndLint(m.requests)
	if err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
	problems, err = testutil.CollectAndLint(m.duration)
	if err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
	if n, err := testutil.GatherAndCount(h.reg, "tafweej_http_requests_total"); err != nil || n == 0 {
		t.Errorf("not registered with Options.Registerer: %d %v", n, err)
	}
}

func TestExtraRoutes(t *testing.T) {
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("gate page")) })
	h := newHarness(t, func(o *Options) { o.Extra = map[string]http.Handler{"/gate": page} })
	r := h.do("GET", "/gate", "", nil)
	if r.code != 200 || string(r.body) != "gate page" {
		t.Errorf("/gate: %d %s", r.code, r.body)
	}
	if got := testutil.ToFloat64(h.api.m.requests.WithLabelValues("/gate", "GET", "200")); got != 1 {
		t.Errorf("extra route counted %v", got)
	}
	for _, bad := range []string{"/v1/extra", "GET /v1/x", "/{bad"} {
		_, err := New(Options{Engine: h.eng, Store: h.st, Signer: h.api.signer, Extra: map[string]http.Handler{bad: page}})
		if err == nil {
			t.Errorf("extra route %q accepted", bad)
		}
	}
	if _, err := New(Options{Engine: h.eng}); err == nil {
		t.Error("New without Store and Signer accepted")
	}
}
