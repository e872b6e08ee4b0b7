package sensors

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/tafweej/tafweej/scheduler"
)

// TestScanResultEncodingIsJSONMarshal: a gate's reply is the bytes
// json.Marshal writes for it, whatever its strings (any script, quotes,
// HTML characters, control characters, invalid UTF-8, U+2028) and times
// (any zone, fractions of a second, absent, out of JSON's range) — the
// wire contract's replies are unchanged by the encoder without
// reflection.
func TestScanResultEncodingIsJSONMarshal(t *testing.T) {
	amman, err := time.LoadLocation("Asia/Amman")
	if err != nil {
		t.Fatal(err)
	}
	locs := []*time.Location{time.UTC, amman, time.FixedZone("", 3*3600+30*60), time.FixedZone("odd", 37)}
	str := rapid.OneOf(
		rapid.SampledFrom([]string{"", "admit", "reject", "ok", "held", "bk_x", "visitor-centre", "ar", "op-wadi",
			"Welcome — wave 08:00", "أهلاً وسهلاً — فوج ٠٨:٠٠", `"back-door"`, "a<b>&c", "\u2028", "\ufffd", "a\x7fb", "tab\there", "bad\xffutf8"}),
		rapid.String(),
	)
	when := rapid.Custom(func(rt *rapid.T) *time.Time {
		if rapid.Bool().Draw(rt, "nil") {
			return nil
		}
		t := time.Unix(rapid.Int64Range(-70_000_000_000, 300_000_000_000).Draw(rt, "sec"), rapid.Int64Range(0, 999_999_999).Draw(rt, "nsec"))
		if rapid.Bool().Draw(rt, "whole_minute") {
			t = t.Truncate(time.Minute)
		}
		t = t.In(rapid.SampledFrom(locs).Draw(rt, "loc"))
		return &t
	})
	rapid.Check(t, func(rt *rapid.T) {
		r := scheduler.ScanResult{
			Decision: str.Draw(rt, "decision"), Reason: str.Draw(rt, "reason"),
			Admitted: rapid.IntRange(-5, 1000).Draw(rt, "admitted"), Remaining: rapid.Int().Draw(rt, "remaining"),
			Booking: str.Draw(rt, "booking"), Slot: when.Draw(rt, "slot"), Gate: str.Draw(rt, "gate"), RetryAt: when.Draw(rt, "retry_at"),
			Message:  scheduler.Text{EN: str.Draw(rt, "en"), AR: str.Draw(rt, "ar")},
			Operator: str.Draw(rt, "operator"), Language: str.Draw(rt, "language"), PartySize: rapid.IntRange(-1, 1000).Draw(rt, "party_size"),
		}
		want, wantErr := json.Marshal(r)
		got, err := encodeScanResult(r)
		if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
			rt.Fatalf("encoded %s (%v), json.Marshal %s (%v)", got, err, want, wantErr)
		}
	})
}

// BenchmarkEncodeScanResult: an admission's reply encoded.
func BenchmarkEncodeScanResult(b *testing.B) {
	slot := time.Date(2026, 12, 1, 8, 0, 0, 0, time.FixedZone("", 3*3600))
	r := scheduler.ScanResult{Decision: "admit", Reason: "ok", Admitted: 1, Remaining: 59, Booking: "bk_scan0_0001", Slot: &slot,
		Gate: "visitor-centre", Message: scheduler.Text{EN: "Welcome — wave 08:00", AR: "أهلاً وسهلاً — فوج ٠٨:٠٠"},
		Operator: "op-01", Language: "en", PartySize: 60}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeScanResult(r); err != nil {
			b.Fatal(err)
		}
	}
}
