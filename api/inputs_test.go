package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tafweej/tafweej/internal/auth"
)

// TestWholeSiteClosesOnlyByExplicitChoice: `"zones": null` and `"zones": []`
// are refused (the issue: null closed the whole site, like []); only
// `"all": true` closes everything. Other bodies where an empty value could
// mean "everything" are held to the same rule: a cut names one zone or
// gate, and a gate key's gates are named or left out.
func TestWholeSiteClosesOnlyByExplicitChoice(t *testing.T) {
	h := newHarness(t, nil)
	siteClosed := func() bool {
		var st Status
		h.do("GET", "/v1/status", h.opsKey, nil).decode(t, &st)
		return st.SiteClosed || len(st.Closures) > 0
	}
	for _, c := range []struct{ name, body, field, message string }{
		{"zones null", `{"zones":null,"reason":"flood"}`, "zones", "zones is null"},
		{"zones empty", `{"zones":[],"reason":"flood"}`, "zones", "zones is empty"},
		{"all false and no zones", `{"all":false,"reason":"flood"}`, "zones", `"all": true to close the whole site`},
		{"all with zones", `{"all":true,"zones":["siq"],"reason":"flood"}`, "zones", "do not also send zones"},
		{"all with null zones", `{"all":true,"zones":null,"reason":"flood"}`, "zones", "do not also send zones"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := h.do("POST", "/v1/closures", h.opsKey, c.body)
			if r.code != 400 {
				t.Fatalf("POST /v1/closures %s: %d %s", c.body, r.code, r.body)
			}
			if e := r.errorBody(t); e.Field != c.field || !strings.Contains(e.Message, c.message) {
				t.Errorf("error %+v, want field %q and %q", e, c.field, c.message)
			}
			if siteClosed() {
				t.Fatal("a refused closure closed something")
			}
		})
	}
	for _, c := range []struct{ name, path, body, field string }{
		{"cut with null zone", "/v1/cuts", `{"zone":null,"capacity":10,"until":"2026-11-29T18:00:00+03:00","reason":"rain"}`, "zone"},
		{"gate key with null gates", "/v1/keys", `{"role":"gate","gates":null}`, "gates"},
		{"gate key with no gates", "/v1/keys", `{"role":"gate","gates":[]}`, "gates"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := h.do("POST", c.path, h.opsKey, c.body)
			if r.code != 400 {
				t.Fatalf("POST %s %s: %d %s", c.path, c.body, r.code, r.body)
			}
			if e := r.errorBody(t); e.Field != c.field {
				t.Errorf("error %+v, want field %q", e, c.field)
			}
		})
	}
	r := h.do("POST", "/v1/closures", h.opsKey, `{"all":true,"reason":"evacuation"}`)
	if r.code != 201 || !siteClosed() {
		t.Fatalf(`{"all":true}: %d %s`, r.code, r.body)
	}
}

// TestControlCharactersRefusedInEveryTextField: every text field of every
// body refuses control characters and direction overrides with a 400 naming
// the field, and nothing is stored (the issue: NUL, ESC, CR/LF and U+202E
// were stored as sent in guide, reference and language).
func TestControlCharactersRefusedInEveryTextField(t *testing.T) {
	h := newHarness(t, nil)
	op := h.key(auth.RoleOperator, "desert-tours", nil)
	booking := map[string]any{"date": "2026-12-01", "route": "main", "party_size": 4,
		"window": map[string]any{"from": "08:00", "to": "12:00"}, "language": "ar", "guide": "Rami", "reference": "R-1"}
	request := map[string]any{"date": "2027-04-06", "route": "main", "party_size": 4,
		"window": map[string]any{"from": "08:00", "to": "12:00"}, "language": "ar", "guide": "Rami", "reference": "R-1"}
	bodies := []struct {
		path, key string
		body      map[string]any
		fields    []string
	}{
		{"/v1/bookings", op, booking, []string{"language", "guide", "reference", "date", "route"}},
		{"/v1/requests", op, request, []string{"language", "guide", "reference"}},
		{"/v1/closures", h.opsKey, map[string]any{"zones": []string{"siq"}, "reason": "flood"}, []string{"reason"}},
		{"/v1/cuts", h.opsKey, map[string]any{"zone": "siq", "capacity": 10, "until": "2026-11-29T18:00:00+03:00", "reason": "rain"}, []string{"reason"}},
		{"/v1/keys", h.opsKey, map[string]any{"role": "operator", "operator": "jett", "name": "Jett"}, []string{"name"}},
		{"/v1/scans", h.opsKey, map[string]any{"gate": "visitor-centre", "ticket": "x", "scan_id": "s1", "device": "dev7"}, []string{"device", "scan_id"}},
	}
	bad := map[string]string{"NUL": "\x00", "ESC": "\x1b[31m", "CR": "\r", "LF": "\n", "TAB": "\t", "DEL": "\x7f",
		"C1": "\u0085", "RLO": "\u202e", "LRO": "\u202d", "LRI": "\u2066", "PDI": "\u2069", "LS": "\u2028"}
	for _, b := range bodies {
		for _, f := range b.fields {
			for name, ch := range bad {
				t.Run(fmt.Sprintf("%s %s %s", b.path, f, name), func(t *testing.T) {
					body := map[string]any{}
					for k, v := range b.body {
						body[k] = v
					}
					body[f] = fmt.Sprint(body[f]) + ch + "x"
					data, _ := json.Marshal(body)
					r := h.do("POST", b.path, b.key, data, "Idempotency-Key: k-"+f+name)
					if r.code != 400 {
						t.Fatalf("%s with %s in %s: %d %s", b.path, name, f, r.code, r.body)
					}
					if e := r.errorBody(t); e.Field != f || !strings.Contains(e.Message, "control character") {
						t.Errorf("error %+v, want field %q and a word of the control character", e, f)
					}
				})
			}
		}
	}
	// Nested text too: the window's times.
	r := h.do("POST", "/v1/bookings", op, `{"date":"2026-12-01","route":"main","party_size":4,"window":{"from":"08:00\u001b","to":"12:00"}}`)
	if e := r.errorBody(t); r.code != 400 || e.Field != "window.from" {
		t.Errorf("control character in window.from: %d %+v", r.code, e)
	}
	// Nothing was stored.
	var list BookingList
	h.do("GET", "/v1/bookings", op, nil).decode(t, &list)
	if len(list.Bookings) != 0 {
		t.Errorf("refused bookings were stored: %+v", list.Bookings)
	}
	var cl ClosureList
	h.do("GET", "/v1/closures", h.opsKey, nil).decode(t, &cl)
	if len(cl.Closures) != 0 {
		t.Errorf("refused closures were stored: %+v", cl.Closures)
	}
	// Arabic text with its right-to-left mark is accepted.
	ok := map[string]any{}
	for k, v := range booking {
		ok[k] = v
	}
	ok["guide"] = "رامي\u200f الحسن"
	if r := h.do("POST", "/v1/bookings", op, ok); r.code != 201 {
		t.Errorf("Arabic guide name refused: %d %s", r.code, r.body)
	}
}
