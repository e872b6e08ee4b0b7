package sensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tafweej/tafweej/internal/subjects"
	"github.com/tafweej/tafweej/scheduler"
)

// Reasons an incoming message is invalid: the reason label of
// tafweej_sensor_invalid_messages_total and the Tafweej-Reason header of a
// dead letter. A bounded set.
const (
	reasonTooLarge        = "too_large"        // over the size limit of its kind
	reasonBadJSON         = "bad_json"         // not one JSON object
	reasonUnknownField    = "unknown_field"    // a field the schema does not have
	reasonWrongType       = "wrong_type"       // a field of the wrong JSON type
	reasonMissingField    = "missing_field"    // a required field is absent or empty
	reasonOutOfRange      = "out_of_range"     // a value outside what is accepted
	reasonBadTime         = "bad_time"         // a time that is not RFC 3339 with an offset
	reasonBadSubject      = "bad_subject"      // a subject of the wrong shape
	reasonSubjectMismatch = "subject_mismatch" // the subject names another zone or sensor than the body
	reasonMsgIDMismatch   = "msg_id_mismatch"  // Nats-Msg-Id is not <sensor>:<boot>:<seq>
	reasonUnknownGate     = "unknown_gate"
	reasonUnknownSensor   = "unknown_sensor"
	reasonUnknownZone     = "unknown_zone"
	reasonWrongZone       = "wrong_zone"       // a known sensor reporting for another zone
	reasonUnknownKind     = "unknown_kind"     // an alert kind the site has no rule for
	reasonBadTicket       = "malformed_ticket" // not a ticket code of this format
	reasonBadSignature    = "invalid_signature"
	reasonNoReply         = "no_reply"    // a scan sent without a reply subject
	reasonRejected        = "rejected"    // refused by the scheduler (e.g. unknown sensor)
	reasonImplausible     = "implausible" // a reading no crowd can produce; Tafweej-Rule names the rule
	reasonExpired         = "expired"     // an alert delivered after its expires time
)

// Size limits of incoming messages, in bytes.
const (
	maxScanBytes    = 4 << 10
	maxCounterBytes = 2 << 10
	maxAlertBytes   = 8 << 10
	maxIDLen        = 128 // scan_id, device, boot, alert id
	maxTicketLen    = 1024
)

// invalidError is an incoming message that is not accepted; Reason is one
// of the reason constants.
type invalidError struct {
	Reason string
	// Rule is the plausibility rule an implausible reading broke
	// (dead letter header Tafweej-Rule).
	Rule string
	Msg  string
}

func (e *invalidError) Error() string { return e.Msg }

func invalidf(reason, format string, args ...any) *invalidError {
	return &invalidError{Reason: reason, Msg: fmt.Sprintf(format, args...)}
}

// reasonOf is the reason of an invalid message error.
func reasonOf(err error) string {
	var ie *invalidError
	if errors.As(err, &ie) {
		return ie.Reason
	}
	return reasonRejected
}

// decodeStrict decodes exactly one JSON object into v, refusing unknown
// fields and anything after the object.
func decodeStrict(data []byte, max int, what string, v any) error {
	if len(data) > max {
		return invalidf(reasonTooLarge, "%s of %d bytes is over the limit of %d bytes", what, len(data), max)
	}
	if !utf8.Valid(data) {
		return invalidf(reasonBadJSON, "%s is not valid UTF-8", what)
	}
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return invalidf(reasonBadJSON, "%s is not a JSON object", what)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			return invalidf(reasonWrongType, "%s: field %q must be a JSON %s, not %s", what, te.Field, jsonType(te.Type.String()), te.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return invalidf(reasonUnknownField, "%s: %s (accepted: %s)", what, strings.TrimPrefix(err.Error(), "json: "), fieldsOf(v))
		}
		return invalidf(reasonBadJSON, "%s is not a JSON object: %v", what, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalidf(reasonBadJSON, "%s: unexpected data after the JSON object", what)
	}
	return nil
}

func jsonType(goType string) string {
	switch {
	case strings.Contains(goType, "int"), strings.Contains(goType, "float"):
		return "number"
	case strings.Contains(goType, "string"):
		return "string"
	case strings.HasPrefix(goType, "[]"):
		return "array"
	}
	return "value of type " + goType
}

func fieldsOf(v any) string {
	switch v.(type) {
	case *scheduler.ScanRequest:
		return "ticket, count, scan_id, device, at"
	case *counterWire:
		return "sensor, zone, boot, seq, in_total, out_total, at"
	case *alertWire:
		return "id, kind, zones, severity, at"
	}
	return "see docs/wire-contract.md"
}

