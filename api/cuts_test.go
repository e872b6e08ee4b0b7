package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/scheduler"
)

// TestCapacityCut: rain makes the Siq slippery; operations cut its
// capacity to 300 until 14:00. The groups over it are moved, occupancy
// shows the lower capacity, and the capacity returns when the cut is
// lifted.
func TestCapacityCut(t *testing.T) {
	h := newHarness(t, nil)
	op := h.key(auth.RoleOperator, "desert-tours", nil)
	const date = "2026-11-29" // today on the harness's clock, 10:00
	for i := range 12 {
		h.book(h.key(auth.RoleOperator, fmt.Sprintf("op-%d", i%4), nil), BookingRequest{Date: date, Route: "main", PartySize: 50,
			Window: Window{From: "10:00", To: "15:00"}})
	}
	until := time.Date(2026, 11, 29, 14, 0, 0, 0, amman).Format(time.RFC3339)
	for _, tc := range []struct {
		name  string
		key   string
		body  any
		code  int
		field string
	}{
		{"operator key", op, map[string]any{"zone": "siq", "capacity": 300, "until": until, "reason": "rain"}, 403, ""},
		{"zone and gate", h.opsKey, map[string]any{"zone": "siq", "gate": "visitor-centre", "capacity": 300, "until": until, "reason": "rain"}, 400, "zone"},
		{"no capacity", h.opsKey, map[string]any{"zone": "siq", "until": until, "reason": "rain"}, 400, "capacity"},
		{"bad until", h.opsKey, map[string]any{"zone": "siq", "capacity": 300, "until": "14:00", "reason": "rain"}, 400, "until"},
		{"server field", h.opsKey, map[string]any{"zone": "siq", "capacity": 300, "until": until, "reason": "rain", "lifted": until}, 400, "lifted"},
		{"not a cut", h.opsKey, map[string]any{"zone": "siq", "capacity": 5000, "until": until, "reason": "rain"}, 400, "capacity"},
	} {
		r := h.do("POST", "/v1/cuts", tc.key, tc.body)
		if r.code != tc.code {
			t.Errorf("%s: %d %s, want %d", tc.name, r.code, r.body, tc.code)
		} else if tc.field != "" && r.errorBody(t).Field != tc.field {
			t.Errorf("%s: %s, want field %q", tc.name, r.body, tc.field)
		}
	}

	r := h.do("POST", "/v1/cuts", h.opsKey, map[string]any{"zone": "siq", "capacity": 300, "until": until, "reason": "rain: slippery path"})
	if r.code != http.StatusCreated {
		t.Fatalf("POST /v1/cuts: %d %s", r.code, r.body)
	}
	var cut scheduler.CapacityCut
	r.decode(t, &cut)
	if !strings.HasPrefix(cut.ID, "cu_") || cut.Capacity != 300 || r.header.Get("Location") != "/v1/cuts/"+cut.ID {
		t.Fatalf("cut %+v", cut)
	}
	moved := 0
	var list BookingList
	h.do("GET", "/v1/bookings?date="+date, h.opsKey, nil).decode(t, &list)
	for _, b := range list.Bookings {
		if b.Reason == "capacity cut: rain: slippery path" {
			moved++
		}
	}
	if moved == 0 {
		t.Fatalf("a cut to 300 of a Siq holding 600 moved nobody: %s", h.do("GET", "/v1/bookings?date="+date, h.opsKey, nil).body)
	}
	var occ Occupancy
	h.do("GET", "/v1/occupancy", h.opsKey, nil).decode(t, &occ)
	for _, z := range occ.Zones {
		if z.Zone == "siq" && (z.Capacity != 300 || z.Planned > 300) {
			t.Fatalf("Siq during the cut: %+v", z)
		}
	}
	var cuts CutList
	h.do("GET", "/v1/cuts", h.opsKey, nil).decode(t, &cuts)
	if len(cuts.Cuts) != 1 || cuts.Cuts[0].ID != cut.ID {
		t.Fatalf("GET /v1/cuts: %+v", cuts)
	}
	if r := h.do("DELETE", "/v1/cuts/"+cut.ID, h.opsKey, nil); r.code != http.StatusOK {
		t.Fatalf("lift: %d %s", r.code, r.body)
	}
	if r := h.do("DELETE", "/v1/cuts/"+cut.ID, h.opsKey, nil); r.code != http.StatusConflict {
		t.Fatalf("lift twice: %d %s", r.code, r.body)
	}
	h.do("GET", "/v1/occupancy", h.opsKey, nil).decode(t, &occ)
	for _, z := range occ.Zones {
		if z.Zone == "siq" && z.Capacity != 1200 {
			t.Fatalf("Siq after the lift: %+v", z)
		}
	}
}
