package store

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/tafweej/tafweej/scheduler"
)

// envelopeHead is the start of every stored value: {"v":1,"r":<record>}.
var envelopeHead = []byte(`{"v":` + strconv.Itoa(SchemaVersion) + `,"r":`)

// encode wraps a record in the versioned envelope; a scan record is
// written in its binary form (scanrecord.go) when that holds it exactly.
func encode(rec any) ([]byte, error) {
	if r, ok := rec.(*scheduler.ScanRecord); ok {
		if v, ok := appendScanRecord(nil, r); ok {
			return v, nil // scanrecord.go
		}
	}
	if b, ok := rec.(*scheduler.Booking); ok {
		if v, ok := appendBookingRecord(make([]byte, 0, 384), b); ok {
			return v, nil // fastbookingenc.go
		}
	}
	return encodeJSON(rec)
}

// encodeJSON wraps a record's JSON in the versioned envelope: every record
// but the scan records the binary form holds.
func encodeJSON(rec any) ([]byte, error) {
	body, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	v := make([]byte, 0, len(envelopeHead)+len(body)+1)
	v = append(v, envelopeHead...)
	v = append(v, body...)
	return append(v, '}'), nil
}

// envelope is decoded in one pass with the record; the version is checked
// after.
type envelope[T any] struct {
	V int `json:"v"`
	R *T  `json:"r"`
}

// decode unwraps a stored value into out. It returns a *SchemaError for an
// unknown version, even if the record itself would not decode.
func decode[T any](key, val []byte, out *T) error {
	if b, ok := any(out).(*scheduler.Booking); ok && decodeBookingFast(val, b) {
		return nil // fastbooking.go
	}
	if r, ok := any(out).(*scheduler.ScanRecord); ok && isBinaryScanRecord(val) {
		return decodeScanRecord(key, val, r) // scanrecord.go
	}
	env := envelope[T]{R: out}
	err := json.Unmarshal(val, &env)
	if err != nil {
		// A newer schema may change a field's type: report the version, not
		// the type error, when the version is not ours.
		var v struct {
			V int `json:"v"`
		}
		if json.Unmarshal(val, &v) == nil && v.V != SchemaVersion {
			return &SchemaError{Key: string(key), Version: v.V}
		}
		return fmt.Errorf("store: decode record %q: %w", key, err)
	}
	if env.V != SchemaVersion {
		return &SchemaError{Key: string(key), Version: env.V}
	}
	return nil
}

// op is one write of a Commit: a put, or a delete when val is nil.
type op struct{ key, val []byte }

// encodeEffects turns the record effects into writes, in order (a later
// write of the same key wins). It fails, naming the effect, on an effect
// type it does not know or a record without its key.
func encodeEffects(effects []scheduler.Effect) ([]op, error) {
	ops := make([]op, 0, len(effects))
	for i, e := range effects {
		r := effectKey(e)
		if r.kind == 0 {
			switch d := deref(e).(type) {
			case nil:
				return nil, fmt.Errorf("store: effect %d: nil effect", i)
			case scheduler.Event:
				continue
			default:
				return nil, fmt.Errorf("store: effect %d: unknown effect type %T", i, d)
			}
		}
		if r.bad != "" {
			return nil, fmt.Errorf("store: effect %d (%T): %s", i, e, r.bad)
		}
		o := op{key: r.key}
		if r.rec != nil {
			val, err := encode(r.rec)
			if err != nil {
				return nil, fmt.Errorf("store: effect %d (%T): encode %q: %w", i, e, r.key, err)
			}
			o.val = val
		}
		ops = append(ops, o)
	}
	return ops, nil
}

// recordKind is the type of record an effect writes; 0 is none.
type recordKind int

const (
	kindBooking recordKind = iota + 1
	kindIdempotency
	kindScan
	kindSensor
	kindZone
	kindClosure
	kindRequest
	kindCut
	kindMeter
	kindArchivedDay
)

// effectRecord is what a record effect writes.
type effectRecord struct {
	kind recordKind // 0 for an event, a nil effect and an unknown type
	key  []byte
	rec  any    // the record to put; nil for a delete
	bad  string // what is wrong with the record's key, if anything
}

