package store

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/tafweej/tafweej/scheduler"
)

// TestFastBookingEncodeIsEncodeJSON: a booking record is written byte for
// byte as encoding/json writes it in the envelope, whatever its strings
// (escapes, control characters, any Unicode), numbers and times, so that
// every reader of the records (the fast decoder, encoding/json, backups)
// sees what it saw before.
func TestFastBookingEncodeIsEncodeJSON(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("", 3*3600), time.FixedZone("", -5*3600-1800)}
	anyStr := rapid.OneOf(rapid.StringMatching(`[a-z0-9_ -]{0,12}`), rapid.String(), rapid.SampledFrom([]string{"", "a<b", "x&y", "\u2028", "\ufffd", "\xff", "é", "\"", "\\"}))
	plainStr := rapid.OneOf(rapid.StringMatching(`[a-z0-9_ -]{0,12}`), rapid.SampledFrom([]string{"", "é", "وادي موسى", "visitor-centre"}))
	timeIn := func(lo, hi int64) *rapid.Generator[time.Time] {
		return rapid.Custom(func(t *rapid.T) time.Time {
			if rapid.IntRange(0, 9).Draw(t, "zero") == 0 {
				return time.Time{}
			}
			sec := rapid.Int64Range(lo, hi).Draw(t, "sec")
			ns := rapid.Int64Range(0, 999_999_999).Draw(t, "ns") * rapid.Int64Range(0, 1).Draw(t, "frac")
			return time.Unix(sec, ns).In(rapid.SampledFrom(zones).Draw(t, "zone"))
		})
	}
	anyTime := timeIn(-1e11, 3e11) // some before year 0 or past year 9999: MarshalJSON refuses them
	plainTime := timeIn(-62e9, 253e9)
	num := rapid.OneOf(rapid.IntRange(-3, 3000), rapid.Int())
	fast := 0
	rapid.Check(t, func(rt *rapid.T) {
		// Half the bookings have only strings and times the fast path
		// writes, so that it is compared with encoding/json every run.
		str, tm := anyStr, anyTime
		if rapid.Bool().Draw(rt, "plain") {
			str, tm = plainStr, plainTime
		}
		b := scheduler.Booking{ID: str.Draw(rt, "id"), Operator: str.Draw(rt, "op"), Date: str.Draw(rt, "date"), Route: str.Draw(rt, "route"),
			PartySize: num.Draw(rt, "size"), Window: scheduler.Window{From: num.Draw(rt, "from"), To: num.Draw(rt, "to")},
			Language: str.Draw(rt, "lang"), Guide: str.Draw(rt, "guide"), Reference: str.Draw(rt, "ref"), Slot: tm.Draw(rt, "slot"),
			Gate: str.Draw(rt, "gate"), Status: scheduler.Status(str.Draw(rt, "status")), Admitted: num.Draw(rt, "admitted"),
			Reason: str.Draw(rt, "reason"), CreatedAt: tm.Draw(rt, "created"), UpdatedAt: tm.Draw(rt, "updated"), Version: num.Draw(rt, "version")}
		want, wantErr := encodeJSON(&b)
		got, err := encode(&b)
		if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
			rt.Fatalf("encode %+v:\n got %s (%v)\nwant %s (%v)", b, got, err, want, wantErr)
		}
		if _, ok := appendBookingRecord(nil, &b); ok {
			fast++
		}
	})
	// The bench's and a gate's common record takes the fast path.
	at := time.Date(2026, 12, 1, 8, 15, 0, 0, time.FixedZone("", 3*3600))
	b := scheduler.Booking{ID: "bk_r00012345", Operator: "op-045", Date: "2026-12-01", Route: "main", PartySize: 60,
		Window: scheduler.Window{From: 450, To: 510}, Language: "ar", Slot: at, Gate: "visitor-centre", Status: scheduler.StatusConfirmed,
		Admitted: 7, CreatedAt: at.Add(-20 * time.Hour), UpdatedAt: at.Add(123456789), Version: 8}
	v, ok := appendBookingRecord(nil, &b)
	if want, _ := encodeJSON(&b); !ok || !bytes.Equal(v, want) {
		t.Errorf("common booking: fast path %v, %s\nwant %s", ok, v, want)
	}
	if fast == 0 {
		t.Error("no random booking took the fast path")
	}
}

// BenchmarkEncodeBooking encodes the booking record an admission at a gate
// writes.
func BenchmarkEncodeBooking(b *testing.B) {
	at := time.Date(2026, 12, 1, 8, 15, 0, 0, time.FixedZone("", 3*3600))
	bk := scheduler.Booking{ID: "bk_scan0_0003", Operator: "op-03", Date: "2026-12-01", Route: "main", PartySize: 60,
		Window: scheduler.Window{From: 450, To: 510}, Slot: at, Gate: "visitor-centre", Status: scheduler.StatusConfirmed,
		Admitted: 7, CreatedAt: at.Add(-20 * time.Hour), UpdatedAt: at.Add(123456789), Version: 8}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encode(&bk); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFastBookingEncodeWritesEveryField: a field added to
// scheduler.Booking is written by the fast encoder too (or the encoder
// gives up), never dropped from the record. Every field is filled by
// reflection, so the test knows fields the generator above does not.
func TestFastBookingEncodeWritesEveryField(t *testing.T) {
	var b scheduler.Booking
	fillEveryField(t, reflect.ValueOf(&b).Elem())
	want, err := encodeJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := appendBookingRecord(nil, &b)
	if !ok {
		t.Fatalf("the fast encoder gave up on a plain booking %+v", b)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("a field of scheduler.Booking is not written as encoding/json writes it: write it in appendBookingRecord (store/fastbookingenc.go)\n got %s\nwant %s", got, want)
	}
}

// fillEveryField sets every exported field of v, recursively, to a value
// that is not its zero value.
func fillEveryField(t *testing.T, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString("x-" + v.Type().Name())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 12, 2, 8, 15, 30, 5, time.FixedZone("", 3*3600))))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillEveryField(t, v.Field(i))
			}
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillEveryField(t, v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fillEveryField(t, v.Index(0))
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fillEveryField(t, k)
		fillEveryField(t, e)
		v.SetMapIndex(k, e)
	default:
		t.Fatalf("fillEveryField: no value for a %s field", v.Type())
	}
}
