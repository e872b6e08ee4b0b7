package sensors

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/tickets"
)

func TestScanReasons(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const op = "op-wadi"
	// Booked at 06:00 for the day (1 December 2026, last entry 15:00).
	ok := h.book(op, "main", "", 12, "08:00", "08:15")
	partial := h.book(op, "main", "", 5, "08:00", "08:15")
	early := h.book(op, "main", "", 10, "10:00", "10:15")
	late := h.book(op, "main", "", 10, "07:00", "07:15")
	otherGate := h.book(op, "main", "", 10, "08:00", "08:15")
	tomorrow := h.book(op, "main", "2026-12-02", 10, "08:00", "08:15")
	cancelled := h.book(op, "main", "", 10, "08:00", "08:15")
	held := h.book(op, "main", "", 10, "08:00", "08:15")
	closed := h.book(op, "back-trail", "", 10, "08:00", "08:15")
	tooLate := h.book(op, "main", "", 10, "14:00", "14:15")
	if res := h.do(scheduler.Cancel{ID: cancelled.ID, Reason: "operator"}); res.Err != nil {
		t.Fatal(res.Err)
	}
	code := func(b scheduler.Booking) string { return h.signer.Code(b) }
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	forged := tickets.NewSigner(otherKey).Code(ok)
	// Same payload as ok's ticket, signature of another booking's.
	p1, _, _ := strings.Cut(strings.TrimPrefix(code(ok), "TFW1."), ".")
	_, s2, _ := strings.Cut(strings.TrimPrefix(code(partial), "TFW1."), ".")
	swapped := "TFW1." + p1 + "." + s2
	ghost := code(scheduler.Booking{ID: "bk_ghost", Date: "2026-12-01", Slot: ok.Slot, Gate: "visitor-centre", PartySize: 3})

	h.at("08:05")
	n := 0
	scan := func(gate, ticket string, count int) scheduler.ScanResult {
		n++
		return h.scan(gate, scheduler.ScanRequest{Ticket: ticket, Count: count, ScanID: fmt.Sprintf("dev1-%06d", n), Device: "dev1", At: "2026-12-01T08:05:00+03:00"})
	}
	slot := func(b scheduler.Booking) string { return b.Slot.Format(time.RFC3339) }

	cases := []struct {
		name           string
		do             func() scheduler.ScanResult
		decision       string
		reason         string
		admitted, left int
		retryAt        string // "" means null
		slot           string
	}{
		{"ok", func() scheduler.ScanResult { return scan("visitor-centre", code(ok), 12) }, "admit", "ok", 12, 0, "", slot(ok)},
		{"partial", func() scheduler.ScanResult { return scan("visitor-centre", code(partial), 8) }, "partial", "ok", 5, 0, "", slot(partial)},
		{"already_used", func() scheduler.ScanResult { return scan("visitor-centre", code(ok), 1) }, "reject", "already_used", 0, 0, "", slot(ok)},
		{"too_early", func() scheduler.ScanResult { return scan("visitor-centre", code(early), 10) }, "reject", "too_early", 0, 10, "2026-12-01T09:45:00+03:00", slot(early)},
		{"rebooked", func() scheduler.ScanResult { return scan("visitor-centre", code(late), 10) }, "reject", "rebooked", 0, 10, "2026-12-01T08:15:00+03:00", "2026-12-01T08:15:00+03:00"},
		{"unknown_ticket signed", func() scheduler.ScanResult { return scan("visitor-centre", ghost, 1) }, "reject", "unknown_ticket", 0, 0, "", ""},
		{"unknown_ticket other QR", func() scheduler.ScanResult { return scan("visitor-centre", "https://example.com/menu", 1) }, "reject", "unknown_ticket", 0, 0, "", ""},
		{"invalid_signature other key", func() scheduler.ScanResult { return scan("visitor-centre", forged, 1) }, "reject", "invalid_signature", 0, 0, "", ""},
		{"invalid_signature swapped", func() scheduler.ScanResult { return scan("visitor-centre", swapped, 1) }, "reject", "invalid_signature", 0, 0, "", ""},
		{"wrong_gate", func() scheduler.ScanResult { return scan("little-petra", code(otherGate), 10) }, "reject", "wrong_gate", 0, 10, "", slot(otherGate)},
		{"wrong_day", func() scheduler.ScanResult { return scan("visitor-centre", code(tomorrow), 10) }, "reject", "wrong_day", 0, 10, "", slot(tomorrow)},
		{"cancelled", func() scheduler.ScanResult { return scan("visitor-centre", code(cancelled), 10) }, "reject", "cancelled", 0, 0, "", slot(cancelled)}, // a cancelled ticket has nothing remaining
		{"held", func() scheduler.ScanResult {
			h.do(scheduler.SetHold{Zone: "siq", On: true})
			defer h.do(scheduler.SetHold{Zone: "siq", On: false})
			return scan("visitor-centre", code(held), 10)
		}, "reject", "held", 0, 10, "2026-12-01T08:15:00+03:00", "2026-12-01T08:15:00+03:00"},
		{"closed", func() scheduler.ScanResult {
			if r := scan("little-petra", code(closed), 4); r.Reason != "ok" {
				t.Fatalf("first scan of the closed case: %+v", r)
			}
			res := h.do(scheduler.Close{ID: "cl_test", Zones: []string{"little-petra"}, Reason: "rockfall", Source: "ops", Until: h.clock.Now().Add(time.Hour)})
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			defer h.do(scheduler.Reopen{ID: "cl_test"})
			return scan("little-petra", code(closed), 6)
		}, "reject", "closed", 0, 6, "", slot(closed)},
		{"bad_request count over max", func() scheduler.ScanResult { return scan("visitor-centre", code(otherGate), 61) }, "reject", "bad_request", 0, 0, "", ""},
		{"too_late", func() scheduler.ScanResult {
			h.at("15:10")
			defer h.at("08:05")
			return scan("visitor-centre", code(tooLate), 10)
		}, "reject", "too_late", 0, 10, "", slot(tooLate)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.do()
			if r.Decision != c.decision || r.Reason != c.reason {
				t.Fatalf("got %s/%s, want %s/%s: %+v", r.Decision, r.Reason, c.decision, c.reason, r)
			}
			if r.Admitted != c.admitted || r.Remaining != c.left {
				t.Errorf("admitted %d remaining %d, want %d and %d", r.Admitted, r.Remaining, c.admitted, c.left)
			}
			if got := fmtTime(r.RetryAt); got != c.retryAt {
				t.Errorf("retry_at %q, want %q", got, c.retryAt)
			}
			if got := fmtTime(r.Slot); got != c.slot {
				t.Errorf("slot %q, want %q", got, c.slot)
			}
			if r.Message.EN == "" || r.Message.AR == "" || r.Message.EN == r.Message.AR {
				t.Errorf("message not in both languages: %+v", r.Message)
			}
		})
	}
	// The texts of the wire contract's example.
	r := scan("visitor-centre", code(ok), 1)
	if r.Reason != "already_used" {
		t.Fatal(r)
	}
	if got := h.booking(ok.ID); got.Admitted != 12 || got.Status != scheduler.StatusCompleted {
		t.Errorf("ok booking after the scans: admitted %d status %s", got.Admitted, got.Status)
	}
	if got := h.booking(late.ID); got.Status != scheduler.StatusRescheduled || fmtTime(&got.Slot) != "2026-12-01T08:15:00+03:00" {
		t.Errorf("late booking: %s at %s, want rescheduled at 08:15", got.Status, got.Slot)
	}
	h.waitEvent(scheduler.EventBookingRescheduled, late.ID)
	h.waitEvent(scheduler.EventAdmission, ok.ID)
}

