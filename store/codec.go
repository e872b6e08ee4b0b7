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

// encode wraps a record in the versioned envelope.
func encode(rec any) ([]byte, error) {
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
		var (
			key []byte
			rec any
			bad string // what is wrong with the record's key, if anything
		)
		switch e := deref(e).(type) {
		case nil:
			return nil, fmt.Errorf("store: effect %d: nil effect", i)
		case scheduler.Event:
			continue
		case scheduler.PutBooking:
			key, rec = bookingKey(e.Booking.ID), &e.Booking
			if e.Booking.ID == "" {
				bad = "booking id is empty"
			}
		case scheduler.PutIdempotency:
			key, rec = idempotencyKey(e.Record.Operator, e.Record.Key), &e.Record
			bad = checkIdempotency(e.Record.Operator, e.Record.Key)
		case scheduler.DeleteIdempotency:
			key = idempotencyKey(e.Operator, e.Key)
			bad = checkIdempotency(e.Operator, e.Key)
		case scheduler.PutScan:
			key, rec = scanKey(e.Record.ScanID), &e.Record
			if e.Record.ScanID == "" {
				bad = "scan id is empty"
			}
		case scheduler.DeleteScan:
			key = scanKey(e.ScanID)
			if e.ScanID == "" {
				bad = "scan id is empty"
			}
		case scheduler.PutSensor:
			key, rec = sensorKey(e.State.Sensor), &e.State
			if e.State.Sensor == "" {
				bad = "sensor is empty"
			}
		case scheduler.PutZone:
			key, rec = zoneKey(e.State.Zone), &e.State
			if e.State.Zone == "" {
				bad = "zone is empty"
			}
		case scheduler.PutClosure:
			key, rec = closureKey(e.Closure.ID), &e.Closure
			if e.Closure.ID == "" {
				bad = "closure id is empty"
			}
		case scheduler.PutRequest:
			key, rec = requestKey(e.Request.ID), &e.Request
			if e.Request.ID == "" {
				bad = "request id is empty"
			}
		case scheduler.PutCut:
			key, rec = cutKey(e.Cut.ID), &e.Cut
			if e.Cut.ID == "" {
				bad = "capacity cut id is empty"
			}
		case scheduler.PutMeter:
			key, rec = meterKey(e.Group.Booking), &e.Group
			if e.Group.Booking == "" {
				bad = "held group's booking id is empty"
			}
		case scheduler.DeleteMeter:
			key = meterKey(e.Booking)
			if e.Booking == "" {
				bad = "held group's booking id is empty"
			}
		case scheduler.PutArchivedDay:
			key, rec = archiveDayKey(e.Day.Date), &e.Day
			if e.Day.Date == "" {
				bad = "archived date is empty"
			}
		default:
			return nil, fmt.Errorf("store: effect %d: unknown effect type %T", i, e)
		}
		if bad != "" {
			return nil, fmt.Errorf("store: effect %d (%T): %s", i, e, bad)
		}
		o := op{key: key}
		if rec != nil {
			val, err := encode(rec)
			if err != nil {
				return nil, fmt.Errorf("store: effect %d (%T): encode %q: %w", i, e, key, err)
			}
			o.val = val
		}
		ops = append(ops, o)
	}
	return ops, nil
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
