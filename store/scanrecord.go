package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tafweej/tafweej/scheduler"
)

// A gate scan's synced write is the scan record (s/<scan id>, what makes
// scan_id idempotent) and the booking's new admitted count. In the JSON
// envelope the scan record is about 550 bytes: field names, times in RFC
// 3339, the booking and gate twice, and the reply's message in English
// and Arabic. It is now written in a compact binary form, about a fifth
// of that:
//
//	0x00 's' 0x01       head: no JSON value starts with 0x00; 1 is the
//	                    form's version (and of the message templates it
//	                    renders, scheduler/scan_message.go)
//	flags               uvarint, the scanFlag bits
//	strings             uvarint length and bytes, ints zigzag varints,
//	                    times as below, in the order appendScanRecord
//	                    writes them
//
// A time is its Unix seconds (zigzag), nanoseconds and zone offset in
// minutes (zigzag; 0 for UTC): decoded as encoding/json decodes the RFC
// 3339 text it wrote (UTC for a zero offset, Local when the offset is
// Local's then, else an unnamed fixed zone), so a record decodes to what
// it decoded to from JSON, field for field
// (TestScanRecordBinaryDecodesAsJSONDid). The message is kept as the
// form it was rendered from (scheduler.CompactScanMessage) when that
// renders it back byte for byte, else as its two texts.
//
// Records the binary form cannot hold exactly as JSON would (an offline
// scan's outcome, a string that is not valid UTF-8, a time JSON writes
// differently or refuses) are written in the JSON envelope as before, and
// records of either form load: decode tells them apart by the first byte.
// A build before this one cannot load a binary record (a decode error
// naming its key); it does not misread it.

// scanRecordHead starts a scan record in the binary form.
var scanRecordHead = []byte{0x00, 's', 0x01}

// The flags of a binary scan record.
const (
	scanIDShort        = 1 << iota // ScanID is Gate|Device|<the stored suffix>
	scanSameBooking                // Result.Booking == Booking
	scanSameGate                   // Result.Gate == Gate
	scanSlot                       // Result.Slot is set
	scanRetryAt                    // Result.RetryAt is set
	scanMessageForm                // the message as its form, not its texts
	scanMessagePartial             // the form is a partial admission's (Count follows)
	scanFlagsKnown     = 1<<iota - 1
)

// isBinaryScanRecord reports whether val is a scan record in the binary
// form's envelope (of any version).
func isBinaryScanRecord(val []byte) bool { return len(val) >= 2 && val[0] == 0x00 && val[1] == 's' }

// appendScanRecord appends r in the binary form, or reports that the form
// cannot hold r exactly as the JSON envelope would (the caller writes that).
func appendScanRecord(b []byte, r *scheduler.ScanRecord) ([]byte, bool) {
	res := &r.Result
	if r.Offline != nil || !validStrings(r.ScanID, r.Gate, r.Device, r.Booking, res.Decision, res.Reason, res.Booking,
		res.Gate, res.Message.EN, res.Message.AR, res.Operator, res.Language) ||
		!jsonTime(r.At) || res.Slot != nil && !jsonTime(*res.Slot) || res.RetryAt != nil && !jsonTime(*res.RetryAt) {
		return b, false
	}
	flags := 0
	id := r.ScanID
	if rest, ok := strings.CutPrefix(id, r.Gate+"|"+r.Device+"|"); ok {
		flags |= scanIDShort
		id = rest
	}
	if res.Booking == r.Booking {
		flags |= scanSameBooking
	}
	if res.Gate == r.Gate {
		flags |= scanSameGate
	}
	if res.Slot != nil {
		flags |= scanSlot
	}
	if res.RetryAt != nil {
		flags |= scanRetryAt
	}
	form, compact := scheduler.CompactScanMessage(res)
	if compact {
		flags |= scanMessageForm
		if form.Partial {
			flags |= scanMessagePartial
		}
	}
	b = append(b, scanRecordHead...)
	b = binary.AppendUvarint(b, uint64(flags))
	b = appendString(b, r.Gate)
	b = appendString(b, r.Device)
	b = appendString(b, id)
	b = appendString(b, r.Booking)
	b = appendTime(b, r.At)
	b = appendString(b, res.Decision)
	b = appendString(b, res.Reason)
	b = binary.AppendVarint(b, int64(res.Admitted))
	b = binary.AppendVarint(b, int64(res.Remaining))
	if flags&scanSameBooking == 0 {
		b = appendString(b, res.Booking)
	}
	if flags&scanSameGate == 0 {
		b = appendString(b, res.Gate)
	}
	if res.Slot != nil {
		b = appendTime(b, *res.Slot)
	}
	if res.RetryAt != nil {
		b = appendTime(b, *res.RetryAt)
	}
	switch {
	case compact && form.Partial:
		b = binary.AppendVarint(b, int64(form.Count))
		b = appendString(b, form.Time)
	case compact:
		b = appendString(b, form.Time)
	default:
		b = appendString(b, res.Message.EN)
		b = appendString(b, res.Message.AR)
	}
	b = appendString(b, res.Operator)
	b = appendString(b, res.Language)
	return binary.AppendVarint(b, int64(res.PartySize)), true
}

func validStrings(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false // encoding/json would write U+FFFD for the bad bytes
		}
	}
	return true
}

