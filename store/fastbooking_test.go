package store

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"pgregory.net/rapid"

	"github.com/tafweej/tafweej/scheduler"
)

// TestFastBookingDecodeAgreesWithJSON: a booking record decodes to the
// same booking through the fast path as through encoding/json, whatever
// its strings (escapes, control characters, any Unicode), numbers and
// times; and records it does not take (other envelopes, unknown fields)
// are left to encoding/json.
func TestFastBookingDecodeAgreesWithJSON(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("", 3*3600), time.FixedZone("", -5*3600-1800)}
	str := rapid.OneOf(rapid.StringMatching(`[a-z0-9_-]{0,12}`), rapid.String())
	tm := rapid.Custom(func(t *rapid.T) time.Time {
		if rapid.IntRange(0, 9).Draw(t, "zero") == 0 {
			return time.Time{}
		}
		sec := rapid.Int64Range(-1e10, 1e11).Draw(t, "sec")
		ns := rapid.Int64Range(0, 999_999_999).Draw(t, "ns") * rapid.Int64Range(0, 1).Draw(t, "frac")
		return time.Unix(sec, ns).In(rapid.SampledFrom(zones).Draw(t, "zone"))
	})
	num := rapid.OneOf(rapid.IntRange(-3, 3000), rapid.Int())
	nm := newNames() // shared by every record, as a restart's worker's
	rapid.Check(t, func(rt *rapid.T) {
		b := scheduler.Booking{ID: str.Draw(rt, "id"), Operator: str.Draw(rt, "op"), Date: str.Draw(rt, "date"), Route: str.Draw(rt, "route"),
			PartySize: num.Draw(rt, "size"), Window: scheduler.Window{From: num.Draw(rt, "from"), To: num.Draw(rt, "to")},
			Language: str.Draw(rt, "lang"), Guide: str.Draw(rt, "guide"), Reference: str.Draw(rt, "ref"), Slot: tm.Draw(rt, "slot"),
			Gate: str.Draw(rt, "gate"), Status: scheduler.Status(str.Draw(rt, "status")), Admitted: num.Draw(rt, "admitted"),
			Reason: str.Draw(rt, "reason"), CreatedAt: tm.Draw(rt, "created"), UpdatedAt: tm.Draw(rt, "updated"), Version: num.Draw(rt, "version")}
		val, err := encode(&b)
		if err != nil {
			rt.Fatal(err)
		}
		var viaJSON, fast scheduler.Booking
		env := envelope[scheduler.Booking]{R: &viaJSON}
		if err := json.Unmarshal(val, &env); err != nil {
			rt.Fatal(err)
		}
		if decodeBookingFast(val, &fast) && !reflect.DeepEqual(fast, viaJSON) {
			rt.Fatalf("%s\nfast: %+v\njson: %+v", val, fast, viaJSON)
		}
		var named scheduler.Booking
		if decodeBookingFastNames(val, &named, nm) && !reflect.DeepEqual(named, viaJSON) {
			rt.Fatalf("%s\nfast with names: %+v\njson: %+v", val, named, viaJSON)
		}
		var got scheduler.Booking
		if err := decode([]byte("b/x"), val, &got); err != nil || !reflect.DeepEqual(got, viaJSON) {
			rt.Fatalf("decode %s: %v\n%+v\nwant %+v", val, err, got, viaJSON)
		}
	})
	for _, val := range []string{
		`{"v":1,"r":{"id":"a","extra":1}}`, `{"v":2,"r":{"id":"a"}}`, `{"v":1,"r":{"id":"a"},"x":1}`,
		`{"v":1,"r":{"ID":"a"}}`, `{"v":1,"r":{"id":null}}`, `{"v":1,"r":{"party_size":1.5}}`, `{"v":1, "r":{"id":"a"}}`,
	} {
		var b scheduler.Booking
		if decodeBookingFast([]byte(val), &b) {
			t.Errorf("%s: taken by the fast path, want it left to encoding/json", val)
		}
	}
	// The times MarshalJSON writes are parsed without time.Parse, to the
	// same time.
	for _, ts := range []string{"2026-12-01T08:00:00+03:00", "2026-12-01T08:00:00.123456789Z", "1999-02-28T23:59:59.5-05:30",
		"0000-01-01T00:00:00Z", "0000-02-29T12:00:00+01:00", "0000-03-01T00:00:00Z", "0001-01-01T00:00:00Z", "0399-12-31T23:59:59Z",
		"0400-02-29T00:00:00Z", "1600-02-29T00:00:00Z", "1969-12-31T23:59:59.999999999Z", "1970-01-01T00:00:00Z", "2000-02-29T00:00:00-00:30",
		"2024-02-29T23:59:59+14:00", "2026-01-31T00:00:00Z", "2026-04-30T00:00:00Z", "9999-12-31T23:59:59.999999999Z"} {
		got, ok := parseRFC3339([]byte(ts), nil)
		var want time.Time
		if err := want.UnmarshalJSON([]byte(`"` + ts + `"`)); err != nil || !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: parsed %v (%v), want %v (%v)", ts, got, ok, want, err)
		}
	}
	for _, ts := range []string{"2026-02-30T08:00:00Z", "2026-12-01T24:00:00Z", "2026-12-01T08:00:00+24:00", "2026-12-01 08:00:00Z",
		"1900-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z", "2026-12-00T00:00:00Z"} {
		if _, ok := parseRFC3339([]byte(ts), nil); ok {
			t.Errorf("%s: parsed, want it left to time.Time", ts)
		}
	}
	// And the common record is taken.
	b := scheduler.Booking{ID: "bk_1", Operator: "op-001", Date: "2026-12-01", Route: "main", PartySize: 3,
		Slot: time.Date(2026, 12, 1, 8, 0, 0, 0, time.FixedZone("", 3*3600)), Status: scheduler.StatusConfirmed, Version: 1}
	val, _ := encode(&b)
	var got scheduler.Booking
	if !decodeBookingFast(val, &got) || got.ID != "bk_1" || got.PartySize != 3 || !got.Slot.Equal(b.Slot) {
		t.Errorf("%s: fast path gave %+v, ok = false or different", val, got)
	}
	// In the order encode writes, with or without the omitempty fields,
	// each key is matched as it comes.
	for _, b := range []scheduler.Booking{b, {ID: "bk_2", Language: "ar", Guide: "g-1", Reference: "PO 7", Reason: "closure: flood", Status: scheduler.StatusCancelled}} {
		val, _ := encode(&b)
		var got scheduler.Booking
		if !decodeBookingInOrder(val, &got, nil) || got.ID != b.ID || got.Reason != b.Reason || got.Reference != b.Reference {
			t.Errorf("%s: the in-order path gave %+v, ok = false or different", val, got)
		}
	}
}

