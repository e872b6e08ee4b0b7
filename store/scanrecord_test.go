package store

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"pgregory.net/rapid"

	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/scheduler"
)

// jsonDecoded is what a record written in the JSON envelope (the only
// encoding before the binary form) loads as; err when JSON refuses it.
func jsonDecoded(r *scheduler.ScanRecord) (scheduler.ScanRecord, error) {
	val, err := encodeJSON(r)
	if err != nil {
		return scheduler.ScanRecord{}, err
	}
	var out scheduler.ScanRecord
	err = decode([]byte("s/x"), val, &out)
	return out, err
}

// TestScanRecordBinaryDecodesAsJSONDid: every scan record loads from what
// encode writes now exactly as it loaded from the JSON envelope, field for
// field (times with their zones), including the message rendered again
// from its form; a record JSON refuses is refused still.
func TestScanRecordBinaryDecodesAsJSONDid(t *testing.T) {
	binary := 0
	rapid.Check(t, func(rt *rapid.T) {
		r := genScanRecord(rt)
		want, jerr := jsonDecoded(&r)
		val, err := encode(&r)
		if jerr != nil {
			if err == nil {
				rt.Fatalf("JSON refuses %+v (%v), encode wrote it", r, jerr)
			}
			return
		}
		if err != nil {
			rt.Fatalf("encode: %v", err)
		}
		if isBinaryScanRecord(val) {
			binary++
		}
		var got scheduler.ScanRecord
		if err := decode([]byte("s/x"), val, &got); err != nil {
			rt.Fatalf("decode %q: %v", val, err)
		}
		if !reflect.DeepEqual(got, want) {
			rt.Fatalf("loaded\n%#v\nfrom JSON it loaded\n%#v", got, want)
		}
	})
	if binary == 0 {
		t.Error("no record was written in the binary form")
	}
}

func genScanRecord(t *rapid.T) scheduler.ScanRecord {
	str := func(label string, common ...string) string {
		switch rapid.IntRange(0, 9).Draw(t, label+"-kind") {
		case 0:
			return string(rapid.SliceOf(rapid.Byte()).Draw(t, label+"-bytes")) // maybe not UTF-8
		case 1, 2:
			return rapid.String().Draw(t, label)
		default:
			return rapid.SampledFrom(append(common, "")).Draw(t, label+"-common")
		}
	}
	gate := str("gate", "visitor-centre", "little-petra")
	device := str("device", "dev-1", "gate-7")
	id := str("scan", "bench-1-0-17", "000123")
	if rapid.Bool().Draw(t, "id-prefixed") {
		id = gate + "|" + device + "|" + id
	}
	booking := str("booking", "bk_scan0_0001", "bk_abcdefghij234567")
	reason := rapid.SampledFrom([]string{scheduler.ReasonOK, scheduler.ReasonTooEarly, scheduler.ReasonTooLate,
		scheduler.ReasonRebooked, scheduler.ReasonAlreadyUsed, scheduler.ReasonUnknownTicket, scheduler.ReasonWrongGate,
		scheduler.ReasonWrongDay, scheduler.ReasonCancelled, scheduler.ReasonHeld, scheduler.ReasonClosed,
		scheduler.ReasonUnknownGate, scheduler.ReasonInsufficientStorage, "no-such-reason"}).Draw(t, "reason")
	res := scheduler.ScanResult{
		Decision:  rapid.SampledFrom([]string{scheduler.DecisionAdmit, scheduler.DecisionPartial, scheduler.DecisionReject, ""}).Draw(t, "decision"),
		Reason:    reason,
		Admitted:  rapid.Int().Draw(t, "admitted"),
		Remaining: rapid.Int().Draw(t, "remaining"),
		Booking:   booking,
		Gate:      gate,
		Operator:  str("operator", "op-01", scheduler.WalkInOperator),
		Language:  str("language", "ar", "en"),
		PartySize: rapid.Int().Draw(t, "party"),
	}
	if rapid.Bool().Draw(t, "other-booking") {
		res.Booking = str("result-booking", "bk_other")
	}
	if rapid.Bool().Draw(t, "other-gate") {
		res.Gate = str("result-gate", "main-gate")
	}
	if rapid.Bool().Draw(t, "slot") {
		s := genTime(t, "slot")
		res.Slot = &s
	}
	if rapid.Bool().Draw(t, "retry") {
		s := genTime(t, "retry")
		res.RetryAt = &s
	}
	switch rapid.IntRange(0, 3).Draw(t, "message") {
	case 0, 1:
		res.Message = scheduler.Message(reason) // a template's, "--:--" for its time
	case 2:
		m := scheduler.Message(reason)
		m.AR += str("message-tail", " ", "x")
		res.Message = m
	default:
		res.Message = scheduler.Text{EN: str("en", "Welcome — wave 08:00"), AR: str("ar", "أهلاً وسهلاً — فوج ٠٨:٠٠")}
	}
	r := scheduler.ScanRecord{ScanID: id, Gate: gate, Device: device, Booking: booking, Result: res, At: genTime(t, "at")}
	if rapid.IntRange(0, 9).Draw(t, "offline") == 0 {
		r.Offline = &scheduler.OfflineOutcome{ScanID: id, Booking: booking, Result: "admitted", Admitted: 3, At: genTime(t, "offline-at")}
	}
	return r
}

