package sensors

import (
	"strings"
)

// Subjects and JetStream names of one site (docs/wire-contract.md, "NATS").
type subjects struct {
	site string
	// prefix is "tafweej.<site>".
	prefix string
}

func newSubjects(site string) subjects {
	return subjects{site: site, prefix: "tafweej." + site}
}

// gateScanAll is the gate responder's subscription: tafweej.<site>.gate.*.scan.
func (s subjects) gateScanAll() string { return s.prefix + ".gate.*.scan" }

// gateScan is the subject a device at gate sends its scans to.
func (s subjects) gateScan(gate string) string { return s.prefix + ".gate." + gate + ".scan" }

// counterAll is the counter stream's subject filter.
func (s subjects) counterAll() string { return s.prefix + ".counter.>" }

// counter is the subject of one people counter.
func (s subjects) counter(zone, sensor string) string {
	return s.prefix + ".counter." + zone + "." + sensor
}

func (s subjects) alert() string { return s.prefix + ".alert" }

// alertsOf is the durable alert subject of one alert source, captured by
// the alerts stream: tafweej.<site>.alerts.<source>.
func (s subjects) alertsOf(source string) string { return s.prefix + ".alerts." + source }

func (s subjects) alertsAll() string { return s.prefix + ".alerts.>" }

// alertStream keeps the alerts of registered sources until applied.
func (s subjects) alertStream() string { return "TAFWEEJ_" + streamToken(s.site) + "_ALERTS" }

// deadLetter is where invalid messages of a kind ("counter", "alert",
// "scan") are copied.
func (s subjects) deadLetter(kind string) string { return s.prefix + ".deadletter." + kind }

func (s subjects) deadLetterAll() string { return s.prefix + ".deadletter.>" }

func (s subjects) event(kind string) string { return s.prefix + ".events." + kind }

// counterStream is the JetStream stream of the site's counters:
// TAFWEEJ_<SITE>_COUNTERS.
func (s subjects) counterStream() string { return "TAFWEEJ_" + streamToken(s.site) + "_COUNTERS" }

// deadLetterStream keeps the dead letters for inspection.
func (s subjects) deadLetterStream() string { return "TAFWEEJ_" + streamToken(s.site) + "_DEADLETTER" }

// Durable consumer and queue group names.
const (
	counterDurable = "tafweej-counters"
	gateQueue      = "tafweej-gate"
	alertQueue     = "tafweej-alert"
	alertDurable   = "tafweej-alerts"
)

// streamToken upper-cases a site id for a stream name, replacing anything
// but letters, digits, '-' and '_' (stream names may not hold '.', '*',
// '>' or spaces).
func streamToken(site string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(site) {
		switch {
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// validToken reports whether s can be one token of a NATS subject.
func validToken(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == '.' || c == '*' || c == '>' || c >= 0x7f {
			return false
		}
	}
	return true
}
