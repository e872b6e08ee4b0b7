package api

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/tafweej/tafweej/internal/auth"
)

// TestErrorPaths: every refusal answers the right status, the error body
// with its code, field and a message that says what is accepted, and
// changes nothing.
func TestErrorPaths(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.MaxBodyBytes = 4 << 10 })
	op := h.key(auth.RoleOperator, "desert-tours", nil)
	gate := h.key(auth.RoleGate, "", nil)
	mine := h.book(op, BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 10, Window: Window{"09:00", "10:00"}})

	valid := `"date":"2026-12-01","route":"monastery","party_size":40,"window":{"from":"08:00","to":"10:00"}`
	obj := func(extra string) string {
		if extra == "" {
			return "{" + valid + "}"
		}
		return "{" + valid + "," + extra + "}"
	}
	with := func(field, value string) string {
		// replaces one field of the valid body
		m := map[string]string{
			"date":       `"date":"2026-12-01"`,
			"route":      `"route":"monastery"`,
			"party_size": `"party_size":40`,
			"window":     `"window":{"from":"08:00","to":"10:00"}`,
		}
		return "{" + strings.Replace(valid, m[field], value, 1) + "}"
	}
	cases := []struct {
		name         string
		method, path string
		key          string
		body         any
		header       []string
		status       int
		code         string
		field        string
		message      string // a part of the message
	}{
		{"bad JSON", "POST", "/v1/bookings", op, `{"date": "2026-12-01",`, nil, 400, "invalid_request", "", "not valid JSON"},
		{"not an object", "POST", "/v1/bookings", op, `[1, 2]`, nil, 400, "invalid_request", "", "must be a JSON object"},
		{"null body", "POST", "/v1/bookings", op, `null`, nil, 400, "invalid_request", "", "not null"},
		{"empty body", "POST", "/v1/bookings", op, ``, nil, 400, "invalid_request", "", "body is empty"},
		{"two objects", "POST", "/v1/bookings", op, obj("") + obj(""), nil, 400, "invalid_request", "", "not valid JSON"},
		{"unknown field", "POST", "/v1/bookings", op, obj(`"colour":"red"`), nil, 400, "invalid_request", "colour", `unknown field "colour" (accepted: date, route, party_size`},
		{"field in other case", "POST", "/v1/bookings", op, obj(`"Party_Size":3`), nil, 400, "invalid_request", "Party_Size", "unknown field"},
		{"forbidden fields", "POST", "/v1/bookings", op, obj(`"operator":"someone-else","status":"completed","gate":"little-petra"`), nil, 400, "invalid_request", "gate",
			`a client may not set "gate", "operator", "status": the server assigns them`},
		{"forbidden admitted", "POST", "/v1/bookings", op, obj(`"admitted":40`), nil, 400, "invalid_request", "admitted", "may not set \"admitted\""},
		{"forbidden slot", "POST", "/v1/bookings", op, obj(`"slot":"2026-12-01T08:00:00+03:00"`), nil, 400, "invalid_request", "slot", "may not set \"slot\""},
		{"forbidden id", "POST", "/v1/bookings", op, obj(`"id":"bk_mine"`), nil, 400, "invalid_request", "id", "may not set \"id\""},
		{"wrong type", "POST", "/v1/bookings", op, with("party_size", `"party_size":"forty"`), nil, 400, "invalid_request", "party_size", `field "party_size" must be an integer, not string`},
		{"unknown route", "POST", "/v1/bookings", op, with("route", `"route":"treasure-hunt"`), nil, 400, "invalid_request", "route", `unknown route "treasure-hunt" (known: main, monastery`},
		{"party size 0", "POST", "/v1/bookings", op, with("party_size", `"party_size":0`), nil, 400, "invalid_request", "party_size", "a group has 1 to 60 visitors"},
		{"party size over max", "POST", "/v1/bookings", op, with("party_size", `"party_size":61`), nil, 400, "invalid_request", "party_size", "party_size 61 is out of range"},
		{"window outside hours", "POST", "/v1/bookings", op, with("window", `"window":{"from":"16:00","to":"18:00"}`), nil, 422, "outside_opening_hours", "window", "16:00-18:00"},
		{"window malformed", "POST", "/v1/bookings", op, with("window", `"window":{"from":"8am","to":"10:00"}`), nil, 400, "invalid_request", "window.from", `invalid time "8am"`},
		{"window backwards", "POST", "/v1/bookings", op, with("window", `"window":{"from":"10:00","to":"08:00"}`), nil, 400, "invalid_request", "window", "from must be before to"},
		{"window missing", "POST", "/v1/bookings", op, `{"date":"2026-12-01","route":"main","party_size":4}`, nil, 400, "invalid_request", "window", "window is required"},
		{"date malformed", "POST", "/v1/bookings", op, with("date", `"date":"1/12/2026"`), nil, 400, "invalid_request", "date", "YYYY-MM-DD"},
		{"date past", "POST", "/v1/bookings", op, with("date", `"date":"2026-11-01"`), nil, 400, "invalid_request", "date", "outside the booking period"},
		{"closed evening", "POST", "/v1/bookings", op, `{"date":"2026-12-01","route":"petra-by-night","party_size":4,"window":{"from":"18:00","to":"21:00"}}`, nil, 409, "closed", "date", "does not run on 2026-12-01"},
		{"wrong content type", "POST", "/v1/bookings", op, obj(""), []string{"Content-Type: text/plain"}, 415, "unsupported_media_type", "Content-Type", "application/json"},
		{"form content type", "POST", "/v1/bookings", op, obj(""), []string{"Content-Type: application/x-www-form-urlencoded"}, 415, "unsupported_media_type", "Content-Type", ""},
		{"too large", "POST", "/v1/bookings", op, obj(`"reference":"` + strings.Repeat("x", 5000) + `"`), nil, 413, "request_too_large", "", "larger than 4096 bytes"},
		{"missing key", "POST", "/v1/bookings", "", obj(""), nil, 401, "unauthorized", "Authorization", "Authorization: Bearer <key>"},
		{"wrong key", "GET", "/v1/bookings", "tfw_not-a-key", nil, nil, 401, "unauthorized", "Authorization", "tafweej keys create"},
		{"not bearer", "GET", "/v1/bookings", "", nil, []string{"Authorization: Basic dXNlcjpwYXNz"}, 401, "unauthorized", "Authorization", "not of the form"},
		{"gate key on bookings", "POST", "/v1/bookings", gate, obj(""), nil, 403, "forbidden", "", `this key has role "gate"`},
		{"gate key on occupancy", "GET", "/v1/occupancy", gate, nil, nil, 403, "forbidden", "", "role operator or ops"},
		{"operator on closures", "POST", "/v1/closures", op, `{"zones":["siq"],"reason":"x"}`, nil, 403, "forbidden", "", "role ops"},
		{"operator on keys", "POST", "/v1/keys", op, `{"role":"ops"}`, nil, 403, "forbidden", "", "role ops"},
		{"operator on scans", "POST", "/v1/scans", op, `{}`, nil, 403, "forbidden", "", ""},
		{"unknown endpoint", "GET", "/v1/bookingz", op, nil, nil, 404, "not_found", "", "/openapi.json"},
		{"unknown top", "GET", "/nothing", "", nil, nil, 404, "not_found", "", "no endpoint GET /nothing"},
		{"wrong method", "PUT", "/v1/bookings", op, obj(""), nil, 405, "method_not_allowed", "", "allowed: GET, HEAD, POST"},
		{"unknown booking", "GET", "/v1/bookings/bk_nope", op, nil, nil, 404, "not_found", "id", `no booking "bk_nope"`},
		{"patch nothing", "PATCH", "/v1/bookings/" + mine.ID, op, `{}`, nil, 400, "invalid_request", "", "nothing to change"},
		{"patch date", "PATCH", "/v1/bookings/" + mine.ID, op, `{"date":"2026-12-02"}`, nil, 400, "invalid_request", "date", "only party_size and window can be changed"},
		{"patch status", "PATCH", "/v1/bookings/" + mine.ID, op, `{"status":"completed"}`, nil, 400, "invalid_request", "status", "the server assigns"},
		{"patch over max", "PATCH", "/v1/bookings/" + mine.ID, op, `{"party_size":100}`, nil, 400, "invalid_request", "party_size", "1 to 60"},
		{"patch unknown", "PATCH", "/v1/bookings/bk_nope", op, `{"party_size":3}`, nil, 404, "not_found", "id", ""},
		{"delete unknown", "DELETE", "/v1/bookings/bk_nope", op, nil, nil, 404, "not_found", "id", ""},
		{"availability no date", "GET", "/v1/availability?route=main", op, nil, nil, 400, "invalid_request", "date", "?date=YYYY-MM-DD"},
		{"availability no route", "GET", "/v1/availability?date=2026-12-01", op, nil, nil, 400, "invalid_request", "route", ""},
		{"availability bad route", "GET", "/v1/availability?date=2026-12-01&route=x", op, nil, nil, 400, "invalid_request", "route", `unknown route "x"`},
		{"availability bad date", "GET", "/v1/availability?date=tomorrow&route=main", op, nil, nil, 400, "invalid_request", "date", `"tomorrow"`},
		{"list bad date", "GET", "/v1/bookings?date=12/01", op, nil, nil, 400, "invalid_request", "date", "YYYY-MM-DD"},
		{"closure without zones", "POST", "/v1/closures", h.opsKey, `{"reason":"flood"}`, nil, 400, "invalid_request", "zones", "\"all\": true to close the whole site"},
		{"closure unknown zone", "POST", "/v1/closures", h.opsKey, `{"zones":["atlantis"],"reason":"flood"}`, nil, 400, "invalid_request", "zones", `unknown zone "atlantis"`},
		{"closure no reason", "POST", "/v1/closures", h.opsKey, `{"zones":["siq"],"reason":""}`, nil, 400, "invalid_request", "reason", ""},
		{"closure bad until", "POST", "/v1/closures", h.opsKey, `{"zones":["siq"],"reason":"flood","until":"tonight"}`, nil, 400, "invalid_request", "until", "RFC 3339"},
		{"closure forbidden id", "POST", "/v1/closures", h.opsKey, `{"id":"cl_x","zones":["siq"],"reason":"flood"}`, nil, 400, "invalid_request", "id", ""},
		{"reopen unknown", "DELETE", "/v1/closures/cl_nope", h.opsKey, nil, nil, 404, "not_found", "id", ""},
		{"hold without on", "POST", "/v1/holds", h.opsKey, `{"zone":"siq"}`, nil, 400, "invalid_request", "on", "on is required"},
		{"hold unknown zone", "POST", "/v1/holds", h.opsKey, `{"zone":"atlantis","on":true}`, nil, 400, "invalid_request", "zone", ""},
		{"reset unknown zone", "POST", "/v1/zones/atlantis/reset", h.opsKey, nil, nil, 400, "invalid_request", "zone", ""},
		{"key bad role", "POST", "/v1/keys", h.opsKey, `{"role":"admin"}`, nil, 400, "invalid_request", "role", "accepted: operator, gate, ops"},
		{"key operator without id", "POST", "/v1/keys", h.opsKey, `{"role":"operator"}`, nil, 400, "invalid_request", "operator", ""},
		{"key unknown gate", "POST", "/v1/keys", h.opsKey, `{"role":"gate","gates":["back-door"]}`, nil, 400, "invalid_request", "gates", `unknown gate "back-door"`},
		{"key forbidden field", "POST", "/v1/keys", h.opsKey, `{"role":"ops","key":"tfw_mine"}`, nil, 400, "invalid_request", "key", ""},
		{"scan without scanner", "POST", "/v1/scans", gate, `{"gate":"visitor-centre","ticket":"x"}`, nil, 503, "unavailable", "", "without a gate scanner"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.do(c.method, c.path, c.key, c.body, c.header...)
			if r.code != c.status {
				t.Fatalf("status %d, want %d: %s", r.code, c.status, r.body)
			}
			e := r.errorBody(t)
			if e.Code != c.code || e.Field != c.field || !strings.Contains(e.Message, c.message) {
				t.Errorf("error %+v, want code %q field %q message with %q", e, c.code, c.field, c.message)
			}
			if r.header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
			}
			if c.status == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}

	// Bad input changed nothing: the operator has its one booking, as it
	// was, and no closure was made.
	var list BookingList
	h.do("GET", "/v1/bookings", h.opsKey, nil).decode(t, &list)
	if len(list.Bookings) != 1 || list.Bookings[0].PartySize != 10 || list.Bookings[0].Version != 1 {
		t.Errorf("after the bad requests: %+v", list.Bookings)
	}
	var cl ClosureList
	h.do("GET", "/v1/closures", h.opsKey, nil).decode(t, &cl)
	if len(cl.Closures) != 0 {
		t.Errorf("closures made by bad requests: %+v", cl.Closures)
	}
}