// genTime is a time in a zone JSON writes as it is or changes (a zero
// offset becomes UTC), or refuses (years past 9999, offsets with seconds).
func genTime(t *rapid.T, label string) time.Time {
	sec := rapid.OneOf(
		rapid.Int64Range(1764540000, 1767225600), // December 2026
		rapid.Int64Range(-62135596800-86400, 253402300799+86400),
		rapid.Just(int64(-62135596800)), // the zero time's second
	).Draw(t, label+"-sec")
	nsec := rapid.OneOf(rapid.Just(int64(0)), rapid.Int64Range(0, 999999999)).Draw(t, label+"-nsec")
	zones := []*time.Location{time.UTC, time.Local, testenv.Amman, time.FixedZone("", 3*3600), time.FixedZone("", 0),
		time.FixedZone("", -(9*3600 + 30*60)), time.FixedZone("LMT", 2*3600+21*60+56), time.FixedZone("", 14*3600)}
	tm := time.Unix(sec, nsec).In(rapid.SampledFrom(zones).Draw(t, label+"-zone"))
	if sec == -62135596800 && nsec == 0 && rapid.Bool().Draw(t, label+"-zero") {
		return time.Time{}
	}
	return tm
}

// TestOldScanRecordsStillLoad: a scan record written in the JSON envelope
// by an earlier build loads, beside records of the binary form, and a
// retry of its scan is answered from it with the reply it was given.
func TestOldScanRecordsStillLoad(t *testing.T) {
	s := openBadger(t, t.TempDir()).(*Badger)
	old := scan("visitor-centre|dev1|0001", "bk-1")
	val, err := encodeJSON(&old)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.putRaw("s/"+old.ScanID, val); err != nil {
		t.Fatal(err)
	}
	recent := scan("visitor-centre|dev1|0002", "bk-2")
	if err := s.Commit([]scheduler.Effect{scheduler.PutScan{Record: recent}}); err != nil {
		t.Fatal(err)
	}
	snap, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	want := []scheduler.ScanRecord{old, recent}
	for i := range want {
		w, err := jsonDecoded(&want[i])
		if err != nil {
			t.Fatal(err)
		}
		want[i] = w
	}
	if !reflect.DeepEqual(snap.Scans, want) {
		t.Fatalf("loaded %+v\nwant %+v", snap.Scans, want)
	}
	raw := s.rawValue(t, "s/"+recent.ScanID)
	if !isBinaryScanRecord(raw) {
		t.Errorf("the new record was written as %q, not in the binary form", raw)
	}
}

// rawValue is the stored value of key.
func (s *Badger) rawValue(t *testing.T, key string) []byte {
	t.Helper()
	var out []byte
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(key))
		if err != nil {
			return err
		}
		out, err = item.ValueCopy(nil)
		return err
	})
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return out
}

// TestUnknownScanRecordFormIsASchemaError: a binary scan record of a form
// this build does not know is refused as a newer schema, naming its key,
// never misread.
func TestUnknownScanRecordFormIsASchemaError(t *testing.T) {
	r := scan("visitor-centre|dev1|0001", "bk-1")
	val, _ := appendScanRecord(nil, &r)
	val[2]++
	var out scheduler.ScanRecord
	err := decode([]byte("s/visitor-centre|dev1|0001"), val, &out)
	if !errors.Is(err, ErrSchema) || !bytes.Contains([]byte(fmt.Sprint(err)), []byte("s/visitor-centre|dev1|0001")) {
		t.Fatalf("decode of form %d: %v, want ErrSchema naming the key", val[2], err)
	}
}

