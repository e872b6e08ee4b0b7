package api

import (
	"strings"
	"testing"

	"github.com/tafweej/tafweej/internal/auth"
)

// TestAvailabilityFollowsBookingRules: availability offers no wave on a
// date that a booking would be refused for — outside the booking period,
// a planned day before its allotment — and says why with the refusal the
// booking gets (the issue: it offered waves there).
func TestAvailabilityFollowsBookingRules(t *testing.T) {
	h := newHarness(t, nil)
	op := h.key(auth.RoleOperator, "desert-tours", nil)
	for _, c := range []struct{ name, date, code, message string }{
		{"past", "2026-11-01", "invalid_request", "outside the booking period"},
		{"beyond the booking period", "2027-12-01", "invalid_request", "outside the booking period"},
		{"planned day before its allotment", "2027-04-06", "request_window_open", "planned day"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := h.do("GET", "/v1/availability?date="+c.date+"&route=main", op, nil)
			var a Availability
			r.decode(t, &a)
			if r.code != 200 || len(a.Slots) != 0 {
				t.Fatalf("availability of %s: %d, %d slots offered", c.date, r.code, len(a.Slots))
			}
			if a.Unavailable == nil || a.Unavailable.Code != c.code || !strings.Contains(a.Unavailable.Message, c.message) {
				t.Errorf("availability of %s says %+v, want code %q with %q", c.date, a.Unavailable, c.code, c.message)
			}
			b := h.do("POST", "/v1/bookings", op, BookingRequest{Date: c.date, Route: "main", PartySize: 2, Window: Window{From: "08:00", To: "16:00"}})
			if e := b.errorBody(t); e.Code != c.code {
				t.Errorf("book on %s refused with %q; availability said %q", c.date, e.Code, c.code)
			}
		})
	}
	r := h.do("GET", "/v1/availability?date=2026-12-01&route=main", op, nil)
	var a Availability
	r.decode(t, &a)
	if len(a.Slots) == 0 || a.Unavailable != nil {
		t.Errorf("a bookable date: %d slots, unavailable %+v", len(a.Slots), a.Unavailable)
	}
}
