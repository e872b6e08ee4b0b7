package api

import (
	"bytes"
	"encoding/json"
	"image/png"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/tickets"
)

// TestBookADay is the user story of issue #2: an operator asks for
// availability, books a group of 40 on 1 December between 08:00 and 10:00 on
// the Monastery route, gets a slot, a gate, a signed ticket and its QR,
// resizes it to 35, cancels another booking and sees capacity return.
func TestBookADay(t *testing.T) {
	h := newHarness(t, nil)
	key := h.key(auth.RoleOperator, "desert-tours", nil)
	const date = "2026-12-01"

	before := h.availability(key, date, "monastery")
	if len(before) == 0 {
		t.Fatal("no slots on 1 December")
	}
	const at = "08:00 visitor-centre"
	if before[at] < 40 {
		t.Fatalf("08:00 has %d places, want at least 40", before[at])
	}

	b := h.book(key, BookingRequest{Date: date, Route: "monastery", PartySize: 40,
		Window: Window{From: "08:00", To: "10:00"}, Language: "ar", Guide: "Salma", Reference: "DT-1201"})
	wantSlot := time.Date(2026, 12, 1, 8, 0, 0, 0, testenv.Amman)
	if !b.Slot.Equal(wantSlot) || b.Gate != "visitor-centre" || b.Status != scheduler.StatusConfirmed ||
		b.Operator != "desert-tours" || b.PartySize != 40 || b.Window != (Window{"08:00", "10:00"}) {
		t.Fatalf("booking = %+v, want 40 at 08:00 through visitor-centre", b)
	}
	if !strings.HasPrefix(b.ID, "bk_") || b.TicketURL != "/v1/bookings/"+b.ID+"/ticket.png" {
		t.Errorf("id %q, ticket_url %q", b.ID, b.TicketURL)
	}
	tk, err := tickets.Verify(h.pub, b.Ticket)
	if err != nil {
		t.Fatalf("ticket %q does not verify: %v", b.Ticket, err)
	}
	if tk.Booking != b.ID || tk.PartySize != 40 || tk.Gate != "visitor-centre" || !tk.Slot.Equal(wantSlot) || tk.Date != date {
		t.Errorf("ticket claims %+v", tk)
	}

	// Times are RFC 3339 with the site's offset.
	raw := h.do("GET", "/v1/bookings/"+b.ID, key, nil)
	if raw.code != 200 || !bytes.Contains(raw.body, []byte(`"slot":"2026-12-01T08:00:00+03:00"`)) {
		t.Errorf("GET booking: %d %s", raw.code, raw.body)
	}

	img := h.do("GET", b.TicketURL, key, nil)
	if img.code != 200 || img.header.Get("Content-Type") != "image/png" {
		t.Fatalf("ticket.png: %d %s", img.code, img.header.Get("Content-Type"))
	}
	if _, err := png.Decode(bytes.NewReader(img.body)); err != nil {
		t.Fatalf("ticket.png is not a PNG: %v", err)
	}

	after := h.availability(key, date, "monastery")
	if got := before[at] - after[at]; got != 40 {
		t.Errorf("08:00 lost %d places after booking 40, want 40", got)
	}

	// Resize to 35: same wave, five places back.
	r := h.do("PATCH", "/v1/bookings/"+b.ID, key, map[string]any{"party_size": 35})
	if r.code != http.StatusOK {
		t.Fatalf("PATCH: %d %s", r.code, r.body)
	}
	var resized Booking
	r.decode(t, &resized)
	if resized.PartySize != 35 || !resized.Slot.Equal(wantSlot) || resized.Version != 2 {
		t.Errorf("resized = %+v", resized)
	}
	if tk, err := tickets.Verify(h.pub, resized.Ticket); err != nil || tk.PartySize != 35 {
		t.Errorf("resized ticket: %+v %v", tk, err)
	}
	if got := before[at] - h.availability(key, date, "monastery")[at]; got != 35 {
		t.Errorf("08:00 holds %d places after the resize, want 35", got)
	}

	// Another booking, then cancel it: its capacity returns.
	other := h.book(key, BookingRequest{Date: date, Route: "monastery", PartySize: 20, Window: Window{From: "08:00", To: "08:15"}})
	if got := before[at] - h.availability(key, date, "monastery")[at]; got != 55 {
		t.Errorf("08:00 holds %d places with both bookings, want 55", got)
	}
	r = h.do("DELETE", "/v1/bookings/"+other.ID, key, nil)
	if r.code != http.StatusOK {
		t.Fatalf("DELETE: %d %s", r.code, r.body)
	}
	var cancelled Booking
	r.decode(t, &cancelled)
	if cancelled.Status != scheduler.StatusCancelled || cancelled.Ticket != "" {
		t.Errorf("cancelled = %+v", cancelled)
	}
	if got := before[at] - h.availability(key, date, "monastery")[at]; got != 35 {
		t.Errorf("08:00 holds %d places after the cancel, want 35", got)
	}
	if r := h.do("GET", "/v1/bookings/"+other.ID+"/ticket.png", key, nil); r.code != http.StatusConflict {
		t.Errorf("ticket.png of a cancelled booking: %d %s", r.code, r.body)
	}
	if r := h.do("DELETE", "/v1/bookings/"+other.ID, key, nil); r.code != http.StatusConflict || r.errorBody(t).Code != scheduler.CodeConflict {
		t.Errorf("second DELETE: %d %s", r.code, r.body)
	}

	// The list has both, by slot, without ticket codes.
	var list BookingList
	h.do("GET", "/v1/bookings?date="+date, key, nil).decode(t, &list)
	if len(list.Bookings) != 2 {
		t.Fatalf("list has %d bookings, want 2", len(list.Bookings))
	}
	for _, lb := range list.Bookings {
		if lb.Ticket != "" {
			t.Errorf("list entry %s carries a ticket code", lb.ID)
		}
	}
	h.do("GET", "/v1/bookings?date=2026-12-02", key, nil).decode(t, &list)
	if len(list.Bookings) != 0 {
		t.Errorf("2 December lists %d bookings", len(list.Bookings))
	}
}