// jsonTime reports whether t is a time appendTime and decodeTime give
// back as encoding/json would: a year JSON accepts, an offset of whole
// minutes (RFC 3339 writes no seconds).
func jsonTime(t time.Time) bool {
	_, off := t.Zone()
	return t.Year() >= 0 && t.Year() <= 9999 && off%60 == 0 && off > -24*3600 && off < 24*3600
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTime(b []byte, t time.Time) []byte {
	_, off := t.Zone()
	b = binary.AppendVarint(b, t.Unix())
	b = binary.AppendUvarint(b, uint64(t.Nanosecond()))
	return binary.AppendVarint(b, int64(off/60))
}

// errScanRecord is a binary scan record that does not decode.
var errScanRecord = errors.New("not a valid binary scan record")

// decodeScanRecord decodes a binary scan record; key names it in errors.
func decodeScanRecord(key, val []byte, out *scheduler.ScanRecord) error {
	if len(val) < len(scanRecordHead) || val[2] != scanRecordHead[2] {
		v := 0
		if len(val) > 2 {
			v = int(val[2])
		}
		return fmt.Errorf("store: decode record %q: scan record form %d, this build reads form %d only: "+
			"run a tafweej release that knows it, or restore a backup made by this one: %w", key, v, scanRecordHead[2], ErrSchema)
	}
	d := scanDecoder{buf: val, i: len(scanRecordHead)}
	var r scheduler.ScanRecord
	res := &r.Result
	flags := d.uvarint()
	if flags&^scanFlagsKnown != 0 {
		d.bad = true
	}
	r.Gate = d.string()
	r.Device = d.string()
	r.ScanID = d.string()
	if flags&scanIDShort != 0 {
		r.ScanID = r.Gate + "|" + r.Device + "|" + r.ScanID
	}
	r.Booking = d.string()
	r.At = d.time()
	res.Decision = d.string()
	res.Reason = d.string()
	res.Admitted = d.int()
	res.Remaining = d.int()
	res.Booking, res.Gate = r.Booking, r.Gate
	if flags&scanSameBooking == 0 {
		res.Booking = d.string()
	}
	if flags&scanSameGate == 0 {
		res.Gate = d.string()
	}
	if flags&scanSlot != 0 {
		t := d.time()
		res.Slot = &t
	}
	if flags&scanRetryAt != 0 {
		t := d.time()
		res.RetryAt = &t
	}
	var form scheduler.ScanMessage
	switch {
	case flags&scanMessagePartial != 0 && flags&scanMessageForm == 0:
		d.bad = true
	case flags&scanMessagePartial != 0:
		form.Partial, form.Count = true, d.int()
		form.Time = d.string()
	case flags&scanMessageForm != 0:
		form.Time = d.string()
	default:
		res.Message.EN = d.string()
		res.Message.AR = d.string()
	}
	res.Operator = d.string()
	res.Language = d.string()
	res.PartySize = d.int()
	if d.bad || d.i != len(d.buf) {
		return fmt.Errorf("store: decode record %q: %w", key, errScanRecord)
	}
	if flags&scanMessageForm != 0 {
		m, ok := form.Render(res)
		if !ok {
			return fmt.Errorf("store: decode record %q: the reply's reason %q has no message in this build", key, res.Reason)
		}
		res.Message = m
	}
	*out = r
	return nil
}

// scanDecoder reads a binary scan record; bad is set on the first thing
// out of place, after which every read gives a zero value.
type scanDecoder struct {
	buf []byte
	i   int
	bad bool
}

func (d *scanDecoder) uvarint() uint64 {
	if d.bad {
		return 0
	}
	v, n := binary.Uvarint(d.buf[d.i:])
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.i += n
	return v
}

func (d *scanDecoder) varint() int64 {
	if d.bad {
		return 0
	}
	v, n := binary.Varint(d.buf[d.i:])
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.i += n
	return v
}

func (d *scanDecoder) int() int {
	v := d.varint()
	if v < math.MinInt || v > math.MaxInt {
		d.bad = true
		return 0
	}
	return int(v)
}

func (d *scanDecoder) string() string {
	n := d.uvarint()
	if d.bad || n > uint64(len(d.buf)-d.i) {
		d.bad = true
		return ""
	}
	s := d.buf[d.i : d.i+int(n)]
	d.i += int(n)
	if !utf8.Valid(s) {
		d.bad = true
		return ""
	}
	return string(s)
}

// time decodes appendTime's time as time.Time's UnmarshalJSON decodes
// the text MarshalJSON writes for it (parseRFC3339 in fastbooking.go).
func (d *scanDecoder) time() time.Time {
	sec := d.varint()
	nsec := d.uvarint()
	offMin := d.varint()
	if d.bad || nsec >= 1e9 || offMin <= -24*60 || offMin >= 24*60 {
		d.bad = true
		return time.Time{}
	}
	t, off := time.Unix(sec, int64(nsec)), int(offMin)*60
	switch _, lo := t.Zone(); {
	case off == 0:
		t = t.UTC()
	case lo != off:
		t = t.In(fixedZone(off))
	} // else in Local, as time.Parse gives it
	if y := t.Year(); y < 0 || y > 9999 {
		d.bad = true // JSON neither writes nor reads such a year
		return time.Time{}
	}
	return t
}
