package scheduler

import (
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestGateAnswersAnAttendantCanActOn: what a gate attendant reads names
// what to do, in Arabic and in English: an unknown gate is named as such
// (not "scan not understood"), wrong_gate names the ticket's gate, and a
// cancelled ticket has nothing remaining.
func TestGateAnswersAnAttendantCanActOn(t *testing.T) {
	cfg := petra(t)
	r := &recorder{s: New(cfg)}
	now := testNow(cfg)
	book := func(id string) Booking {
		t.Helper()
		res := r.do(t, now, Book{ID: id, Operator: "op-a", Request: BookingRequest{
			Date: "2026-11-29", Route: "main", PartySize: 10, Window: Window{hm(10, 15), hm(12, 0)}}})
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		return *res.Booking
	}
	vc := book("bk-vc")
	cancelled := book("bk-cancelled")
	if res := r.do(t, now, Cancel{Operator: "op-a", ID: cancelled.ID}); res.Err != nil {
		t.Fatal(res.Err)
	}
	at := vc.Slot.Add(-time.Minute)
	cases := []struct {
		name, gate, booking, reason string
		en, ar                      []string // substrings each message must hold
		remaining                   int
	}{
		{"unknown gate", "back-door", vc.ID, ReasonUnknownGate,
			[]string{"Unknown gate", `"back-door"`}, []string{"بوابة غير معروفة", `"back-door"`}, 0},
		{"wrong gate names the ticket's gate", "little-petra", vc.ID, ReasonWrongGate,
			[]string{"Visitor Centre main gate"}, []string{"البوابة الرئيسية - مركز الزوار"}, 10},
		{"cancelled has nothing remaining", vc.Gate, cancelled.ID, ReasonCancelled,
			[]string{"cancelled"}, []string{"أُلغي"}, 0},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := r.do(t, at, Scan{Gate: c.gate, Ticket: Ticket{Booking: c.booking}, Count: 2, ScanID: "s" + string(rune('a'+i))})
			s := res.Scan
			if s == nil || s.Decision != DecisionReject || s.Reason != c.reason {
				t.Fatalf("scan: %+v, want reject/%s", s, c.reason)
			}
			for _, w := range c.en {
				if !strings.Contains(s.Message.EN, w) {
					t.Errorf("English %q does not say %q", s.Message.EN, w)
				}
			}
			for _, w := range c.ar {
				if !strings.Contains(s.Message.AR, w) {
					t.Errorf("Arabic %q does not say %q", s.Message.AR, w)
				}
			}
			if s.Remaining != c.remaining {
				t.Errorf("remaining %d, want %d", s.Remaining, c.remaining)
			}
			if s.Admitted != 0 {
				t.Errorf("admitted %d", s.Admitted)
			}
		})
	}
}

// TestMessageFillIsTheReplacer: the messages' placeholders are filled
// exactly as strings.Replacer fills them (which message used before), for
// any text, time and gate name, placeholders side by side, doubled or cut
// short included.
func TestMessageFillIsTheReplacer(t *testing.T) {
	texts := []string{"", "%", "%%", "%t", "%g", "%%t", "%t%g", "%tg%", "a%t%", "%x%t%%g%", "—%t—", "فوج %t %g"}
	for _, m := range messages {
		texts = append(texts, m.EN, m.AR)
	}
	subs := []string{"", "08:00", "٠٨:٠٠", "%t", "%g", `"back-door"`, "البوابة"}
	for _, s := range texts {
		for _, tt := range subs {
			for _, g := range subs {
				if got, want := fill(s, tt, g), strings.NewReplacer("%t", tt, "%g", g).Replace(s); got != want {
					t.Errorf("fill(%q, %q, %q) = %q, want %q", s, tt, g, got, want)
				}
			}
		}
	}
	rapid.Check(t, func(rt *rapid.T) {
		s := rapid.StringOf(rapid.SampledFrom([]rune("%tgx ٠ف"))).Draw(rt, "s")
		tt, g := rapid.String().Draw(rt, "t"), rapid.String().Draw(rt, "g")
		if got, want := fill(s, tt, g), strings.NewReplacer("%t", tt, "%g", g).Replace(s); got != want {
			rt.Fatalf("fill(%q, %q, %q) = %q, want %q", s, tt, g, got, want)
		}
	})
}