// TestNoCapacityAlternatives: a refusal names alternatives.
func TestNoCapacityAlternatives(t *testing.T) {
	h := newHarness(t, nil)
	// The back trail's gate lets an operator bring at most 30 a wave.
	key := h.key(auth.RoleOperator, "desert-tours", nil)
	r := h.do("POST", "/v1/bookings", key, BookingRequest{Date: "2026-12-01", Route: "back-trail", PartySize: 25, Window: Window{"08:00", "08:15"}})
	if r.code != http.StatusCreated {
		t.Fatalf("first: %d %s", r.code, r.body)
	}
	r = h.do("POST", "/v1/bookings", key, BookingRequest{Date: "2026-12-01", Route: "back-trail", PartySize: 25, Window: Window{"08:00", "08:15"}})
	if r.code != http.StatusConflict {
		t.Fatalf("second: %d %s", r.code, r.body)
	}
	e := r.errorBody(t)
	if e.Code != scheduler.CodeOverShare && e.Code != scheduler.CodeNoCapacity || len(e.Alternatives) == 0 {
		t.Errorf("refusal = %+v, want no room with alternatives", e)
	}
}

// TestOperatorsAreTenants: invariant 4, another operator's booking is not
// found, whatever the verb.
func TestOperatorsAreTenants(t *testing.T) {
	h := newHarness(t, nil)
	a := h.key(auth.RoleOperator, "petra-one", nil)
	b := h.key(auth.RoleOperator, "wadi-two", nil)
	bk := h.book(a, BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 10, Window: Window{"09:00", "11:00"}})

	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/bookings/" + bk.ID, nil},
		{"GET", "/v1/bookings/" + bk.ID + "/ticket.png", nil},
		{"PATCH", "/v1/bookings/" + bk.ID, map[string]any{"party_size": 1}},
		{"DELETE", "/v1/bookings/" + bk.ID, nil},
	} {
		r := h.do(c.method, c.path, b, c.body)
		if r.code != http.StatusNotFound || r.errorBody(t).Code != scheduler.CodeNotFound {
			t.Errorf("%s %s with another operator's key: %d %s, want 404", c.method, c.path, r.code, r.body)
		}
		if strings.Contains(string(r.body), "petra-one") {
			t.Errorf("%s %s: the answer names the owner: %s", c.method, c.path, r.body)
		}
	}
	var list BookingList
	h.do("GET", "/v1/bookings", b, nil).decode(t, &list)
	if len(list.Bookings) != 0 {
		t.Errorf("the other operator lists %d bookings", len(list.Bookings))
	}
	if r := h.do("GET", "/v1/bookings?operator=petra-one", b, nil); r.code != http.StatusForbidden {
		t.Errorf("list with operator=another: %d", r.code)
	}
	if r := h.do("GET", "/v1/availability?date=2026-12-01&route=main&operator=petra-one", b, nil); r.code != http.StatusForbidden {
		t.Errorf("availability with operator=another: %d", r.code)
	}
	// Nothing changed, and the owner and operations still see it.
	var got Booking
	h.do("GET", "/v1/bookings/"+bk.ID, a, nil).decode(t, &got)
	if got.PartySize != 10 || got.Status != scheduler.StatusConfirmed || got.Version != 1 {
		t.Errorf("after the other's attempts: %+v", got)
	}
	if r := h.do("GET", "/v1/bookings/"+bk.ID, h.opsKey, nil); r.code != http.StatusOK {
		t.Errorf("ops GET: %d", r.code)
	}
	h.do("GET", "/v1/bookings?operator=petra-one", h.opsKey, nil).decode(t, &list)
	if len(list.Bookings) != 1 {
		t.Errorf("ops lists %d of petra-one's bookings", len(list.Bookings))
	}
}