// parseTime parses an RFC 3339 time with an offset.
func parseTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, invalidf(reasonBadTime, "%s %q is not an RFC 3339 time with an offset (e.g. 2026-12-01T08:14:05+03:00)", field, s)
	}
	return t, nil
}

// checkID checks a free-form identifier: 1 to maxIDLen printable ASCII
// characters without spaces.
func checkID(field, s string) error {
	if len(s) > maxIDLen {
		return invalidf(reasonOutOfRange, "%s of %d bytes is too long: at most %d", field, len(s), maxIDLen)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return invalidf(reasonOutOfRange, "%s %q may hold only printable ASCII characters without spaces", field, s)
		}
	}
	return nil
}

// ---- gate scans ----

// decodeScan decodes a gate scan request (docs/wire-contract.md, "Gate scan"). It checks
// the schema only; Gate.Decide checks the values.
func decodeScan(data []byte) (scheduler.ScanRequest, error) {
	if req, ok := decodeScanFast(data); ok {
		return req, nil
	}
	var req scheduler.ScanRequest
	if err := decodeStrict(data, maxScanBytes, "scan request", &req); err != nil {
		return scheduler.ScanRequest{}, err
	}
	return req, nil
}

// checkScan validates a scan request's values. Count 0 (absent) means 1.
func checkScan(req scheduler.ScanRequest) error {
	if strings.TrimSpace(req.Ticket) == "" {
		return invalidf(reasonMissingField, "ticket is required: the code read from the QR")
	}
	if len(req.Ticket) > maxTicketLen {
		return invalidf(reasonOutOfRange, "ticket of %d bytes is too long: at most %d", len(req.Ticket), maxTicketLen)
	}
	if req.Count < 0 {
		return invalidf(reasonOutOfRange, "count %d is out of range: the number of people passing, 1 or more (0 or absent means 1)", req.Count)
	}
	if err := checkID("scan_id", req.ScanID); err != nil {
		return err
	}
	if err := checkID("device", req.Device); err != nil {
		return err
	}
	if req.At != "" {
		if _, err := parseTime("at", req.At); err != nil {
			return err
		}
	}
	return nil
}

// ---- people counters ----

// counterWire is a counter message as sent; pointers tell absent fields.
type counterWire struct {
	Sensor   *string `json:"sensor"`
	Zone     *string `json:"zone"`
	Boot     *string `json:"boot"`
	Seq      *uint64 `json:"seq"`
	InTotal  *int64  `json:"in_total"`
	OutTotal *int64  `json:"out_total"`
	At       *string `json:"at"`
}

// decodeCounter decodes and checks a counter message received on subject
// (tafweej.<site>.counter.<zone>.<sensor>) with the given Nats-Msg-Id
// header ("" if none). It checks the schema and that subject, header and
// body agree; validateCounter checks them against the site.
func decodeCounter(subj subjects.Site, subject, msgID string, data []byte) (scheduler.CounterReading, error) {
	var r scheduler.CounterReading
	rest, ok := strings.CutPrefix(subject, subj.CounterPrefix())
	tokens := strings.Split(rest, ".")
	if !ok || len(tokens) != 2 || tokens[0] == "" || tokens[1] == "" {
		return r, invalidf(reasonBadSubject, "subject %q is not %s.counter.<zone>.<sensor>", subject, subj.Prefix())
	}
	var w counterWire
	if err := decodeStrict(data, maxCounterBytes, "counter message", &w); err != nil {
		return r, err
	}
	var missing []string
	str := func(name string, p *string) string {
		if p == nil || *p == "" {
			missing = append(missing, name)
			return ""
		}
		return *p
	}
	r.Sensor = str("sensor", w.Sensor)
	r.Zone = str("zone", w.Zone)
	r.Boot = str("boot", w.Boot)
	at := str("at", w.At)
	if w.Seq == nil {
		missing = append(missing, "seq")
	}
	if w.InTotal == nil {
		missing = append(missing, "in_total")
	}
	if w.OutTotal == nil {
		missing = append(missing, "out_total")
	}
	if len(missing) > 0 {
		return r, invalidf(reasonMissingField, "counter message: missing %s (required: sensor, zone, boot, seq, in_total, out_total, at)", strings.Join(missing, ", "))
	}
	r.Seq, r.In, r.Out = *w.Seq, *w.InTotal, *w.OutTotal
	if r.In < 0 || r.Out < 0 {
		return r, invalidf(reasonOutOfRange, "counter message: in_total %d and out_total %d must not be negative", r.In, r.Out)
	}
	if err := checkID("boot", r.Boot); err != nil {
		return r, err
	}
	t, err := parseTime("at", at)
	if err != nil {
		return r, err
	}
	r.At = t
	if tokens[0] != r.Zone || tokens[1] != r.Sensor {
		return r, invalidf(reasonSubjectMismatch, "subject %q names zone %q and sensor %q, the message zone %q and sensor %q", subject, tokens[0], tokens[1], r.Zone, r.Sensor)
	}
	if msgID != "" {
		if want := counterMsgID(r.Sensor, r.Boot, r.Seq); msgID != want {
			return r, invalidf(reasonMsgIDMismatch, "Nats-Msg-Id %q does not match the message: want %q (<sensor>:<boot>:<seq>)", msgID, want)
		}
	}
	return r, nil
}

