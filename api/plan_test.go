package api

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/tafweej/tafweej/internal/auth"
)

// TestPlanPreview: the re-plan preview keeps every booked group placed,
// changes nothing, is for ops only and names a bad date.
func TestPlanPreview(t *testing.T) {
	h := newHarness(t, nil)
	for i := 0; i < 6; i++ {
		key := h.key(auth.RoleOperator, fmt.Sprintf("op%d", i), nil)
		h.book(key, BookingRequest{Date: "2026-12-01", Route: []string{"main", "high-place"}[i%2], PartySize: 20 + i,
			Window: Window{"08:00", "11:00"}})
	}
	before := h.do("GET", "/v1/bookings?date=2026-12-01", h.opsKey, nil)
	r := h.do("GET", "/v1/plan?date=2026-12-01", h.opsKey, nil)
	if r.code != http.StatusOK {
		t.Fatalf("plan: %d %s", r.code, r.body)
	}
	var p PlanPreview
	r.decode(t, &p)
	if p.Groups != 6 || p.Current != 20+21+22+23+24+25 || p.Plan.Visitors < p.Current {
		t.Fatalf("preview %+v: want 6 groups all placed", p)
	}
	after := h.do("GET", "/v1/bookings?date=2026-12-01", h.opsKey, nil)
	if string(before.body) != string(after.body) {
		t.Fatal("the preview changed bookings")
	}
	op := h.key(auth.RoleOperator, "op9", nil)
	if r := h.do("GET", "/v1/plan?date=2026-12-01", op, nil); r.code != http.StatusForbidden {
		t.Fatalf("operator key: %d, want 403", r.code)
	}
	if r := h.do("GET", "/v1/plan?date=tomorrow", h.opsKey, nil); r.code != http.StatusBadRequest || r.errorBody(t).Field != "date" {
		t.Fatalf("bad date: %d %s", r.code, r.body)
	}
}
