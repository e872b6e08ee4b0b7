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
	if !bytes.HasPrefix(val, bookingHead) {
		return false
	}
	if decodeBookingInOrder(val, b, nm) {
		return true
	}
	p := fastParser{buf: val, i: len(bookingHead), names: nm}
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

// decodeBookingInOrder is decodeBookingFastNames for a record whose
// fields are in the order encode writes them (scheduler.Booking's, the
// omitempty ones present or not): each key is matched as it comes instead
// of read and looked up. It gives up on anything else (the caller then
// reads the fields in any order).
func decodeBookingInOrder(val []byte, b *scheduler.Booking, nm *names) bool {
	p := fastParser{buf: val, i: len(bookingHead), names: nm}
	var out scheduler.Booking
	ok := p.lit(`"id":`) && p.str(&out.ID) &&
		p.lit(`,"operator":`) && p.name(nameOperator, &out.Operator) &&
		p.lit(`,"date":`) && p.name(nameDate, &out.Date) &&
		p.lit(`,"route":`) && p.name(nameRoute, &out.Route) &&
		p.lit(`,"party_size":`) && p.int(&out.PartySize) &&
		p.lit(`,"window":{"from":`) && p.int(&out.Window.From) &&
		p.lit(`,"to":`) && p.int(&out.Window.To) && p.byte('}') &&
		(!p.lit(`,"language":`) || p.name(nameLanguage, &out.Language)) &&
		(!p.lit(`,"guide":`) || p.name(nameGuide, &out.Guide)) &&
		(!p.lit(`,"reference":`) || p.str(&out.Reference)) &&
		p.lit(`,"slot":`) && p.timeField(&out.Slot) &&
		p.lit(`,"gate":`) && p.name(nameGate, &out.Gate) &&
		p.lit(`,"status":`) && p.status(&out.Status) &&
		p.lit(`,"admitted":`) && p.int(&out.Admitted) &&
		(!p.lit(`,"reason":`) || p.str(&out.Reason)) &&
		p.lit(`,"created_at":`) && p.timeField(&out.CreatedAt) &&
		p.lit(`,"updated_at":`) && p.timeField(&out.UpdatedAt) &&
		p.lit(`,"version":`) && p.int(&out.Version) &&
		p.lit(`}}`) && p.i == len(p.buf)
	if ok {
		*b = out
	}
	return ok
}