// TestScanWriteBytes measures the bytes a gate scan's transaction writes
// (keys and values of its records), with the scan record in the JSON
// envelope and in the binary form, for a real admission on the Petra
// site: the binary one must be at most half the JSON one.
func TestScanWriteBytes(t *testing.T) {
	res, effects := petraAdmission(t, time.Minute+123456789)
	if res.Scan == nil || res.Scan.Decision != scheduler.DecisionAdmit {
		t.Fatalf("scan: %+v", res.Scan)
	}
	count := func(jsonScans bool) (n int, scanBytes int) {
		for _, e := range effects {
			r := effectKey(e)
			if r.rec == nil {
				continue
			}
			enc := encode
			if jsonScans {
				enc = encodeJSON
			}
			v, err := enc(r.rec)
			if err != nil {
				t.Fatal(err)
			}
			n += len(r.key) + len(v)
			if r.kind == kindScan {
				scanBytes = len(r.key) + len(v)
			}
		}
		return n, scanBytes
	}
	before, scanBefore := count(true)
	after, scanAfter := count(false)
	t.Logf("a scan's write: %d bytes with the scan record in JSON (the record %d), %d in the binary form (the record %d)",
		before, scanBefore, after, scanAfter)
	if scanAfter*2 > scanBefore {
		t.Errorf("the binary scan record is %d bytes, over half the JSON one's %d", scanAfter, scanBefore)
	}
	// And it loads as the JSON one did.
	for _, e := range effects {
		if p, ok := e.(scheduler.PutScan); ok {
			want, _ := jsonDecoded(&p.Record)
			val, _ := encode(&p.Record)
			var got scheduler.ScanRecord
			if err := decode([]byte("s/x"), val, &got); err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("the admission's record loads as %+v (%v), from JSON %+v", got, err, want)
			}
		}
	}
}

// FuzzDecodeScanRecord: no value makes the binary decoder panic, and what
// it decodes is written back and decoded the same.
func FuzzDecodeScanRecord(f *testing.F) {
	r := scan("visitor-centre|dev1|0001", "bk-1")
	v, _ := appendScanRecord(nil, &r)
	f.Add(v)
	r.Result.Message = scheduler.Text{EN: "free", AR: "نص"}
	r.Result.RetryAt, r.Result.Slot, r.Result.Gate = r.Result.Slot, nil, "other"
	v, _ = appendScanRecord(nil, &r)
	f.Add(v)
	f.Add(append([]byte{}, scanRecordHead...))
	f.Add([]byte{0, 's', 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, val []byte) {
		var got scheduler.ScanRecord
		if err := decode([]byte("s/f"), val, &got); err != nil || !isBinaryScanRecord(val) {
			return
		}
		again, ok := appendScanRecord(nil, &got)
		if !ok {
			return // e.g. a time JSON would write otherwise: written in JSON then
		}
		var back scheduler.ScanRecord
		if err := decode([]byte("s/f"), again, &back); err != nil || !reflect.DeepEqual(back, got) {
			t.Fatalf("decoded %#v, written back %q, decoded again %#v (%v)", got, again, back, err)
		}
	})
}

// TestScanRecordBinaryFormKeepsEveryField: a field added to
// scheduler.ScanRecord or its ScanResult is kept by the binary form (or
// the record is written as JSON), never dropped. Every field but the
// offline outcome (which the binary form leaves to JSON) is filled by
// reflection, so the test knows fields genScanRecord does not.
func TestScanRecordBinaryFormKeepsEveryField(t *testing.T) {
	var r scheduler.ScanRecord
	fillEveryField(t, reflect.ValueOf(&r).Elem())
	r.Offline = nil
	r.ScanID = r.Gate + "|" + r.Device + "|17"
	want, err := jsonDecoded(&r)
	if err != nil {
		t.Fatal(err)
	}
	val, err := encode(&r)
	if err != nil {
		t.Fatal(err)
	}
	if !isBinaryScanRecord(val) {
		t.Fatalf("a plain scan record was written as JSON, not in the binary form: %s", val)
	}
	var got scheduler.ScanRecord
	if err := decode([]byte("s/x"), val, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("a field of scheduler.ScanRecord is lost by the binary form: write it in appendScanRecord and read it in decodeScanRecord (store/scanrecord.go), with a new form version\n got %+v\nwant %+v", got, want)
	}
}

// petraAdmission books a party of 60 on the Petra site and scans its
// first visitor in, after the given time past its wave's start: the scan's result and
// the effects it wrote (its scan record and the booking's).
func petraAdmission(t testing.TB, after time.Duration) (scheduler.Result, []scheduler.Effect) {
	t.Helper()
	cfg, err := scheduler.ParseConfig(testenv.PetraYAML(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Policy.RequestWindow = nil
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, cfg.Location())
	st := scheduler.New(cfg)
	res, _ := st.Apply(day.Add(-24*time.Hour), scheduler.Book{ID: "bk_abcdefghij234567", Operator: "op-01",
		Request: scheduler.BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 60, Window: scheduler.Window{From: 7*60 + 30, To: 8*60 + 30}}})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	b := *res.Booking
	return st.Apply(b.Slot.Add(after), scheduler.Scan{Gate: b.Gate, Device: "dev-0",
		ScanID: "bench-1-0-17", Ticket: scheduler.Ticket{Booking: b.ID}, Count: 1})
}