func TestScanWelcomeMessage(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	b := h.book("op-wadi", "main", "", 12, "08:15", "08:30")
	h.at("08:14")
	raw := h.scanRaw("visitor-centre", []byte(`{"ticket": "`+h.signer.Code(b)+`", "count": 12, "scan_id": "dev7-000123", "device": "dev7", "at": "2026-12-01T08:14:05+03:00"}`))
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"decision": "admit", "reason": "ok", "admitted": 12.0, "remaining": 0.0, "booking": b.ID,
		"slot": "2026-12-01T08:15:00+03:00", "gate": "visitor-centre", "retry_at": nil,
		"message": map[string]any{"en": "Welcome — wave 08:15", "ar": "أهلاً وسهلاً — فوج ٠٨:١٥"}}
	for k, v := range want {
		if fmt.Sprint(got[k]) != fmt.Sprint(v) {
			t.Errorf("%s = %v, want %v (reply %s)", k, got[k], v, raw)
		}
	}
}

func TestScanBadRequests(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	b := h.book("op-wadi", "main", "", 10, "06:00", "06:15")
	code := h.signer.Code(b)
	cases := []struct {
		name, gate, body, reason string
	}{
		{"not JSON", "visitor-centre", `{"ticket":`, reasonBadJSON},
		{"array", "visitor-centre", `[1,2]`, reasonBadJSON},
		{"null", "visitor-centre", `null`, reasonBadJSON},
		{"empty", "visitor-centre", ``, reasonBadJSON},
		{"two objects", "visitor-centre", `{"ticket":"` + code + `"} {}`, reasonBadJSON},
		{"unknown field", "visitor-centre", `{"ticket":"` + code + `","gate":"visitor-centre"}`, reasonUnknownField},
		{"count a string", "visitor-centre", `{"ticket":"` + code + `","count":"12"}`, reasonWrongType},
		{"count a fraction", "visitor-centre", `{"ticket":"` + code + `","count":1.5}`, reasonWrongType},
		{"no ticket", "visitor-centre", `{"count":1}`, reasonMissingField},
		{"negative count", "visitor-centre", `{"ticket":"` + code + `","count":-1}`, reasonOutOfRange},
		{"bad time", "visitor-centre", `{"ticket":"` + code + `","at":"08:14"}`, reasonBadTime},
		{"scan_id with spaces", "visitor-centre", `{"ticket":"` + code + `","scan_id":"a b"}`, reasonOutOfRange},
		{"huge", "visitor-centre", `{"ticket":"` + strings.Repeat("x", 5000) + `"}`, reasonTooLarge},
		{"unknown gate", "back-door", `{"ticket":"` + code + `"}`, reasonUnknownGate},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := h.metric("tafweej_sensor_invalid_messages_total", "kind", "scan", "reason", c.reason)
			r := decodeReply(t, h.scanRaw(c.gate, []byte(c.body)))
			if c.reason == reasonUnknownGate {
				// An attendant can act on it: the gate is named as unknown.
				if r.Decision != "reject" || r.Reason != scheduler.ReasonUnknownGate ||
					!strings.Contains(r.Message.EN, `"back-door"`) || !strings.Contains(r.Message.AR, `"back-door"`) {
					t.Fatalf("got %+v, want reject/unknown_gate naming \"back-door\" in both languages", r)
				}
			} else {
				if r.Decision != "reject" || r.Reason != "bad_request" {
					t.Fatalf("got %+v, want reject/bad_request", r)
				}
				if r.Message != scheduler.Message("bad_request") {
					t.Errorf("message %+v", r.Message)
				}
			}
			if r.Admitted != 0 || r.Booking != "" {
				t.Errorf("a bad request names a booking or admits: %+v", r)
			}
			if after := h.metric("tafweej_sensor_invalid_messages_total", "kind", "scan", "reason", c.reason); after != before+1 {
				t.Errorf("invalid{reason=%s} went %v → %v", c.reason, before, after)
			}
		})
	}
	if got := h.booking(b.ID); got.Admitted != 0 {
		t.Errorf("bad requests admitted %d", got.Admitted)
	}
	// A scan published without a reply subject changes nothing.
	if err := h.client.Publish("tafweej.petra.gate.visitor-centre.scan", []byte(`{"ticket":"`+code+`"}`)); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if v := h.metric("tafweej_sensor_invalid_messages_total", "reason", reasonNoReply); v != 1 {
			return fmt.Errorf("no_reply = %v", v)
		}
		return nil
	})
	if got := h.booking(b.ID); got.Admitted != 0 {
		t.Errorf("a scan without a reply subject admitted %d", got.Admitted)
	}
	if h.metric("tafweej_scan_duration_seconds") < float64(len(cases)) {
		t.Errorf("scan latency histogram has %v samples, want at least %d", h.metric("tafweej_scan_duration_seconds"), len(cases))
	}
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.RFC3339)
}

