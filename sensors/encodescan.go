package sensors

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

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
			b, ok = appendPlainString(b, s)
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

// appendPlainString appends s quoted, if encoding/json would write it
// without escapes: valid UTF-8 without control characters, '"', '\\',
// the HTML characters '<', '>' and '&', U+2028 or U+2029.
func appendPlainString(b []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return b, false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || r == '\u2028' || r == '\u2029' {
			return b, false
		}
		i += n
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), true
}