// lit reads s if it comes next.
func (p *fastParser) lit(s string) bool {
	if len(p.buf)-p.i >= len(s) && string(p.buf[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return true
	}
	return false
}

func (p *fastParser) status(out *scheduler.Status) bool {
	var s string
	ok := p.name(nameStatus, &s)
	*out = scheduler.Status(s)
	return ok
}

type fastParser struct {
	buf   []byte
	i     int
	names *names // interns shared strings; nil: none
}

// names interns the strings many bookings share (operators, dates,
// routes, gates, statuses, languages, guides) for one decoding goroutine:
// a restart allocates one copy of each, not one a booking. It stops
// growing at maxNames strings. Every string it holds is valid UTF-8 (name
// checks before interning), so a string found needs no check.
type names struct {
	m map[string]string
	// last is the last string of each field (nameOperator...): records in
	// key order often repeat their date, route, status, language and
	// guide, found then without a map lookup.
	last [nameFields]string
	// The fixed zone of the last time read with an offset, and the offset.
	zone    *time.Location
	zoneOff int
	// The last time parsed and its text (a booking's updated_at is most
	// often its created_at).
	lastTime     time.Time
	lastTimeText []byte
}

// The fields name interns, for names.last.
const (
	nameOperator = iota
	nameDate
	nameRoute
	nameLanguage
	nameGuide
	nameGate
	nameStatus
	nameFields
)

// fixedZone is the package's fixedZone, the last one kept (nm may be nil).
func (nm *names) fixedZone(off int) *time.Location {
	if nm == nil {
		return fixedZone(off)
	}
	if nm.zone == nil || nm.zoneOff != off {
		nm.zone, nm.zoneOff = fixedZone(off), off
	}
	return nm.zone
}

const maxNames = 1 << 14

func newNames() *names { return &names{m: map[string]string{}} }

// name is str for a string many bookings share: field k's (nameOperator...).
func (p *fastParser) name(k int, out *string) bool {
	b, ok := p.rawString()
	if !ok {
		return false
	}
	n := p.names
	if n == nil {
		if !utf8.Valid(b) {
			return false
		}
		*out = string(b)
		return true
	}
	if l := n.last[k]; l == string(b) {
		*out = l
		return true
	}
	s, ok := n.m[string(b)]
	if !ok {
		if !utf8.Valid(b) {
			return false
		}
		s = string(b)
		if len(n.m) < maxNames {
			n.m[s] = s
		}
	}
	n.last[k] = s
	*out = s
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
	buf, start := p.buf, p.i
	for i := start; i < len(buf); i++ {
		switch c := buf[i]; {
		case c == '"':
			p.i = i + 1
			return buf[start:i], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
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
	neg := p.i < len(p.buf) && p.buf[p.i] == '-'
	if neg {
		p.i++
	}
	digits, n := p.i, 0
	for p.i < len(p.buf) && p.buf[p.i] >= '0' && p.buf[p.i] <= '9' {
		n = n*10 + int(p.buf[p.i]-'0')
		p.i++
	}
	switch nd := p.i - digits; {
	case nd == 0 || nd > 1 && p.buf[digits] == '0':
		return false // not a number, or a leading zero encoding/json refuses
	case nd > 18 || strconv.IntSize == 32 && nd > 9: // may overflow: strconv says
		v, err := strconv.Atoi(string(p.buf[start:p.i]))
		if err != nil {
			return false
		}
		*out = v
		return true
	}
	if neg {
		n = -n
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
	if n := p.names; n != nil && string(n.lastTimeText) == string(s) && len(s) > 0 {
		*t = n.lastTime
		return true
	}
	if tm, ok := parseRFC3339(s, p.names); ok {
		*t = tm
		if n := p.names; n != nil {
			n.lastTime, n.lastTimeText = tm, append(n.lastTimeText[:0], s...)
		}
		return true
	}
	return t.UnmarshalJSON(p.buf[p.i-len(s)-2:p.i]) == nil
}

// parseRFC3339 parses the times MarshalJSON writes
// (2006-01-02T15:04:05.999999999Z07:00) as time.Parse would: in Local if
// its offset is Local's then, else in UTC for Z, else in an unnamed fixed
// zone. It gives up on anything else (time.Time's UnmarshalJSON decides).
func parseRFC3339(s []byte, nm *names) (time.Time, bool) {
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
	if day < 1 || day > daysIn(month, year) { // 31 June: time.Parse refuses it
		return time.Time{}, false
	}
	// Seconds since 1970 of the wall time read as UTC, without time.Date.
	unix := daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+minute*60+sec)
	switch {
	case len(rest) == 1 && rest[0] == 'Z':
		return time.Unix(unix, int64(nsec)).UTC(), true
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
		t := time.Unix(unix-int64(off), int64(nsec)) // in Local
		if _, lo := t.Zone(); lo == off {
			return t, true
		}
		return t.In(nm.fixedZone(off)), true
	}
	return time.Time{}, false
}

// daysIn is the number of days of month in year.
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysSinceEpoch is the number of days from 1970-01-01 to the date in the
// proleptic Gregorian calendar (H. Hinnant's days_from_civil), for years
// 0 to 9999.
func daysSinceEpoch(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := int64((month + 9) % 12)
	doy := (153*mp+2)/5 + int64(day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
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
		return p.name(nameOperator, &b.Operator)
	case "date":
		return p.name(nameDate, &b.Date)
	case "route":
		return p.name(nameRoute, &b.Route)
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
		return p.name(nameLanguage, &b.Language)
	case "guide":
		return p.name(nameGuide, &b.Guide)
	case "reference":
		return p.str(&b.Reference)
	case "slot":
		return p.timeField(&b.Slot)
	case "gate":
		return p.name(nameGate, &b.Gate)
	case "status":
		return p.status(&b.Status)
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
