package store

import (
	"bytes"
	"strconv"
	"sync"
	"time"
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
	return decodeBookingFastNames(val, b, nil)
}

// decodeBookingFastNames is decodeBookingFast taking the strings many
// bookings share from nm (nil: none).
func decodeBookingFastNames(val []byte, b *scheduler.Booking, nm *names) bool {
	p := fastParser{buf: val, names: nm}
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
	buf   []byte
	i     int
	names *names // interns shared strings; nil: none
}

// names interns the strings many bookings share (operators, dates,
// routes, gates, statuses, languages, guides) for one decoding goroutine:
// a restart allocates one copy of each, not one a booking. It stops
// growing at maxNames strings.
type names struct{ m map[string]string }

const maxNames = 1 << 14

func newNames() *names { return &names{m: map[string]string{}} }

func (n *names) intern(b []byte) string {
	if n == nil {
		return string(b)
	}
	if s, ok := n.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(n.m) < maxNames {
		n.m[s] = s
	}
	return s
}

// name is str for a string many bookings share.
func (p *fastParser) name(out *string) bool {
	s, ok := p.rawString()
	if !ok || !utf8.Valid(s) {
		return false
	}
	*out = p.names.intern(s)
	return true
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
// does (encoding/json calls it), without a new zone for each time.
func (p *fastParser) timeField(t *time.Time) bool {
	s, ok := p.rawString()
	if !ok {
		return false
	}
	if tm, ok := parseRFC3339(s); ok {
		*t = tm
		return true
	}
	return t.UnmarshalJSON(p.buf[p.i-len(s)-2:p.i]) == nil
}

// parseRFC3339 parses the times MarshalJSON writes
// (2006-01-02T15:04:05.999999999Z07:00) as time.Parse would: in Local if
// its offset is Local's then, else in UTC for Z, else in an unnamed fixed
// zone. It gives up on anything else (time.Time's UnmarshalJSON decides).
func parseRFC3339(s []byte) (time.Time, bool) {
	if len(s) < len("2006-01-02T15:04:05Z") || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(b []byte) (int, bool) {
		n := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(s[0:4])
	month, ok2 := num(s[5:7])
	day, ok3 := num(s[8:10])
	hour, ok4 := num(s[11:13])
	minute, ok5 := num(s[14:16])
	sec, ok6 := num(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	rest, nsec := s[19:], 0
	if len(rest) > 0 && rest[0] == '.' {
		k := 1
		for k < len(rest) && rest[k] >= '0' && rest[k] <= '9' {
			k++
		}
		if k == 1 || k > 10 {
			return time.Time{}, false
		}
		n, _ := num(rest[1:k])
		for range 10 - k {
			n *= 10
		}
		rest, nsec = rest[k:], n
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // 31 June: time.Date would roll it over
		return time.Time{}, false
	}
	switch {
	case len(rest) == 1 && rest[0] == 'Z':
		return t, true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := num(rest[1:3])
		om, ok2 := num(rest[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		off := oh*3600 + om*60
		if rest[0] == '-' {
			off = -off
		}
		t = t.Add(-time.Duration(off) * time.Second)
		if _, lo := t.In(time.Local).Zone(); lo == off {
			return t.In(time.Local), true
		}
		return t.In(fixedZone(off)), true
	}
	return time.Time{}, false
}

// fixedZones are the unnamed fixed zones met, by offset (a Location is
// read-only once made, so one serves every time with that offset).
var fixedZones sync.Map // int → *time.Location

func fixedZone(off int) *time.Location {
	if l, ok := fixedZones.Load(off); ok {
		return l.(*time.Location)
	}
	l, _ := fixedZones.LoadOrStore(off, time.FixedZone("", off))
	return l.(*time.Location)
}

func (p *fastParser) bookingField(key []byte, b *scheduler.Booking) bool {
	switch string(key) {
	case "id":
		return p.str(&b.ID)
	case "operator":
		return p.name(&b.Operator)
	case "date":
		return p.name(&b.Date)
	case "route":
		return p.name(&b.Route)
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
		return p.name(&b.Language)
	case "guide":
		return p.name(&b.Guide)
	case "reference":
		return p.str(&b.Reference)
	case "slot":
		return p.timeField(&b.Slot)
	case "gate":
		return p.name(&b.Gate)
	case "status":
		var s string
		ok := p.name(&s)
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