// TestIdempotency: replay, conflict and in-flight.
func TestIdempotency(t *testing.T) {
	h := newHarness(t, nil)
	key := h.key(auth.RoleOperator, "desert-tours", nil)
	body := `{"date":"2026-12-01","route":"main","party_size":12,"window":{"from":"09:00","to":"10:00"}}`
	// The same request in other words: other field order and spacing.
	same := "{ \"window\": {\"to\":\"10:00\", \"from\":\"09:00\"},\n \"party_size\": 12, \"route\": \"main\", \"date\": \"2026-12-01\" }"

	first := h.do("POST", "/v1/bookings", key, body, "Idempotency-Key: order-77")
	if first.code != http.StatusCreated || first.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first: %d %v %s", first.code, first.header, first.body)
	}
	var b1 Booking
	first.decode(t, &b1)

	again := h.do("POST", "/v1/bookings", key, same, "Idempotency-Key: order-77")
	if again.code != http.StatusCreated || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %v %s", again.code, again.header, again.body)
	}
	if !bytes.Equal(again.body, first.body) {
		t.Errorf("replay answers\n%s\nthe first answered\n%s", again.body, first.body)
	}

	other := h.do("POST", "/v1/bookings", key, strings.Replace(body, "12", "13", 1), "Idempotency-Key: order-77")
	if other.code != http.StatusUnprocessableEntity {
		t.Fatalf("another body: %d %s", other.code, other.body)
	}
	if e := other.errorBody(t); e.Code != scheduler.CodeIdempotencyMismatch || e.Field != "Idempotency-Key" {
		t.Errorf("another body: %+v", e)
	}

	var list BookingList
	h.do("GET", "/v1/bookings", key, nil).decode(t, &list)
	if len(list.Bookings) != 1 || list.Bookings[0].ID != b1.ID {
		t.Fatalf("after replay and conflict the operator has %d bookings, want only %s", len(list.Bookings), b1.ID)
	}

	// The key is the operator's: another operator may use the same one.
	k2 := h.key(auth.RoleOperator, "wadi-two", nil)
	if r := h.do("POST", "/v1/bookings", k2, body, "Idempotency-Key: order-77"); r.code != http.StatusCreated || r.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("same key, other operator: %d %v", r.code, r.header)
	}

	// In flight: while a request with the key is being answered, a retry
	// is a 409 and changes nothing.
	release, ok := h.api.claim("desert-tours", "order-78")
	if !ok {
		t.Fatal("claim failed")
	}
	r := h.do("POST", "/v1/bookings", key, body, "Idempotency-Key: order-78")
	if r.code != http.StatusConflict || r.errorBody(t).Code != CodeInFlight {
		t.Fatalf("in flight: %d %s", r.code, r.body)
	}
	release()
	if r := h.do("POST", "/v1/bookings", key, body, "Idempotency-Key: order-78"); r.code != http.StatusCreated {
		t.Fatalf("after the first finished: %d %s", r.code, r.body)
	}

	for _, bad := range []string{"has space", strings.Repeat("k", 256), "tab\there"} {
		r := h.do("POST", "/v1/bookings", key, body, "Idempotency-Key: "+bad)
		if r.code != http.StatusBadRequest || r.errorBody(t).Field != "Idempotency-Key" {
			t.Errorf("Idempotency-Key %q: %d %s", bad, r.code, r.body)
		}
	}
}

