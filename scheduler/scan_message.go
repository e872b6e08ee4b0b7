package scheduler

import (
	"strconv"
	"strings"
)

// A scan record (ScanRecord) keeps the reply a retried scan_id gets again,
// and most of that reply's text is its bilingual message. The message is
// rendered from its reason's template and the time it names (or, for a
// partial admission, from the counts and the wave), so the store can keep
// that form instead of the two texts and render them again on load:
// CompactScanMessage gives the form only when rendering it gives back the
// message byte for byte, and the store keeps the texts otherwise.
//
// The templates (messages.go) are then part of the stored records: a
// record's message is rendered with this build's templates. Changing a
// text would change the reply a retried scan_id gets after a restart, so
// TestScanMessageTemplatesArePinned fails on any change: keep the old
// text for the records stored with it (a new encoding version in
// store/scanrecord.go), or accept that retries of earlier scans are
// answered with the new text.

// ScanMessage is the form a scan reply's message was rendered from, besides
// the reply's own reason and admitted count.
type ScanMessage struct {
	// Partial is the message of a partial admission (partialMessage):
	// "only <admitted> of <Count> may enter".
	Partial bool
	Count   int
	// Time is the time the message names as its English text writes it
	// ("08:00", or "--:--" when it had none), empty for a template that
	// names no time.
	Time string
}

// CompactScanMessage returns the form r's message was rendered from, and
// whether rendering that form for r gives r.Message byte for byte. It is
// false for a message of no template (an unknown reason, a message made
// elsewhere) and for one naming a gate, whose name is configuration: the
// caller keeps the texts of those.
func CompactScanMessage(r *ScanResult) (ScanMessage, bool) {
	var m ScanMessage
	en := r.Message.EN
	if rest, ok := strings.CutPrefix(en, partialHead); ok {
		m.Partial = true
		n, rest, ok1 := strings.Cut(rest, partialOf)
		c, rest, ok2 := strings.Cut(rest, partialWave)
		t, ok3 := strings.CutSuffix(rest, ")")
		if !ok1 || !ok2 || !ok3 || n != strconv.Itoa(r.Admitted) {
			return ScanMessage{}, false
		}
		count, err := strconv.Atoi(c)
		if err != nil {
			return ScanMessage{}, false
		}
		m.Count, m.Time = count, t
	} else {
		tmpl, ok := messages[r.Reason]
		if !ok || strings.Contains(tmpl.EN, "%g") || strings.Contains(tmpl.AR, "%g") {
			return ScanMessage{}, false
		}
		if pre, suf, has := strings.Cut(tmpl.EN, "%t"); has {
			if len(en) < len(pre)+len(suf) || !strings.HasPrefix(en, pre) || !strings.HasSuffix(en, suf) {
				return ScanMessage{}, false
			}
			m.Time = en[len(pre) : len(en)-len(suf)]
		}
	}
	got, ok := m.Render(r)
	return m, ok && got == r.Message
}

// Render is the message m stands for in the reply r (its reason and
// admitted count); false if r's reason has no template in this build.
func (m ScanMessage) Render(r *ScanResult) (Text, bool) {
	if m.Partial {
		return partialText(strconv.Itoa(r.Admitted), strconv.Itoa(m.Count), m.Time), true
	}
	tmpl, ok := messages[r.Reason]
	if !ok {
		return Text{}, false
	}
	return Text{EN: fill(tmpl.EN, m.Time, ""), AR: fill(tmpl.AR, arabicDigits(m.Time), "")}, true
}
