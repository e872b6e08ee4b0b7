package sensors

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/subjects"
	"github.com/tafweej/tafweej/scheduler"
)

func (h *harness) alert(body string) AlertReply {
	h.t.Helper()
	m, err := h.client.Request("tafweej.petra.alert", []byte(body), 5*time.Second)
	if err != nil {
		h.t.Fatalf("alert: %v", err)
	}
	var r AlertReply
	if err := json.Unmarshal(m.Data, &r); err != nil {
		h.t.Fatalf("alert reply %s: %v", m.Data, err)
	}
	return r
}

// A flood warning closes the Siq: at once every gate rejects the groups
// whose route goes through it, the groups not yet in are re-planned (here:
// cancelled, since no wave of the day avoids the Siq), and the events are
// published.
func TestFloodAlertClosesTheSiq(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const op = "op-wadi"
	inMain := h.book(op, "main", "", 10, "08:00", "08:15")
	inBack := h.book(op, "back-trail", "", 10, "08:00", "08:15")
	later := h.book(op, "main", "", 10, "09:00", "09:15")
	tomorrow := h.book(op, "main", "2026-12-02", 10, "09:00", "09:15")
	h.at("08:05")
	for _, c := range []struct {
		gate string
		b    scheduler.Booking
	}{{"visitor-centre", inMain}, {"little-petra", inBack}} {
		if r := h.scan(c.gate, scheduler.ScanRequest{Ticket: h.signer.Code(c.b), Count: 4}); r.Admitted != 4 {
			t.Fatalf("first part of %s: %+v", c.b.ID, r)
		}
	}

	r := h.alert(`{"kind": "flood_warning", "zones": ["siq"], "severity": "high", "at": "2026-12-01T08:06:00+03:00"}`)
	if r.Result != "closed" || !strings.HasPrefix(r.Closure, "al_") {
		t.Fatalf("alert reply %+v", r)
	}
	// No waiting: the reply came after the closure was durable.
	for _, c := range []struct {
		gate string
		b    scheduler.Booking
	}{{"visitor-centre", inMain}, {"little-petra", inBack}} {
		got := h.scan(c.gate, scheduler.ScanRequest{Ticket: h.signer.Code(c.b), Count: 6})
		if got.Decision != "reject" || got.Reason != "closed" || got.Admitted != 0 {
			t.Errorf("scan of %s at %s after the alert: %+v", c.b.ID, c.gate, got)
		}
	}
	if got := h.scan("visitor-centre", scheduler.ScanRequest{Ticket: h.signer.Code(later), Count: 10}); got.Decision != "reject" || got.Admitted != 0 {
		t.Errorf("a later group after the alert: %+v", got)
	}
	if b := h.booking(later.ID); b.Status != scheduler.StatusCancelled || !strings.Contains(b.Reason, "flood_warning") {
		t.Errorf("later group: %s (%q), want cancelled by the closure", b.Status, b.Reason)
	}
	if b := h.booking(tomorrow.ID); b.Status != scheduler.StatusConfirmed {
		t.Errorf("tomorrow's group: %s, want untouched", b.Status)
	}
	ev := h.waitEvent(scheduler.EventZoneClosed, r.Closure)
	var cl scheduler.Closure
	if err := json.Unmarshal(ev.Data.(json.RawMessage), &cl); err != nil {
		t.Fatal(err)
	}
	if cl.Source != "alert:flood_warning" || strings.Join(cl.Zones, ",") != "bab-al-siq,siq,treasury" {
		t.Errorf("closure %+v", cl)
	}
	h.waitEvent(scheduler.EventBookingCancelled, later.ID)
	if len(h.eventsOf(scheduler.EventBookingCancelled)) != 1 {
		t.Errorf("%d booking.cancelled events, want 1", len(h.eventsOf(scheduler.EventBookingCancelled)))
	}
	// Occupancy shows the closure.
	if o := h.occupancy("siq"); !o.Closed {
		t.Errorf("siq not closed: %+v", o)
	}

	// Reopened by operations: a closure with an end re-plans instead.
	if res := h.do(scheduler.Reopen{ID: r.Closure}); res.Err != nil {
		t.Fatal(res.Err)
	}
	moved := h.book(op, "main", "", 10, "09:00", "09:15")
	res := h.do(scheduler.Close{ID: "cl_ops", Zones: []string{"siq"}, Reason: "flood", Source: "ops", Until: h.clock.Now().Add(2 * time.Hour)})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	h.waitEvent(scheduler.EventBookingRescheduled, moved.ID)
}

func TestAlertIdsSeverityAndInvalid(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	dl := h.watchDeadLetters("alert")
	at := `"at": "2026-12-01T08:06:00+03:00"`

	if r := h.alert(`{"kind": "flood_warning", "severity": "low", ` + at + `}`); r.Result != "ignored" {
		t.Errorf("low flood warning: %+v", r)
	}
	first := h.alert(`{"id": "siren-7", "kind": "rockfall", "zones": ["high-place"], "severity": "low", ` + at + `}`)
	again := h.alert(`{"id": "siren-7", "kind": "rockfall", "zones": ["high-place"], "severity": "low", ` + at + `}`)
	if first.Result != "closed" || first.Closure != "al_siren-7" || again.Result != "duplicate" || again.Closure != first.Closure {
		t.Errorf("alert with id then its retry: %+v, %+v", first, again)
	}
	// Fire and forget (no reply subject) works as well.
	if err := h.client.Publish("tafweej.petra.alert", []byte(`{"kind": "rockfall", "zones": ["monastery"], "severity": "high", `+at+`}`)); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if o := h.occupancy("monastery"); !o.Closed {
			return fmt.Errorf("monastery not closed")
		}
		return nil
	})

	var closures int
	count := func() int {
		n := 0
		if err := h.eng.Read(context.Background(), func(s *scheduler.State, now time.Time) { n = len(s.Closures(now)) }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	closures = count()
	cases := []struct{ name, body, reason string }{
		{"bad JSON", `{"kind": "flood_warning"`, reasonBadJSON},
		{"unknown field", `{"kind": "flood_warning", "severity": "high", "level": 3, ` + at + `}`, reasonUnknownField},
		{"no severity", `{"kind": "flood_warning", ` + at + `}`, reasonMissingField},
		{"no time", `{"kind": "flood_warning", "severity": "high"}`, reasonMissingField},
		{"bad severity", `{"kind": "flood_warning", "severity": "extreme", ` + at + `}`, reasonOutOfRange},
		{"unknown kind", `{"kind": "earthquake", "severity": "high", ` + at + `}`, reasonUnknownKind},
		{"unknown zone", `{"kind": "rockfall", "zones": ["souq"], "severity": "high", ` + at + `}`, reasonUnknownZone},
		{"no zones anywhere", `{"kind": "rockfall", "severity": "high", ` + at + `}`, reasonRejected},
		{"zones a string", `{"kind": "rockfall", "zones": "siq", "severity": "high", ` + at + `}`, reasonWrongType},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.alert(c.body)
			if r.Result != "invalid" || r.Error == "" {
				t.Errorf("reply %+v", r)
			}
			d := dl.wait(t, c.reason, "")
			if string(d.Data) == "" || d.Header.Get(subjects.HeaderError) == "" {
				t.Errorf("dead letter %v %s", d.Header, d.Data)
			}
		})
	}
	if got := count(); got != closures {
		t.Errorf("invalid alerts changed the closures: %d → %d", closures, got)
	}
	if v := h.metric("tafweej_deadletter_messages_total", "kind", "alert"); v != float64(len(cases)) {
		t.Errorf("%v alert dead letters, want %d", v, len(cases))
	}
}
