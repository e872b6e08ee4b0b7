package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/tickets"
)

// TestRequestWindow is the planned-day story: operators request entries on
// a spring day until its cut-off, first come waits, the day planner allots
// the requests at the cut-off, and each operator sees its booking and
// ticket in GET /v1/requests/{id}.
func TestRequestWindow(t *testing.T) {
	h := newHarness(t, nil)
	a := h.key(auth.RoleOperator, "desert-tours", nil)
	b := h.key(auth.RoleOperator, "rose-city", nil)
	const date = "2027-04-06" // in Petra's spring window; requests close 3 April, 18:00
	body := func(size int, from, to, preferred string) map[string]any {
		m := map[string]any{"date": date, "route": "main", "party_size": size, "window": map[string]string{"from": from, "to": to}, "language": "ar"}
		if preferred != "" {
			m["preferred"] = preferred
		}
		return m
	}

	r := h.do("POST", "/v1/bookings", a, body(10, "08:00", "10:00", ""))
	if e := r.errorBody(t); r.code != http.StatusConflict || e.Code != scheduler.CodeRequestWindow || !strings.Contains(e.Message, "POST /v1/requests") {
		t.Fatalf("booking a planned day before its allotment: %d %s", r.code, r.body)
	}

	for _, tc := range []struct {
		name   string
		body   any
		status int
		field  string
		text   string
	}{
		{"server field", map[string]any{"date": date, "route": "main", "party_size": 5, "window": map[string]string{"from": "08:00", "to": "09:00"}, "booking": "bk_x"},
			400, "booking", "the server assigns"},
		{"bad preferred", body(5, "08:00", "09:00", "9am"), 400, "preferred", `invalid time "9am"`},
		{"preferred outside", body(5, "08:00", "09:00", "11:00"), 400, "preferred", "outside the window"},
		{"not planned", map[string]any{"date": "2026-12-01", "route": "main", "party_size": 5, "window": map[string]string{"from": "08:00", "to": "09:00"}},
			400, "date", "not a planned day"},
		{"no window", map[string]any{"date": date, "route": "main", "party_size": 5}, 400, "window", "window is required"},
	} {
		r := h.do("POST", "/v1/requests", a, tc.body)
		if r.code != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, r.code, r.body, tc.status)
			continue
		}
		if e := r.errorBody(t); e.Field != tc.field || !strings.Contains(e.Message, tc.text) {
			t.Errorf("%s: %+v, want field %q and %q", tc.name, e, tc.field, tc.text)
		}
	}

	r = h.do("POST", "/v1/requests", a, body(40, "08:00", "10:00", "09:00"), "Idempotency-Key: req-1")
	if r.code != http.StatusCreated {
		t.Fatalf("POST /v1/requests: %d %s", r.code, r.body)
	}
	var q Request
	r.decode(t, &q)
	cutoff := time.Date(2027, 4, 3, 18, 0, 0, 0, testenv.Amman)
	if q.Status != scheduler.RequestPending || !strings.HasPrefix(q.ID, "rq_") || q.Preferred != "09:00" || !q.Cutoff.Equal(cutoff) ||
		r.header.Get("Location") != "/v1/requests/"+q.ID || q.Booking != nil {
		t.Fatalf("submitted %+v (Location %q)", q, r.header.Get("Location"))
	}
	again := h.do("POST", "/v1/requests", a, body(40, "08:00", "10:00", "09:00"), "Idempotency-Key: req-1")
	if again.code != http.StatusCreated || again.header.Get("Idempotent-Replayed") != "true" || !strings.Contains(string(again.body), q.ID) {
		t.Fatalf("retry: %d %s", again.code, again.body)
	}
	if r := h.do("POST", "/v1/bookings", a, body(40, "08:00", "10:00", ""), "Idempotency-Key: req-1"); r.code != http.StatusUnprocessableEntity {
		t.Fatalf("a request's key reused for a booking: %d %s", r.code, r.body)
	}

	// Other operators' requests are not visible.
	if r := h.do("GET", "/v1/requests/"+q.ID, b, nil); r.code != http.StatusNotFound {
		t.Fatalf("another operator's request: %d %s", r.code, r.body)
	}
	ids := map[string]string{q.ID: a} // request → its operator's key
	for i := range 8 {
		key := []string{a, b}[i%2]
		r := h.do("POST", "/v1/requests", key, body(30+i, "08:00", "11:00", ""))
		if r.code != http.StatusCreated {
			t.Fatalf("request %d: %d %s", i, r.code, r.body)
		}
		var qi Request
		r.decode(t, &qi)
		ids[qi.ID] = key
	}
	var list RequestList
	h.do("GET", "/v1/requests?date="+date, b, nil).decode(t, &list)
	if len(list.Requests) != 4 {
		t.Fatalf("rose-city lists %d requests, want its 4", len(list.Requests))
	}
	w := h.do("DELETE", "/v1/requests/"+list.Requests[0].ID, b, nil)
	var wq Request
	w.decode(t, &wq)
	if w.code != http.StatusOK || wq.Status != scheduler.RequestWithdrawn {
		t.Fatalf("withdraw: %d %s", w.code, w.body)
	}
	delete(ids, wq.ID)

	// Operations preview the allotment before the cut-off; nothing changes.
	var pv PlanPreview
	if r := h.do("GET", "/v1/plan?date="+date, h.opsKey, nil); r.code != http.StatusOK {
		t.Fatalf("plan preview: %d %s", r.code, r.body)
	} else {
		r.decode(t, &pv)
	}
	if pv.Requests != len(ids) || pv.RequestVisitors != pv.Plan.Visitors || pv.RequestVisitors == 0 || len(pv.Changes) != len(ids) || pv.Changes[0].Request == "" {
		t.Fatalf("preview of %d pending requests: %+v", len(ids), pv)
	}
	var still RequestList
	h.do("GET", "/v1/requests?date="+date+"&operator=desert-tours", h.opsKey, nil).decode(t, &still)
	for _, q := range still.Requests {
		if q.Status != scheduler.RequestPending {
			t.Fatalf("the preview changed request %s to %s", q.ID, q.Status)
		}
	}

	// After the cut-off: no more requests or withdrawals.
	h.clock.Set(cutoff.Add(time.Minute))
	if r := h.do("POST", "/v1/requests", a, body(5, "08:00", "09:00", "")); r.code != http.StatusConflict || r.errorBody(t).Code != scheduler.CodeCutoff {
		t.Fatalf("request after the cut-off: %d %s", r.code, r.body)
	}
	if r := h.do("DELETE", "/v1/requests/"+q.ID, a, nil); r.code != http.StatusConflict || r.errorBody(t).Code != scheduler.CodeCutoff {
		t.Fatalf("withdraw after the cut-off: %d %s", r.code, r.body)
	}
	if _, err := h.eng.Do(context.Background(), scheduler.Tick{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, func() error {
		var l RequestList
		h.do("GET", "/v1/requests?date="+date, h.opsKey, nil).decode(t, &l)
		for _, q := range l.Requests {
			if q.Status == scheduler.RequestPending {
				return fmt.Errorf("request %s still pending", q.ID)
			}
		}
		return nil
	})
	placed := 0
	for id, key := range ids {
		var got Request
		h.do("GET", "/v1/requests/"+id, key, nil).decode(t, &got)
		if got.Status != scheduler.RequestAllotted {
			t.Errorf("request %s is %s (%s) on a day with room for it", id, got.Status, got.Reason)
			continue
		}
		bk := got.Booking
		if bk == nil || bk.Ticket == "" || bk.Date != date || bk.PartySize != got.PartySize {
			t.Fatalf("allotted request %s without its booking: %+v", id, got)
		}
		if m := bk.Slot.Hour()*60 + bk.Slot.Minute(); m < 8*60 || m >= 11*60 {
			t.Errorf("request %s allotted at %s, outside its window", id, bk.Slot)
		}
		if tk, err := tickets.Verify(h.pub, bk.Ticket); err != nil || tk.Booking != bk.ID {
			t.Errorf("ticket of %s: %+v %v", bk.ID, tk, err)
		}
		placed++
	}
	if placed != len(ids) {
		t.Fatalf("%d of %d requests allotted", placed, len(ids))
	}
	// The date is open to first come now.
	h.book(a, BookingRequest{Date: date, Route: "main", PartySize: 5, Window: Window{From: "12:00", To: "14:00"}})
}