// TestIdempotencyConcurrent: many simultaneous requests with one key make
// one booking; each answer is the booking, a replay, or in flight.
func TestIdempotencyConcurrent(t *testing.T) {
	h := newHarness(t, nil)
	key := h.key(auth.RoleOperator, "desert-tours", nil)
	body := `{"date":"2026-12-01","route":"main","party_size":5,"window":{"from":"09:00","to":"10:00"}}`
	const n = 20
	type outcome struct {
		code int
		id   string
	}
	out := make(chan outcome, n)
	for range n {
		go func() {
			r, err := h.try(http.DefaultClient, "POST", "/v1/bookings", key, body, "Idempotency-Key: same")
			o := outcome{code: r.code}
			if err != nil {
				o.code = 0
			} else if r.code == http.StatusCreated {
				var b Booking
				if json.Unmarshal(r.body, &b) == nil {
					o.id = b.ID
				}
			}
			out <- o
		}()
	}
	created, inflight := 0, 0
	var seen []string
	for range n {
		o := <-out
		switch o.code {
		case http.StatusCreated:
			created++
			if !slices.Contains(seen, o.id) {
				seen = append(seen, o.id)
			}
		case http.StatusConflict:
			inflight++
		default:
			t.Errorf("answer %d", o.code)
		}
	}
	if created == 0 || len(seen) != 1 {
		t.Errorf("%d created with ids %v, %d in flight; want one booking", created, seen, inflight)
	}
	t.Logf("%d answered 201, %d in flight", created, inflight)
	var list BookingList
	h.do("GET", "/v1/bookings", key, nil).decode(t, &list)
	if len(list.Bookings) != 1 {
		t.Errorf("%d bookings made, want 1", len(list.Bookings))
	}
}

// TestWalkInsAndOps: an ops key books for the ticket office without an
// operator parameter and for an operator with one.
func TestWalkInsAndOps(t *testing.T) {
	h := newHarness(t, nil)
	req := BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 4, Window: Window{"09:00", "12:00"}}
	b := h.book(h.opsKey, req)
	if b.Operator != scheduler.WalkInOperator {
		t.Errorf("ops booking without operator is for %q", b.Operator)
	}
	r := h.do("POST", "/v1/bookings?operator=desert-tours", h.opsKey, req)
	var b2 Booking
	r.decode(t, &b2)
	if r.code != http.StatusCreated || b2.Operator != "desert-tours" {
		t.Errorf("ops booking for an operator: %d %+v", r.code, b2)
	}
	// The operator sees the booking made for it.
	key := h.key(auth.RoleOperator, "desert-tours", nil)
	if r := h.do("GET", "/v1/bookings/"+b2.ID, key, nil); r.code != http.StatusOK {
		t.Errorf("operator GET of the booking ops made for it: %d", r.code)
	}
	if r := h.do("POST", "/v1/bookings?operator=bad%20id", h.opsKey, req); r.code != http.StatusBadRequest {
		t.Errorf("operator=bad id: %d", r.code)
	}
	var a Availability
	h.do("GET", "/v1/availability?date=2026-12-01&route=main", h.opsKey, nil).decode(t, &a)
	if a.Operator != scheduler.WalkInOperator || len(a.Slots) == 0 {
		t.Errorf("ops availability: operator %q, %d slots", a.Operator, len(a.Slots))
	}
	// Operations cancel with a reason.
	r = h.do("DELETE", "/v1/bookings/"+b2.ID+"?reason=coach+broke+down", h.opsKey, nil)
	var c Booking
	r.decode(t, &c)
	if r.code != http.StatusOK || c.Reason != "coach broke down" {
		t.Errorf("ops cancel: %d %+v", r.code, c)
	}
}
