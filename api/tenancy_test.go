package api

// POST/GET/DELETE /v1/requests between tenants: operators, ops acting
// for an operator, gates.

import (
	"net/http"
	"testing"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/scheduler"
)

// TestOperatorsNeverSeeEachOthersRequests: an operator never sees, lists or withdraws
// another operator's request; operations act for an operator only through
// ?operator=; gates have no access; refused requests change nothing.
func TestOperatorsNeverSeeEachOthersRequests(t *testing.T) {
	h := newHarness(t, nil)
	a := h.key(auth.RoleOperator, "desert-tours", nil)
	b := h.key(auth.RoleOperator, "rose-city", nil)
	gate := h.key(auth.RoleGate, "", []string{"visitor-centre"})
	const date = "2027-04-06" // planned; requests close 3 April 2027, 18:00
	body := func(size int) map[string]any {
		return map[string]any{"date": date, "route": "main", "party_size": size, "window": map[string]string{"from": "08:00", "to": "10:00"}}
	}
	submit := func(key, query string, size int, header ...string) Request {
		t.Helper()
		r := h.do("POST", "/v1/requests"+query, key, body(size), header...)
		if r.code != http.StatusCreated {
			t.Fatalf("POST /v1/requests%s: %d %s", query, r.code, r.body)
		}
		var q Request
		r.decode(t, &q)
		return q
	}
	list := func(key, query string) []Request {
		t.Helper()
		r := h.do("GET", "/v1/requests"+query, key, nil)
		if r.code != http.StatusOK {
			t.Fatalf("GET /v1/requests%s: %d %s", query, r.code, r.body)
		}
		var l RequestList
		r.decode(t, &l)
		return l.Requests
	}
	expect := func(what string, r response, status int, code string) {
		t.Helper()
		if r.code != status || r.errorBody(t).Code != code {
			t.Errorf("%s: %d %s, want %d %s", what, r.code, r.body, status, code)
		}
	}

	qa := submit(a, "", 20, "Idempotency-Key: same-key")
	expect("B reads A's request", h.do("GET", "/v1/requests/"+qa.ID, b, nil), http.StatusNotFound, scheduler.CodeNotFound)
	expect("B withdraws A's request", h.do("DELETE", "/v1/requests/"+qa.ID, b, nil), http.StatusNotFound, scheduler.CodeNotFound)
	expect("B withdraws A's request with ?operator=", h.do("DELETE", "/v1/requests/"+qa.ID+"?operator=desert-tours", b, nil), http.StatusNotFound, scheduler.CodeNotFound)
	expect("B lists A's requests", h.do("GET", "/v1/requests?operator=desert-tours", b, nil), http.StatusForbidden, CodeForbidden)
	expect("B requests for A", h.do("POST", "/v1/requests?operator=desert-tours", b, body(5)), http.StatusForbidden, CodeForbidden)
	if r := h.do("GET", "/v1/requests", gate, nil); r.code != http.StatusForbidden {
		t.Errorf("a gate key lists requests: %d %s", r.code, r.body)
	}
	if r := h.do("POST", "/v1/requests", gate, body(5)); r.code != http.StatusForbidden {
		t.Errorf("a gate key submits a request: %d %s", r.code, r.body)
	}
	if got := list(b, ""); len(got) != 0 {
		t.Fatalf("B lists %d requests, it made none", len(got))
	}
	// The same Idempotency-Key under another operator is another request.
	qb := submit(b, "", 10, "Idempotency-Key: same-key")
	if qb.ID == qa.ID || qb.Operator != "rose-city" {
		t.Fatalf("B's request with A's key: %+v", qb)
	}

	// Operations act for an operator only with ?operator=.
	expect("ops without ?operator=", h.do("POST", "/v1/requests", h.opsKey, body(5)), http.StatusBadRequest, scheduler.CodeInvalid)
	expect("ops with a malformed operator", h.do("POST", "/v1/requests?operator=Rose%20City", h.opsKey, body(5)), http.StatusBadRequest, scheduler.CodeInvalid)
	qo := submit(h.opsKey, "?operator=rose-city", 15)
	if qo.Operator != "rose-city" {
		t.Fatalf("ops acting for rose-city made %+v", qo)
	}
	if r := h.do("GET", "/v1/requests/"+qo.ID, b, nil); r.code != http.StatusOK {
		t.Errorf("rose-city cannot read the request ops made for it: %d %s", r.code, r.body)
	}
	expect("A reads the request ops made for B", h.do("GET", "/v1/requests/"+qo.ID, a, nil), http.StatusNotFound, scheduler.CodeNotFound)
	if got := list(h.opsKey, "?operator=rose-city"); len(got) != 2 || got[0].Operator != "rose-city" || got[1].Operator != "rose-city" {
		t.Errorf("ops listing rose-city's requests: %+v", got)
	}
	if got := list(h.opsKey, "?date="+date); len(got) != 3 {
		t.Errorf("ops listing every request of %s: %d, want 3", date, len(got))
	}

	// Bad input is refused and changes nothing.
	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"unknown field", map[string]any{"date": date, "route": "main", "party_size": 5, "window": map[string]string{"from": "08:00", "to": "10:00"}, "priority": 1}, "priority"},
		{"status set", map[string]any{"date": date, "route": "main", "party_size": 5, "window": map[string]string{"from": "08:00", "to": "10:00"}, "status": "allotted"}, "status"},
		{"no party", map[string]any{"date": date, "route": "main", "party_size": 0, "window": map[string]string{"from": "08:00", "to": "10:00"}}, "party_size"},
		{"reversed window", map[string]any{"date": date, "route": "main", "party_size": 5, "window": map[string]string{"from": "10:00", "to": "08:00"}}, "window"},
		{"no such date", map[string]any{"date": "2027-02-30", "route": "main", "party_size": 5, "window": map[string]string{"from": "08:00", "to": "10:00"}}, "date"},
		{"unknown route", map[string]any{"date": date, "route": "siq-only", "party_size": 5, "window": map[string]string{"from": "08:00", "to": "10:00"}}, "route"},
		{"malformed", `{"date": "` + date + `", "route": `, ""},
	} {
		r := h.do("POST", "/v1/requests", a, tc.body)
		if r.code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", tc.name, r.code, r.body)
			continue
		}
		if tc.field != "" && r.errorBody(t).Field != tc.field {
			t.Errorf("%s: field %q, want %q (%s)", tc.name, r.errorBody(t).Field, tc.field, r.body)
		}
	}
	if got := list(h.opsKey, ""); len(got) != 3 {
		t.Fatalf("%d requests after refused ones, want 3", len(got))
	}

	// Operations withdraw any request; a withdrawn one cannot be withdrawn
	// again, and its operator sees it withdrawn.
	if r := h.do("DELETE", "/v1/requests/"+qa.ID, h.opsKey, nil); r.code != http.StatusOK {
		t.Fatalf("ops withdraws A's request: %d %s", r.code, r.body)
	}
	expect("withdraw twice", h.do("DELETE", "/v1/requests/"+qa.ID, a, nil), http.StatusConflict, scheduler.CodeConflict)
	var got Request
	h.do("GET", "/v1/requests/"+qa.ID, a, nil).decode(t, &got)
	if got.Status != scheduler.RequestWithdrawn {
		t.Fatalf("A's request after ops withdrew it: %s", got.Status)
	}
	for _, q := range list(b, "") {
		if q.Status != scheduler.RequestPending {
			t.Fatalf("B's request %s is %s after A's was withdrawn", q.ID, q.Status)
		}
	}
}