// effectKey is the one place that knows which key each effect writes:
// encodeEffects writes there and Records reads there. It accepts pointers to
// effects too (deref).
func effectKey(e scheduler.Effect) effectRecord {
	var r effectRecord
	switch e := deref(e).(type) {
	case scheduler.PutBooking:
		r = effectRecord{kind: kindBooking, key: bookingKey(e.Booking.ID), rec: &e.Booking}
		r.bad = missing(e.Booking.ID, "booking id")
	case scheduler.PutIdempotency:
		r = effectRecord{kind: kindIdempotency, key: idempotencyKey(e.Record.Operator, e.Record.Key), rec: &e.Record}
		r.bad = checkIdempotency(e.Record.Operator, e.Record.Key)
	case scheduler.DeleteIdempotency:
		r = effectRecord{kind: kindIdempotency, key: idempotencyKey(e.Operator, e.Key)}
		r.bad = checkIdempotency(e.Operator, e.Key)
	case scheduler.PutScan:
		r = effectRecord{kind: kindScan, key: scanKey(e.Record.ScanID), rec: &e.Record}
		r.bad = missing(e.Record.ScanID, "scan id")
	case scheduler.DeleteScan:
		r = effectRecord{kind: kindScan, key: scanKey(e.ScanID)}
		r.bad = missing(e.ScanID, "scan id")
	case scheduler.PutSensor:
		r = effectRecord{kind: kindSensor, key: sensorKey(e.State.Sensor), rec: &e.State}
		r.bad = missing(e.State.Sensor, "sensor")
	case scheduler.PutZone:
		r = effectRecord{kind: kindZone, key: zoneKey(e.State.Zone), rec: &e.State}
		r.bad = missing(e.State.Zone, "zone")
	case scheduler.PutClosure:
		r = effectRecord{kind: kindClosure, key: closureKey(e.Closure.ID), rec: &e.Closure}
		r.bad = missing(e.Closure.ID, "closure id")
	case scheduler.PutRequest:
		r = effectRecord{kind: kindRequest, key: requestKey(e.Request.ID), rec: &e.Request}
		r.bad = missing(e.Request.ID, "request id")
	case scheduler.PutCut:
		r = effectRecord{kind: kindCut, key: cutKey(e.Cut.ID), rec: &e.Cut}
		r.bad = missing(e.Cut.ID, "capacity cut id")
	case scheduler.PutMeter:
		r = effectRecord{kind: kindMeter, key: meterKey(e.Group.Booking), rec: &e.Group}
		r.bad = missing(e.Group.Booking, "held group's booking id")
	case scheduler.DeleteMeter:
		r = effectRecord{kind: kindMeter, key: meterKey(e.Booking)}
		r.bad = missing(e.Booking, "held group's booking id")
	case scheduler.PutArchivedDay:
		r = effectRecord{kind: kindArchivedDay, key: archiveDayKey(e.Day.Date), rec: &e.Day}
		r.bad = missing(e.Day.Date, "archived date")
	}
	return r
}

// missing says that the id of a record is empty, if it is.
func missing(id, what string) string {
	if id == "" {
		return what + " is empty"
	}
	return ""
}

func checkIdempotency(operator, key string) string {
	switch {
	case operator == "":
		return "operator is empty"
	case strings.IndexByte(operator, 0) >= 0:
		return fmt.Sprintf("operator %q holds a NUL byte", operator)
	case key == "":
		return "idempotency key is empty"
	}
	return ""
}

// deref accepts pointers to effects too: *PutBooking has PutBooking's
// methods, so it is an Effect as well.
func deref(e scheduler.Effect) scheduler.Effect {
	switch p := e.(type) {
	case *scheduler.PutBooking:
		if p != nil {
			return *p
		}
	case *scheduler.PutIdempotency:
		if p != nil {
			return *p
		}
	case *scheduler.DeleteIdempotency:
		if p != nil {
			return *p
		}
	case *scheduler.PutScan:
		if p != nil {
			return *p
		}
	case *scheduler.DeleteScan:
		if p != nil {
			return *p
		}
	case *scheduler.PutSensor:
		if p != nil {
			return *p
		}
	case *scheduler.PutZone:
		if p != nil {
			return *p
		}
	case *scheduler.PutClosure:
		if p != nil {
			return *p
		}
	case *scheduler.PutRequest:
		if p != nil {
			return *p
		}
	case *scheduler.PutCut:
		if p != nil {
			return *p
		}
	case *scheduler.PutMeter:
		if p != nil {
			return *p
		}
	case *scheduler.DeleteMeter:
		if p != nil {
			return *p
		}
	case *scheduler.PutArchivedDay:
		if p != nil {
			return *p
		}
	case *scheduler.Event:
		if p != nil {
			return *p
		}
	default:
		return e
	}
	return nil // a nil pointer
}