// TestFastBookingNumbersAndNamesAreJSONs: the fast decoder's integers
// (parsed by hand, strconv past 18 digits) and interned strings (the last
// of each field, then the worker's map, checked for UTF-8 only when new)
// take exactly what encoding/json takes, to the same values, and leave it
// the rest: leading zeros, a bare sign, overflow, invalid UTF-8 after the
// same field's valid strings; and its times (the last one's text and
// time kept) are encoding/json's.
func TestFastBookingNumbersAndNamesAreJSONs(t *testing.T) {
	nm := newNames()
	try := func(val string) {
		t.Helper()
		var viaJSON scheduler.Booking
		jerr := json.Unmarshal([]byte(val), &envelope[scheduler.Booking]{R: &viaJSON})
		for _, n := range []*names{nil, nm} {
			var fast scheduler.Booking
			if ok := decodeBookingFastNames([]byte(val), &fast, n); ok && (jerr != nil || !reflect.DeepEqual(fast, viaJSON)) {
				t.Errorf("%s (names %v): fast gave %+v, json %+v (%v)", val, n != nil, fast, viaJSON, jerr)
			}
		}
	}
	for _, num := range []string{"0", "-0", "7", "-7", "01", "-01", "00", "-", "", "1e3", "1.0", "123456789012345678", "-123456789012345678",
		"999999999999999999", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809", "99999999999999999999"} {
		try(`{"v":1,"r":{"id":"a","operator":"op","date":"2026-12-01","route":"main","party_size":` + num + `,"window":{"from":0,"to":0},"slot":"0001-01-01T00:00:00Z","gate":"g","status":"confirmed","admitted":0,"created_at":"0001-01-01T00:00:00Z","updated_at":"0001-01-01T00:00:00Z","version":1}}`)
	}
	for _, op := range []string{"op-1", "op-1", "op-\xff", "op-2", "op-\xff", "\xff", "op-1"} {
		try(`{"v":1,"r":{"id":"a","operator":"` + op + `","date":"2026-12-01","route":"main","party_size":1,"window":{"from":0,"to":0},"slot":"0001-01-01T00:00:00Z","gate":"g","status":"confirmed","admitted":0,"created_at":"0001-01-01T00:00:00Z","updated_at":"0001-01-01T00:00:00Z","version":1}}`)
	}
	// Times: the last one parsed is reused only for the same text.
	for _, ts := range [][2]string{{"2026-12-01T08:00:00+03:00", "2026-12-01T08:00:00+03:00"}, {"2026-12-01T08:00:00+03:00", "2026-12-01T08:00:00+04:00"},
		{"2026-12-01T08:00:00Z", "2026-12-01T08:00:00+03:00"}, {"2026-12-01T08:00:00.5Z", "2026-12-01T08:00:00.5Z"}, {"2026-12-01T08:00:00.5Z", "2026-12-01T08:00:00Z"},
		{"2026-02-30T08:00:00Z", "2026-02-30T08:00:00Z"}, {"2026-12-01T08:00:00+03:00", "2026-12-01T08:00:00+03:00"}} {
		try(`{"v":1,"r":{"id":"a","operator":"op","date":"2026-12-01","route":"main","party_size":1,"window":{"from":0,"to":0},"slot":"` + ts[0] + `","gate":"g","status":"confirmed","admitted":0,"created_at":"` + ts[0] + `","updated_at":"` + ts[1] + `","version":1}}`)
	}
	// And the common record is taken, its names shared.
	val := `{"v":1,"r":{"id":"a","operator":"op-1","date":"2026-12-01","route":"main","party_size":12,"window":{"from":0,"to":-5},"slot":"0001-01-01T00:00:00Z","gate":"g","status":"confirmed","admitted":0,"created_at":"0001-01-01T00:00:00Z","updated_at":"0001-01-01T00:00:00Z","version":1}}`
	var a, b scheduler.Booking
	if !decodeBookingFastNames([]byte(val), &a, nm) || !decodeBookingFastNames([]byte(val), &b, nm) || a.PartySize != 12 || a.Window.To != -5 {
		t.Fatalf("the common record: %+v", a)
	}
	if unsafe.StringData(a.Operator) != unsafe.StringData(b.Operator) || unsafe.StringData(a.Date) != unsafe.StringData(b.Date) {
		t.Errorf("two records' operator and date are not one string")
	}
}
