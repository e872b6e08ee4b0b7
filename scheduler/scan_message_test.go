package scheduler

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestScanMessageRendersBackByteForByte: the message of every reply the
// core gives from a template without a gate (any reason, any time, any
// zone, partial admissions of any counts) has a compact form, and
// rendering the form gives back the message byte for byte; a form is never
// given for a text it does not render back.
func TestScanMessageRendersBackByteForByte(tt *testing.T) {
	reasons := make([]string, 0, len(messages))
	for r := range messages {
		reasons = append(reasons, r)
	}
	slices.Sort(reasons)
	zones := []*time.Location{time.UTC, amman(tt), time.FixedZone("", -(3*3600 + 30*60))}
	rapid.Check(tt, func(t *rapid.T) {
		r := ScanResult{Reason: rapid.SampledFrom(reasons).Draw(t, "reason"), Admitted: rapid.IntRange(-5, 500).Draw(t, "admitted")}
		at := time.Unix(rapid.Int64Range(0, 4e9).Draw(t, "at"), 0)
		if rapid.Bool().Draw(t, "no-time") {
			at = time.Time{}
		}
		loc := rapid.SampledFrom(zones).Draw(t, "zone")
		gate := Text{EN: rapid.String().Draw(t, "gate-en"), AR: rapid.String().Draw(t, "gate-ar")}
		compactable := true
		switch rapid.IntRange(0, 3).Draw(t, "kind") {
		case 0, 1:
			r.Message = message(r.Reason, at, loc, gate)
			compactable = !strings.Contains(messages[r.Reason].EN, "%g")
		case 2:
			r.Reason = ReasonOK
			r.Message = partialMessage(r.Admitted, rapid.IntRange(-5, 500).Draw(t, "count"), at, loc)
		default:
			r.Message = Text{EN: rapid.String().Draw(t, "en"), AR: rapid.String().Draw(t, "ar")}
			compactable = false
		}
		m, ok := CompactScanMessage(&r)
		if compactable && !ok {
			t.Fatalf("no compact form for %+v", r)
		}
		if !ok {
			return
		}
		if got, _ := m.Render(&r); got != r.Message {
			t.Fatalf("form %+v renders %+v, the message was %+v", m, got, r.Message)
		}
	})
}

// TestScanMessageTemplatesArePinned: stored scan records keep a message
// as its form (scan_message.go), rendered again with these templates when
// a retried scan_id is answered after a restart. A change to any text
// changes those replies: keep the old texts for the records stored with
// them (a new form version in store/scanrecord.go) before changing the
// pin here.
func TestScanMessageTemplatesArePinned(t *testing.T) {
	h := sha256.New()
	keys := make([]string, 0, len(messages))
	for k := range messages {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		h.Write([]byte(k + "\x00" + messages[k].EN + "\x00" + messages[k].AR + "\x00"))
	}
	p := partialText("1", "2", "08:00")
	h.Write([]byte(p.EN + "\x00" + p.AR + "\x00" + arabicDigits("0123456789:-")))
	const pinned = "2a5a1009b082f9fc330945d259ed40d4417f676ff42ed6a3109609c7aef30a85"
	if got := hex.EncodeToString(h.Sum(nil)); got != pinned {
		t.Fatalf("the scan messages' templates changed (hash %s, pinned %s): stored scan records render their "+
			"messages with them; keep the old texts for records of the old form, then pin the new hash", got, pinned)
	}
}
