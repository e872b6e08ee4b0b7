package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/scheduler"
)

// TestOldDateStillListedAfterArchiving: GET /v1/bookings?date= of a date
// moved to the archive answers byte for byte what it answered before, with
// the same tenancy: an operator sees only its own bookings.
func TestOldDateStillListedAfterArchiving(t *testing.T) {
	h := newHarness(t, nil)
	keyA := h.key(auth.RoleOperator, "op-a", nil)
	keyB := h.key(auth.RoleOperator, "op-b", nil)
	req := func(date string, party int) BookingRequest {
		return BookingRequest{Date: date, Route: "main", PartySize: party, Window: Window{From: "08:00", To: "12:00"}}
	}
	var a1 Booking
	for i := range 3 {
		b := h.book(keyA, req("2026-12-01", 4+i))
		if i == 0 {
			a1 = b
		}
	}
	h.book(keyB, req("2026-12-01", 9))
	h.book(keyB, req("2026-12-01", 2))
	live := h.book(keyA, req("2026-12-20", 5))

	// The day is over: let a tick settle its bookings first, so that only
	// archiving lies between the two answers.
	h.clock.Set(time.Date(2027, 1, 5, 10, 0, 0, 0, testenv.Amman))
	if _, err := h.eng.Do(context.Background(), scheduler.Tick{}); err != nil {
		t.Fatal(err)
	}
	type ask struct{ path, key string }
	asks := []ask{
		{"/v1/bookings?date=2026-12-01", keyA},
		{"/v1/bookings?date=2026-12-01", keyB},
		{"/v1/bookings?date=2026-12-01", h.opsKey},
		{"/v1/bookings?date=2026-12-01&operator=op-b", h.opsKey},
		{"/v1/bookings/" + a1.ID, keyA},
		{"/v1/bookings/" + a1.ID, h.opsKey},
	}
	before := map[ask][]byte{}
	for _, q := range asks {
		r := h.do("GET", q.path, q.key, nil)
		if r.code != http.StatusOK {
			t.Fatalf("GET %s before archiving: %d %s", q.path, r.code, r.body)
		}
		before[q] = r.body
	}
	var list BookingList
	response{body: before[asks[0]]}.decode(t, &list)
	if len(list.Bookings) != 3 {
		t.Fatalf("op-a lists %d bookings of 1 December, want 3", len(list.Bookings))
	}

	a, err := engine.NewArchiver(h.eng, engine.ArchiveOptions{AfterDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := a.Once(context.Background()); err != nil || rep.Bookings != 5 {
		t.Fatalf("archive pass = %+v, %v; want 1 December's 5 bookings", rep, err)
	}
	// The live list no longer has the day ...
	var all BookingList
	h.do("GET", "/v1/bookings", h.opsKey, nil).decode(t, &all)
	if len(all.Bookings) != 1 || all.Bookings[0].ID != live.ID {
		t.Fatalf("GET /v1/bookings lists %d bookings after archiving, want only %s of the live horizon", len(all.Bookings), live.ID)
	}
	// ... and the old date answers as before.
	for _, q := range asks {
		r := h.do("GET", q.path, q.key, nil)
		if r.code != http.StatusOK || !bytes.Equal(r.body, before[q]) {
			t.Errorf("GET %s after archiving: %d\n%s\nwant as before:\n%s", q.path, r.code, r.body, before[q])
		}
	}
	if r := h.do("GET", "/v1/bookings/"+a1.ID, keyB, nil); r.code != http.StatusNotFound {
		t.Errorf("op-b reading op-a's archived booking: %d %s, want 404", r.code, r.body)
	}
	if r := h.do("GET", "/v1/bookings/"+a1.ID+"/ticket.png", keyA, nil); r.code != http.StatusOK {
		t.Errorf("ticket of an archived booking: %d %s", r.code, r.body)
	}
	if r := h.do("GET", "/v1/bookings?date=2026-11-02", keyA, nil); r.code != http.StatusOK || !bytes.Contains(r.body, []byte(`"bookings":[]`)) {
		t.Errorf("a past date never archived: %d %s, want an empty list", r.code, r.body)
	}
}

// TestAllottedRequestKeepsItsBookingAfterArchiving: GET /v1/requests/{id}
// of a planned day's request shows its booking after the day is archived,
// as before.
func TestAllottedRequestKeepsItsBookingAfterArchiving(t *testing.T) {
	h := newHarness(t, nil)
	key := h.key(auth.RoleOperator, "desert-tours", nil)
	const date = "2027-04-06" // in Petra's spring window; requests close 3 April, 18:00
	r := h.do("POST", "/v1/requests", key, map[string]any{"date": date, "route": "main", "party_size": 8,
		"window": map[string]string{"from": "08:00", "to": "11:00"}})
	if r.code != http.StatusCreated {
		t.Fatalf("POST /v1/requests: %d %s", r.code, r.body)
	}
	var q Request
	r.decode(t, &q)
	h.clock.Set(time.Date(2027, 4, 3, 18, 1, 0, 0, testenv.Amman))
	if _, err := h.eng.Do(context.Background(), scheduler.Tick{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, func() error {
		var got Request
		h.do("GET", "/v1/requests/"+q.ID, key, nil).decode(t, &got)
		if got.Status != scheduler.RequestAllotted || got.Booking == nil {
			return fmt.Errorf("request %s is %s", q.ID, got.Status)
		}
		return nil
	})
	h.clock.Set(time.Date(2027, 5, 10, 10, 0, 0, 0, testenv.Amman))
	if _, err := h.eng.Do(context.Background(), scheduler.Tick{}); err != nil {
		t.Fatal(err)
	}
	before := h.do("GET", "/v1/requests/"+q.ID, key, nil).body
	a, err := engine.NewArchiver(h.eng, engine.ArchiveOptions{AfterDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := a.Once(context.Background()); err != nil || rep.Bookings != 1 {
		t.Fatalf("archive pass = %+v, %v; want the request's booking archived", rep, err)
	}
	if after := h.do("GET", "/v1/requests/"+q.ID, key, nil).body; !bytes.Equal(after, before) {
		t.Errorf("GET /v1/requests/%s after archiving:\n%s\nwant as before:\n%s", q.ID, after, before)
	}
}
