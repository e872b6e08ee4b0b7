package sensors

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/tafweej/tafweej/internal/jsonplain"
	"github.com/tafweej/tafweej/scheduler"
)

// encodeScanResult is json.Marshal(r), byte for byte, without reflection
// for the replies gates get (TestScanResultEncodingIsJSONMarshal): a
// string that encoding/json would escape, or a time it cannot encode,
// goes to json.Marshal itself.
func encodeScanResult(r scheduler.ScanResult) ([]byte, error) {
	if b, ok := appendScanResult(make([]byte, 0, 384), r); ok {
		return b, nil
	}
	return json.Marshal(r)
}

func appendScanResult(b []byte, r scheduler.ScanResult) ([]byte, bool) {
	ok := true
	str := func(s string) {
		if ok {
			b, ok = jsonplain.Append(b, s)
		}
	}
	tm := func(t *time.Time) {
		if t == nil {
			b = append(b, "null"...)
			return
		}
		j, err := t.MarshalJSON()
		if err != nil {
			ok = false
			return
		}
		b = append(b, j...)
	}
	b = append(b, `{"decision":`...)
	str(r.Decision)
	b = append(b, `,"reason":`...)
	str(r.Reason)
	b = append(b, `,"admitted":`...)
	b = strconv.AppendInt(b, int64(r.Admitted), 10)
	b = append(b, `,"remaining":`...)
	b = strconv.AppendInt(b, int64(r.Remaining), 10)
	if r.Booking != "" {
		b = append(b, `,"booking":`...)
		str(r.Booking)
	}
	b = append(b, `,"slot":`...)
	tm(r.Slot)
	if r.Gate != "" {
		b = append(b, `,"gate":`...)
		str(r.Gate)
	}
	b = append(b, `,"retry_at":`...)
	tm(r.RetryAt)
	b = append(b, `,"message":{"en":`...)
	str(r.Message.EN)
	b = append(b, `,"ar":`...)
	str(r.Message.AR)
	b = append(b, '}')
	if r.Operator != "" {
		b = append(b, `,"operator":`...)
		str(r.Operator)
	}
	if r.Language != "" {
		b = append(b, `,"language":`...)
		str(r.Language)
	}
	if r.PartySize != 0 {
		b = append(b, `,"party_size":`...)
		b = strconv.AppendInt(b, int64(r.PartySize), 10)
	}
	b = append(b, '}')
	return b, ok
}
