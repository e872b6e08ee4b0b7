package sensors

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/subjects"
	"github.com/tafweej/tafweej/scheduler"
)

// armPanics makes the next handler of each given kind panic once (through
// testHookHandler, set before the service starts).
func armPanics(t *testing.T) (arm func(where string)) {
	var mu sync.Mutex // guards armed
	armed := map[string]bool{}
	testHookHandler = func(where string) {
		mu.Lock()
		boom := armed[where]
		armed[where] = false
		mu.Unlock()
		if boom {
			panic("test panic in " + where)
		}
	}
	t.Cleanup(func() { testHookHandler = nil })
	return func(where string) {
		mu.Lock()
		armed[where] = true
		mu.Unlock()
	}
}

// TestPanickingNATSHandlersAnswerInternalErrorWithID: a gate scan, an
// alert or a counter message whose handler panics is answered with an
// internal error naming the panic's id (a counter message, which has no
// caller, is dead-lettered with reason internal), the panic is counted,
// and the service goes on with the next message.
func TestPanickingNATSHandlersAnswerInternalErrorWithID(t *testing.T) {
	arm := armPanics(t)
	h := newHarness(t, harnessOptions{})
	b := h.book("op-wadi", "main", "", 10, "06:00", "06:15")

	arm("nats_scan")
	data, _ := json.Marshal(scheduler.ScanRequest{Ticket: h.signer.Code(b), Count: 2, ScanID: "dev1-1"})
	m, err := h.client.Request("tafweej.petra.gate.visitor-centre.scan", data, 5*time.Second)
	if err != nil {
		t.Fatalf("scan whose handler panicked: %v, want an answer", err)
	}
	var body struct {
		Error    struct{ Code, Message, ID string } `json:"error"`
		Decision *string                            `json:"decision"`
	}
	if err := json.Unmarshal(m.Data, &body); err != nil || body.Decision != nil || body.Error.Code != "internal" ||
		!strings.HasPrefix(body.Error.ID, "panic-") || m.Header.Get("Nats-Service-Error-Code") != "500" ||
		!strings.Contains(m.Header.Get("Nats-Service-Error"), body.Error.ID) {
		t.Fatalf("scan whose handler panicked answered %v %s, want an internal error with an id and no decision", m.Header, m.Data)
	}
	if r := h.scan("visitor-centre", scheduler.ScanRequest{Ticket: h.signer.Code(b), Count: 2, ScanID: "dev1-1"}); r.Decision != "admit" || r.Admitted != 2 {
		t.Fatalf("the same scan again: %+v, want 2 admitted (nothing of the first was applied)", r)
	}

	arm("nats_alert")
	r := h.alert(`{"kind": "flood_warning", "zones": ["siq"], "severity": "high", "at": "2026-12-01T08:06:00+03:00"}`)
	if r.Result != "internal" || !strings.Contains(r.Error, "panic-") {
		t.Fatalf("alert whose handler panicked answered %+v, want result internal with an id", r)
	}

	dl := h.watchDeadLetters("counter")
	arm("nats_counter")
	c := h.counter("siq-n1", "siq", "b1")
	c.Add(10, 0)
	publish(t, c)
	if d := dl.wait(t, reasonInternal, ""); !strings.Contains(d.Header.Get(subjects.HeaderError), "panic-") {
		t.Fatalf("dead letter of a panicking counter handler: %v", d.Header)
	}
	c.Add(5, 0)
	publish(t, c)
	h.waitSensor("siq-n1", "b1", 2)

	for _, where := range []string{"nats_scan", "nats_alert", "nats_counter"} {
		if v := h.metric("tafweej_panics_total", "where", where); v != 1 {
			t.Errorf("tafweej_panics_total{where=%q} %v, want 1", where, v)
		}
	}
}

// TestCounterPanicAfterItsReadingWasAppliedSaysTheReadingIsKept: a counter
// message whose handling fails after the owner loop applied its reading
// (durably) is dead-lettered with reason internal, acked, and its dead
// letter says the reading is kept; the reading is in the schedule. Saying
// "nothing of it was applied" would send an operator to replay a reading
// the scheduler already has.
func TestCounterPanicAfterItsReadingWasAppliedSaysTheReadingIsKept(t *testing.T) {
	arm := armPanics(t)
	h := newHarness(t, harnessOptions{})
	dl := h.watchDeadLetters("counter")
	arm("nats_counter_applied")
	c := h.counter("siq-n1", "siq", "b1")
	c.Add(10, 0)
	publish(t, c)
	d := dl.wait(t, reasonInternal, "")
	if e := d.Header.Get(subjects.HeaderError); !strings.Contains(e, "panic-") || !strings.Contains(e, "which is kept") ||
		strings.Contains(e, "nothing of it was applied") {
		t.Fatalf("dead letter of a counter message that failed after its reading was applied: %q", e)
	}
	h.waitSensor("siq-n1", "b1", 1) // the reading itself is in the schedule
	if v := h.metric("tafweej_panics_total", "where", "nats_counter"); v != 1 {
		t.Errorf("tafweej_panics_total{where=\"nats_counter\"} %v, want 1", v)
	}
}
