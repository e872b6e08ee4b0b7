package store

import (
	"bytes"
	"strconv"
	"unicode/utf8"

	"github.com/tafweej/tafweej/scheduler"
)

// Decoding is most of a restart's time: a million bookings through
// encoding/json's reflection take seconds. decodeBookingFast reads a
// booking record in the one form encode writes it (the envelope, the
// fields of scheduler.Booking, no spaces, strings without escapes, integer
// numbers) in one pass without reflection. Anything else (an escape, a
// null, an unknown field, a number with a fraction or exponent, invalid
// UTF-8, another schema version) makes it give up and decode, which then
// decodes the record with encoding/json as before: the two agree on every
// record (TestFastBookingDecodeAgreesWithJSON).

var bookingHead = append(append([]byte{}, envelopeHead...), '{')

// decodeBookingFast decodes val into b and reports whether it could.
func decodeBookingFast(val []byte, b *scheduler.Booking) bool {
	p := fastParser{buf: val}
	if !bytes.HasPrefix(val, bookingHead) {
		return false
	}
	p.i = len(bookingHead)
	var out scheduler.Booking
	if !p.object(func(key []byte) bool { return p.bookingField(key, &out) }) {
		return false
	}
	if !p.byte('}') || p.i != len(p.buf) {
		return false
	}
	*b = out
	return true
}

type fastParser struct {
	buf []byte
	i   int
}

func (p *fastParser) byte(c byte) bool {
	if p.i < len(p.buf) && p.buf[p.i] == c {
		p.i++
		return true
	}
	return false
}

// object reads the members of an object whose '{' is read, up to its '}'.
func (p *fastParser) object(member func(key []byte) bool) bool {
	if p.byte('}') {
		return true
	}
	for {
		key, ok := p.rawString()
		if !ok || !p.byte(':') || !member(key) {
			return false
		}
		if p.byte('}') {
			return true
		}
		if !p.byte(',') {
			return false
		}
	}
}

// rawString reads a string without escapes, returning its bytes.
func (p *fastParser) rawString() ([]byte, bool) {
	if !p.byte('"') {
		return nil, false
	}
	start := p.i
	for p.i < len(p.buf) {
		c := p.buf[p.i]
		switch {
		case c == '"':
			s := p.buf[start:p.i]
			p.i++
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		}
		p.i++
	}
	return nil, false
}

func (p *fastParser) str(out *string) bool {
	s, ok := p.rawString()
	if !ok || !utf8.Valid(s) {
		return false
	}
	*out = string(s)
	return true
}

func (p *fastParser) int(out *int) bool {
	start := p.i
	if p.i < len(p.buf) && p.buf[p.i] == '-' {
		p.i++
	}
	for p.i < len(p.buf) && p.buf[p.i] >= '0' && p.buf[p.i] <= '9' {
		p.i++
	}
	n, err := strconv.Atoi(string(p.buf[start:p.i]))
	if err != nil || p.i-start > 1 && p.buf[start] == '0' || p.i-start > 2 && p.buf[start] == '-' && p.buf[start+1] == '0' {
		return false // not a number, or a leading zero encoding/json refuses
	}
	*out = n
	return true
}

// timeField reads a quoted RFC 3339 time as time.Time's UnmarshalJSON
// does (encoding/json calls it).
func (p *fastParser) timeField(t interface{ UnmarshalJSON([]byte) error }) bool {
	start := p.i
	if _, ok := p.rawString(); !ok {
		return false
	}
	return t.UnmarshalJSON(p.buf[start:p.i]) == nil
}

func (p *fastParser) bookingField(key []byte, b *scheduler.Booking) bool {
	switch string(key) {
	case "id":
		return p.str(&b.ID)
	case "operator":
		return p.str(&b.Operator)
	case "date":
		return p.str(&b.Date)
	case "route":
		return p.str(&b.Route)
	case "party_size":
		return p.int(&b.PartySize)
	case "window":
		if !p.byte('{') {
			return false
		}
		return p.object(func(k []byte) bool {
			switch string(k) {
			case "from":
				return p.int(&b.Window.From)
			case "to":
				return p.int(&b.Window.To)
			}
			return false
		})
	case "language":
		return p.str(&b.Language)
	case "guide":
		return p.str(&b.Guide)
	case "reference":
		return p.str(&b.Reference)
	case "slot":
		return p.timeField(&b.Slot)
	case "gate":
		return p.str(&b.Gate)
	case "status":
		var s string
		ok := p.str(&s)
		b.Status = scheduler.Status(s)
		return ok
	case "admitted":
		return p.int(&b.Admitted)
	case "reason":
		return p.str(&b.Reason)
	case "created_at":
		return p.timeField(&b.CreatedAt)
	case "updated_at":
		return p.timeField(&b.UpdatedAt)
	case "version":
		return p.int(&b.Version)
	}
	return false
}