// A retried scan (same scan_id) gets the same reply, even after a restart,
// and admits nobody twice.
func TestScanRetrySameScanID(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	b := h.book("op-wadi", "main", "", 10, "08:00", "08:15")
	h.at("08:01")
	req := scheduler.ScanRequest{Ticket: h.signer.Code(b), Count: 4, ScanID: "dev3-000001", Device: "dev3"}
	data, _ := json.Marshal(req)
	first := h.scanRaw("visitor-centre", data)
	if r := decodeReply(t, first); r.Decision != "admit" || r.Admitted != 4 || r.Remaining != 6 {
		t.Fatalf("first scan: %s", first)
	}
	for i := range 3 {
		if again := h.scanRaw("visitor-centre", data); !bytes.Equal(again, first) {
			t.Fatalf("retry %d: %s, want %s", i, again, first)
		}
	}
	if got := h.booking(b.ID).Admitted; got != 4 {
		t.Fatalf("admitted %d after retries, want 4", got)
	}
	// The admission and the scan record were durable before the reply.
	h.restart()
	if again := h.scanRaw("visitor-centre", data); !bytes.Equal(again, first) {
		t.Fatalf("retry after restart: %s, want %s", again, first)
	}
	if got := h.booking(b.ID).Admitted; got != 4 {
		t.Fatalf("admitted %d after restart, want 4", got)
	}
	// A new scan_id is a new scan.
	req.ScanID = "dev3-000002"
	if r := h.scan("visitor-centre", req); r.Admitted != 4 || r.Remaining != 2 {
		t.Fatalf("second scan: %+v", r)
	}
}

