package sensors

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/tafweej/tafweej/scheduler"
)

// TestScanFastDecodeAgreesWithStrict: whatever the fast scan decoder
// accepts, the strict decoder decodes to the same request (so a reply, a
// refusal and its reason never depend on which one decoded), and what
// gates send — the contract's fields in any order and spacing, plain
// strings in any script, a plain count — is decoded by the fast one.
func TestScanFastDecodeAgreesWithStrict(t *testing.T) {
	agree := func(t interface {
		Fatalf(string, ...any)
	}, data []byte) bool {
		fast, ok := decodeScanFast(data)
		var strict scheduler.ScanRequest
		err := decodeStrict(data, maxScanBytes, "scan request", &strict)
		if ok && (err != nil || strict != fast) {
			t.Fatalf("%s: fast decoder %+v, strict %+v (%v)", data, fast, strict, err)
		}
		return ok
	}
	typical := []string{
		`{"ticket": "TFW1.abc.def", "count": 12, "scan_id": "dev7-000123", "device": "dev7", "at": "2026-12-01T08:14:05+03:00"}`,
		`{"ticket":"TFW1.abc.def","count":1,"scan_id":"bench-0-0-1","device":"dev-0"}`,
		`{}`, ` { } `, "{\n\t\"ticket\" : \"x\"\r\n}\n", `{"count":0}`, `{"count":999999999}`, `{"ticket":"فوج ٠٨:٠٠ — ✓"}`,
	}
	for _, s := range typical {
		if !agree(t, []byte(s)) {
			t.Errorf("%s: not decoded by the fast decoder", s)
		}
	}
	others := []string{
		``, ` `, `[]`, `null`, `{`, `}`, `{"ticket":"a"`, `{"ticket":"a"}x`, `{"ticket":"a"}{}`, `{"ticket":"a",}`, `{,}`,
		`{"Ticket":"a"}`, `{"TICKET":"a"}`, `{"ticket":"a","ticket":"b"}`, `{"count":1,"count":2}`, `{"other":1}`,
		`{"ticket":"a\"b"}`, `{"ticket":"a\\b"}`, `{"ticket":"\u0041"}`, "{\"ticket\":\"a\tb\"}", `{"ticket":null}`, `{"ticket":1}`,
		`{"count":"1"}`, `{"count":-1}`, `{"count":-0}`, `{"count":01}`, `{"count":1.0}`, `{"count":1e2}`, `{"count":1E2}`,
		`{"count":1234567890}`, `{"count":99999999999999999999}`, `{"count":true}`, `{"count":null}`, `{"count":}`,
		`{"ticket" "a"}`, `{"ticket":"a" "count":1}`, "{\"ticket\":\"a\xff\"}", "\xef\xbb\xbf{}", `{"ticket":"a"}` + strings.Repeat(" ", maxScanBytes),
	}
	for _, s := range others {
		agree(t, []byte(s))
	}
	keys := []string{"ticket", "count", "scan_id", "device", "at", "Ticket", "COUNT", "scan-id", "x"}
	rapid.Check(t, func(rt *rapid.T) {
		space := rapid.SampledFrom([]string{"", " ", "\n", "\t", "\r\n  "})
		var b strings.Builder
		b.WriteString(space.Draw(rt, "lead") + "{")
		plain := true
		n := rapid.IntRange(0, 7).Draw(rt, "fields")
		seen := map[string]bool{}
		for i := range n {
			if i > 0 {
				b.WriteString(space.Draw(rt, "s") + ",")
			}
			k := rapid.SampledFrom(keys).Draw(rt, "key")
			if seen[k] || strings.ToLower(k) != k || k == "scan-id" || k == "x" {
				plain = false
			}
			seen[k] = true
			b.WriteString(space.Draw(rt, "s") + `"` + k + `"` + space.Draw(rt, "s") + ":" + space.Draw(rt, "s"))
			switch rapid.IntRange(0, 3).Draw(rt, "value_kind") {
			case 0: // a string, plain or not
				s := rapid.String().Draw(rt, "string")
				v, _ := json.Marshal(s)
				if strings.ContainsAny(string(v[1:len(v)-1]), `\`) || k == "count" {
					plain = false
				}
				b.Write(v)
			case 1: // a number
				v := rapid.SampledFrom([]string{"0", "7", "60", "123456789", "1234567890", "-3", "1.5", "2e1", "00"}).Draw(rt, "number")
				if k != "count" || len(v) > 9 || strings.ContainsAny(v, "-.e") || v == "00" {
					plain = false
				}
				b.WriteString(v)
			case 2: // a JSON value of another kind
				b.WriteString(rapid.SampledFrom([]string{"null", "true", "[]", "{}", `"a\u00e9"`}).Draw(rt, "other"))
				plain = false
			case 3: // a count or a string as the field wants
				if k == "count" {
					b.WriteString(fmt.Sprint(rapid.IntRange(0, 999).Draw(rt, "count")))
				} else {
					b.WriteString(`"` + rapid.StringMatching(`[A-Za-z0-9.:+-]{0,20}`).Draw(rt, "plain") + `"`)
				}
			}
		}
		b.WriteString(space.Draw(rt, "s") + "}" + space.Draw(rt, "trail"))
		if ok := agree(rt, []byte(b.String())); plain && !ok {
			rt.Fatalf("%s: not decoded by the fast decoder", b.String())
		}
	})
}

// BenchmarkDecodeScan: a gate's scan request decoded, as the NATS
// responder does for every scan.
func BenchmarkDecodeScan(b *testing.B) {
	data := []byte(`{"ticket":"TFW1.eyJiIjoiYmtfc2NhbjBfMF8wMDAxIiwiZCI6IjIwMjYtMTItMDIifQ.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl","count":1,"scan_id":"bench-0-0-123","device":"dev-3"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeScan(data); err != nil {
			b.Fatal(err)
		}
	}
}
