package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/internal/testenv"
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
	until := time.Date(2026, 11, 29, 14, 0, 0, 0, testenv.Amman).Format(time.RFC3339)
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

// TestCutsRefuseBadInputAndLiftBeforeStart: POST /v1/cuts refuses bad times, zones, gates,
// capacities and reasons with the field named, and changes nothing; a
// cut not yet started can be lifted and then is listed no more; a gate's
// cut shows in the availability.
func TestCutsRefuseBadInputAndLiftBeforeStart(t *testing.T) {
	h := newHarness(t, nil) // 29 November 2026, 10:00
	at := func(day, hour int) string {
		return time.Date(2026, 11, day, hour, 0, 0, 0, testenv.Amman).Format(time.RFC3339)
	}
	cuts := func() int {
		var l CutList
		h.do("GET", "/v1/cuts", h.opsKey, nil).decode(t, &l)
		return len(l.Cuts)
	}
	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		field  string
	}{
		{"until in the past", map[string]any{"zone": "siq", "capacity": 300, "until": at(29, 9), "reason": "rain"}, 400, "until"},
		{"from after until", map[string]any{"zone": "siq", "capacity": 300, "from": at(30, 12), "until": at(30, 10), "reason": "rain"}, 400, "until"},
		{"from without offset", map[string]any{"zone": "siq", "capacity": 300, "from": "2026-11-30T08:00:00", "until": at(30, 10), "reason": "rain"}, 400, "from"},
		{"until beyond the booking period", map[string]any{"zone": "siq", "capacity": 300, "until": "2028-01-01T00:00:00+03:00", "reason": "rain"}, 400, "until"},
		{"unknown zone", map[string]any{"zone": "sik", "capacity": 300, "until": at(29, 14), "reason": "rain"}, 400, "zone"},
		{"unknown gate", map[string]any{"gate": "north", "capacity": 30, "until": at(29, 14), "reason": "staff"}, 400, "gate"},
		{"gate at its capacity", map[string]any{"gate": "visitor-centre", "capacity": 300, "until": at(29, 14), "reason": "staff"}, 400, "capacity"},
		{"negative", map[string]any{"zone": "siq", "capacity": -5, "until": at(29, 14), "reason": "rain"}, 400, "capacity"},
		{"blank reason", map[string]any{"zone": "siq", "capacity": 300, "until": at(29, 14), "reason": "   "}, 400, "reason"},
		{"long reason", map[string]any{"zone": "siq", "capacity": 300, "until": at(29, 14), "reason": strings.Repeat("r", 201)}, 400, "reason"},
		{"capacity as text", map[string]any{"zone": "siq", "capacity": "300", "until": at(29, 14), "reason": "rain"}, 400, "capacity"},
	} {
		r := h.do("POST", "/v1/cuts", h.opsKey, tc.body)
		if r.code != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, r.code, r.body, tc.status)
			continue
		}
		if e := r.errorBody(t); e.Field != tc.field {
			t.Errorf("%s: field %q, want %q (%s)", tc.name, e.Field, tc.field, r.body)
		}
	}
	if n := cuts(); n != 0 {
		t.Fatalf("%d cuts after refused requests", n)
	}
	if r := h.do("DELETE", "/v1/cuts/cu_nope", h.opsKey, nil); r.code != http.StatusNotFound {
		t.Errorf("lift an unknown cut: %d %s", r.code, r.body)
	}

	// Tomorrow 08:00-10:00, the main gate lets in 120 a wave.
	r := h.do("POST", "/v1/cuts", h.opsKey, map[string]any{"gate": "visitor-centre", "capacity": 120, "from": at(30, 8), "until": at(30, 10), "reason": "two lanes closed"})
	if r.code != http.StatusCreated {
		t.Fatalf("gate cut: %d %s", r.code, r.body)
	}
	var cu scheduler.CapacityCut
	r.decode(t, &cu)
	var av Availability
	h.do("GET", "/v1/availability?date=2026-11-30&route=main", h.opsKey, nil).decode(t, &av)
	for _, s := range av.Slots {
		in := !s.Slot.Before(time.Date(2026, 11, 30, 8, 0, 0, 0, testenv.Amman)) && s.Slot.Before(time.Date(2026, 11, 30, 10, 0, 0, 0, testenv.Amman))
		if in && (s.Capacity != 120 || s.Booked != 0) || !in && s.Capacity != 300 {
			t.Fatalf("availability %s during a gate cut to 120 from 08:00 to 10:00: %+v", s.Slot.In(testenv.Amman).Format("15:04"), s)
		}
	}
	if n := cuts(); n != 1 {
		t.Fatalf("%d cuts listed, want the one not yet started", n)
	}
	// Lifted before it starts: it never applies and is listed no more.
	if r := h.do("DELETE", "/v1/cuts/"+cu.ID, h.opsKey, nil); r.code != http.StatusOK {
		t.Fatalf("lift before the start: %d %s", r.code, r.body)
	}
	if n := cuts(); n != 0 {
		t.Fatalf("%d cuts listed after the lift", n)
	}
	h.do("GET", "/v1/availability?date=2026-11-30&route=main", h.opsKey, nil).decode(t, &av)
	for _, s := range av.Slots {
		if s.Capacity != 300 {
			t.Fatalf("availability %s after the lift: %+v", s.Slot.In(testenv.Amman).Format("15:04"), s)
		}
	}
	if r := h.do("DELETE", "/v1/cuts/"+cu.ID, h.opsKey, nil); r.code != http.StatusConflict {
		t.Errorf("lift twice: %d %s", r.code, r.body)
	}
}
