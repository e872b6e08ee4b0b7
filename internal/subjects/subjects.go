// Package subjects builds the NATS subjects and JetStream names of a site
// (docs/wire-contract.md, "NATS"), and names the headers of a dead letter.
// The NATS adapters (sensors/), the web console (web/) and the commands
// that talk to a running service (cmd/tafweej) all build their subjects
// here, so that a subject is spelled in one place.
//
// Every subject of site S starts with "tafweej.S":
//
//	tafweej.S.gate.<gate>.scan           gate scans (request/reply)
//	tafweej.S.counter.<zone>.<sensor>    people counters (JetStream)
//	tafweej.S.alert                      alerts
//	tafweej.S.events.<kind>              events the service publishes
//	tafweej.S.deadletter.<kind>          invalid messages (JetStream)
package subjects

import "strings"

// Headers of a dead letter: why the message was refused, and where it came
// from.
const (
	HeaderReason  = "Tafweej-Reason"  // the reason label, e.g. unknown_sensor
	HeaderError   = "Tafweej-Error"   // the full error message
	HeaderSubject = "Tafweej-Subject" // the subject the message came on
	HeaderMsgID   = "Tafweej-Msg-Id"  // its Nats-Msg-Id, if any
	HeaderRule    = "Tafweej-Rule"    // the plausibility rule of an implausible reading
)

// Site is the subjects and JetStream names of one site. The site id must
// be one subject token (ValidToken); For does not check it.
type Site struct {
	site string
	// prefix is "tafweej.<site>".
	prefix string
}

// For returns the subjects of site.
func For(site string) Site {
	return Site{site: site, prefix: "tafweej." + site}
}

// Prefix is "tafweej.<site>", the start of every subject of the site.
func (s Site) Prefix() string { return s.prefix }

// GateScanAll is the gate responder's subscription:
// tafweej.<site>.gate.*.scan.
func (s Site) GateScanAll() string { return s.prefix + ".gate.*.scan" }

// GateScan is the subject a device at gate sends its scans to.
func (s Site) GateScan(gate string) string { return s.prefix + ".gate." + gate + ".scan" }

// GateOf is the gate of a scan subject (GateScan's argument back).
func (s Site) GateOf(subject string) string {
	return strings.TrimSuffix(strings.TrimPrefix(subject, s.prefix+".gate."), ".scan")
}

// CounterAll is the counter stream's subject filter.
func (s Site) CounterAll() string { return s.prefix + ".counter.>" }

// CounterPrefix is what every counter subject starts with:
// "tafweej.<site>.counter.".
func (s Site) CounterPrefix() string { return s.prefix + ".counter." }

// Counter is the subject of one people counter.
func (s Site) Counter(zone, sensor string) string {
	return s.prefix + ".counter." + zone + "." + sensor
}

// Alert is the alerts' subject.
func (s Site) Alert() string { return s.prefix + ".alert" }

// AlertsOf is the durable alert subject of one alert source, captured by
// the alerts stream: tafweej.<site>.alerts.<source>.
func (s Site) AlertsOf(source string) string { return s.prefix + ".alerts." + source }

// AlertsAll is the alerts stream's subject filter.
func (s Site) AlertsAll() string { return s.prefix + ".alerts.>" }

// AlertStream keeps the alerts of registered sources until applied.
func (s Site) AlertStream() string { return "TAFWEEJ_" + StreamToken(s.site) + "_ALERTS" }

// GateOffline is the subject a device at gate publishes its offline scans
// to, captured by the offline stream: tafweej.<site>.gate.<gate>.offline
// ("*" for every gate).
func (s Site) GateOffline(gate string) string { return s.prefix + ".gate." + gate + ".offline" }

// GateManifest is the subject a device at gate asks its day's manifest on:
// tafweej.<site>.gate.<gate>.manifest ("*" for every gate).
func (s Site) GateManifest(gate string) string { return s.prefix + ".gate." + gate + ".manifest" }

// OfflineStream keeps the offline scans of the site's gates until applied.
func (s Site) OfflineStream() string { return "TAFWEEJ_" + StreamToken(s.site) + "_OFFLINE" }

// DeadLetter is where invalid messages of a kind ("counter", "alert",
// "scan") are copied.
func (s Site) DeadLetter(kind string) string { return s.prefix + ".deadletter." + kind }

// DeadLetterAll matches every dead letter of the site.
func (s Site) DeadLetterAll() string { return s.prefix + ".deadletter.>" }

// DeadLetterKind is the kind of a dead letter's subject (DeadLetter's
// argument back).
func (s Site) DeadLetterKind(subject string) string {
	return strings.TrimPrefix(subject, s.prefix+".deadletter.")
}

// Event is the subject of the events of a kind (e.g. "booking.created").
func (s Site) Event(kind string) string { return s.prefix + ".events." + kind }

// EventAll matches every event of the site.
func (s Site) EventAll() string { return s.prefix + ".events.>" }

// CounterStream is the JetStream stream of the site's counters:
// TAFWEEJ_<SITE>_COUNTERS.
func (s Site) CounterStream() string { return "TAFWEEJ_" + StreamToken(s.site) + "_COUNTERS" }

// DeadLetterStream keeps the dead letters for inspection:
// TAFWEEJ_<SITE>_DEADLETTER.
func (s Site) DeadLetterStream() string { return "TAFWEEJ_" + StreamToken(s.site) + "_DEADLETTER" }

// StreamToken upper-cases a site id for a stream name, replacing anything
// but letters, digits, '-' and '_' (stream names may not hold '.', '*',
// '>' or spaces).
func StreamToken(site string) string {
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

// ValidToken reports whether s can be one token of a NATS subject: 1 to
// 128 printable ASCII characters, none of them '.', '*' or '>'.
func ValidToken(s string) bool {
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