// TestRateLimit: past the burst a key gets 429 with Retry-After; another
// key is not affected.
func TestRateLimit(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.RatePerSecond, o.Burst = 0.1, 3 })
	a := h.key(auth.RoleOperator, "desert-tours", nil)
	b := h.key(auth.RoleOperator, "wadi-two", nil)
	for i := range 3 {
		if r := h.do("GET", "/v1/bookings", a, nil); r.code != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, r.code, r.body)
		}
	}
	r := h.do("GET", "/v1/bookings", a, nil)
	if r.code != http.StatusTooManyRequests || r.errorBody(t).Code != CodeRateLimited {
		t.Fatalf("4th request: %d %s", r.code, r.body)
	}
	if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After %q", ra)
	}
	if r := h.do("GET", "/v1/bookings", b, nil); r.code != http.StatusOK {
		t.Errorf("another key: %d", r.code)
	}
	// A refused request does not use up the bucket further: the wait stays
	// at most one token's (10 s at 0.1/s).
	r = h.do("GET", "/v1/bookings", a, nil)
	if ra, err := strconv.Atoi(r.header.Get("Retry-After")); r.code != 429 || err != nil || ra < 1 || ra > 10 {
		t.Errorf("after a refusal: %d, Retry-After %q, want 1 to 10", r.code, r.header.Get("Retry-After"))
	}
	// Health probes are not limited.
	for range 5 {
		if r := h.do("GET", "/healthz", "", nil); r.code != http.StatusOK {
			t.Fatalf("healthz: %d", r.code)
		}
	}
}