// Many devices at two gates scan one group's ticket at once, with retries:
// at most the party is admitted, exactly once.
func TestConcurrentScansOneTicket(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	b := h.book("op-wadi", "main", "", 30, "08:00", "08:15")
	h.at("08:02")
	code := h.signer.Code(b)
	type out struct {
		scanID string
		res    scheduler.ScanResult
	}
	var (
		mu      sync.Mutex // guards results
		results []out
		wg      sync.WaitGroup
	)
	gates := []string{"visitor-centre", "little-petra"}
	for d := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gate := gates[d%2]
			for i := range 10 {
				// Every scan is sent twice, as a device that lost the reply would.
				id := fmt.Sprintf("dev%d-%d", d, i)
				data, _ := json.Marshal(scheduler.ScanRequest{Ticket: code, Count: 2, ScanID: id, Device: fmt.Sprintf("dev%d", d)})
				for range 2 {
					m, err := h.client.Request("tafweej.petra.gate."+gate+".scan", data, 5*time.Second)
					if err != nil {
						t.Error(err)
						return
					}
					var r scheduler.ScanResult
					if err := json.Unmarshal(m.Data, &r); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					results = append(results, out{id, r})
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	byID := map[string]scheduler.ScanResult{}
	sum := 0
	for _, o := range results {
		if prev, ok := byID[o.scanID]; ok {
			if fmt.Sprint(prev) != fmt.Sprint(o.res) {
				t.Errorf("scan %s answered %+v then %+v", o.scanID, prev, o.res)
			}
			continue
		}
		byID[o.scanID] = o.res
		sum += o.res.Admitted
		if strings.HasPrefix(o.scanID, "dev1") || strings.HasPrefix(o.scanID, "dev3") || strings.HasPrefix(o.scanID, "dev5") || strings.HasPrefix(o.scanID, "dev7") {
			if o.res.Reason != "wrong_gate" {
				t.Errorf("scan %s at little-petra: %s", o.scanID, o.res.Reason)
			}
		}
	}
	if sum != 30 {
		t.Errorf("replies admitted %d in all, want the party of 30", sum)
	}
	if got := h.booking(b.ID); got.Admitted != 30 || got.Status != scheduler.StatusCompleted {
		t.Errorf("booking: admitted %d, status %s", got.Admitted, got.Status)
	}
}

// Decide is also what the HTTP API calls; an owner loop that cannot apply
// the scan yields no decision, and no reply over NATS.
func TestDecideWithoutEngine(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	b := h.book("op-wadi", "main", "", 10, "06:00", "06:15")
	g := NewGate(h.eng, h.signer.Public())
	if r := g.Decide(context.Background(), "visitor-centre", scheduler.ScanRequest{Ticket: h.signer.Code(b)}); r.Decision != "admit" || r.Admitted != 1 {
		t.Fatalf("count absent means 1: %+v", r)
	}
	// The HTTP API takes the Gate as its scanner (api.Scanner) as it is.
	var scanner interface {
		Decide(context.Context, string, scheduler.ScanRequest) scheduler.ScanResult
	} = g
	if r := scanner.Decide(context.Background(), "visitor-centre", scheduler.ScanRequest{Ticket: h.signer.Code(b), Count: 2}); r.Admitted != 2 {
		t.Fatalf("as the HTTP API's scanner: %+v", r)
	}
	h.engCancel()
	<-h.engDone
	if r := g.Decide(context.Background(), "visitor-centre", scheduler.ScanRequest{Ticket: h.signer.Code(b)}); r.Decision != "" {
		t.Fatalf("stopped engine: %+v, want no decision", r)
	}
	data, _ := json.Marshal(scheduler.ScanRequest{Ticket: h.signer.Code(b), ScanID: "dev1-9"})
	if m, err := h.client.Request("tafweej.petra.gate.visitor-centre.scan", data, 300*time.Millisecond); !errors.Is(err, nats.ErrTimeout) {
		t.Fatalf("scan with the engine stopped: reply %v, err %v; want no reply", m, err)
	}
	if v := h.metric("tafweej_scan_duration_seconds", "decision", "none"); v != 1 {
		t.Errorf("unanswered scans counted %v", v)
	}
	h.engDone <- nil // for the harness's stop
}