// counterMsgID is the Nats-Msg-Id of a counter message.
func counterMsgID(sensor, boot string, seq uint64) string {
	return sensor + ":" + boot + ":" + strconv.FormatUint(seq, 10)
}

// validateCounter checks a decoded reading against the site's sensors.
func validateCounter(cfg *scheduler.Config, r scheduler.CounterReading) error {
	sc, ok := cfg.Sensor(r.Sensor)
	if !ok {
		return invalidf(reasonUnknownSensor, "unknown sensor %q (the site's sensors are listed under sensors: in its configuration)", r.Sensor)
	}
	if _, ok := cfg.Zone(r.Zone); !ok {
		return invalidf(reasonUnknownZone, "unknown zone %q", r.Zone)
	}
	if sc.Zone != r.Zone {
		return invalidf(reasonWrongZone, "sensor %q counts zone %q, not %q", r.Sensor, sc.Zone, r.Zone)
	}
	return nil
}

// ---- alerts ----

// alertWire is an alert as sent (docs/wire-contract.md, "Alerts"). ID is an extension:
// a sender that retries an alert gives it an id so that the retry opens no
// second closure.
type alertWire struct {
	ID       string   `json:"id,omitempty"`
	Kind     *string  `json:"kind"`
	Zones    []string `json:"zones"`
	Severity *string  `json:"severity"`
	At       *string  `json:"at"`
	// Expires, an extension: an alert delivered later (from the alerts
	// stream, after the service was down) is not applied after it.
	Expires *string `json:"expires,omitempty"`
}

// alertMsg is a decoded alert.
type alertMsg struct {
	ID       string
	Kind     string
	Zones    []string
	Severity string
	At       time.Time
	Expires  time.Time // zero: never
}

// decodeAlert decodes and checks the schema of an alert.
func decodeAlert(data []byte) (alertMsg, error) {
	var w alertWire
	if err := decodeStrict(data, maxAlertBytes, "alert", &w); err != nil {
		return alertMsg{}, err
	}
	var missing []string
	if w.Kind == nil || *w.Kind == "" {
		missing = append(missing, "kind")
	}
	if w.Severity == nil || *w.Severity == "" {
		missing = append(missing, "severity")
	}
	if w.At == nil || *w.At == "" {
		missing = append(missing, "at")
	}
	if len(missing) > 0 {
		return alertMsg{}, invalidf(reasonMissingField, "alert: missing %s (required: kind, severity, at; optional: zones, id, expires)", strings.Join(missing, ", "))
	}
	a := alertMsg{ID: w.ID, Kind: *w.Kind, Severity: *w.Severity}
	if err := checkID("kind", a.Kind); err != nil {
		return alertMsg{}, err
	}
	if err := checkID("id", a.ID); err != nil {
		return alertMsg{}, err
	}
	switch a.Severity {
	case "low", "medium", "high":
	default:
		return alertMsg{}, invalidf(reasonOutOfRange, "alert: severity %q is not one of low, medium, high", a.Severity)
	}
	if len(w.Zones) > 64 {
		return alertMsg{}, invalidf(reasonOutOfRange, "alert: %d zones is too many: at most 64", len(w.Zones))
	}
	for _, z := range w.Zones {
		if z == "" {
			return alertMsg{}, invalidf(reasonMissingField, "alert: zones may not hold an empty zone id")
		}
	}
	a.Zones = w.Zones
	t, err := parseTime("at", *w.At)
	if err != nil {
		return alertMsg{}, err
	}
	a.At = t
	if w.Expires != nil {
		if a.Expires, err = parseTime("expires", *w.Expires); err != nil {
			return alertMsg{}, err
		}
	}
	return a, nil
}

// validateAlert checks an alert against the site: its kind has a rule and
// its zones exist.
func validateAlert(cfg *scheduler.Config, a alertMsg) error {
	if _, ok := cfg.Alerts[a.Kind]; !ok {
		return invalidf(reasonUnknownKind, "alert kind %q has no rule in the site configuration (alerts:)", a.Kind)
	}
	for _, z := range a.Zones {
		if _, ok := cfg.Zone(z); !ok {
			return invalidf(reasonUnknownZone, "alert: unknown zone %q", z)
		}
	}
	return nil
}
