package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzDecodeBooking: any body either decodes into a booking request with
// only the accepted fields, or is refused with a client error; it never
// panics. Seeds are in testdata/fuzz/FuzzDecodeBooking.
func FuzzDecodeBooking(f *testing.F) {
	f.Add([]byte(`{"date":"2026-12-01","route":"main","party_size":4,"window":{"from":"08:00","to":"10:00"}}`))
	f.Add([]byte(`{"operator":"x"}`))
	f.Add([]byte(`{"window":{"from":"08:00","to":"10:00","x":1}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := httptest.NewRequest("POST", "/v1/bookings", bytes.NewReader(data))
		r.Header.Set("Content-Type", "application/json")
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 1<<10)
		var in BookingRequest
		present, e := decode(r, bookingBody, &in)
		if e != nil {
			if e.status != http.StatusBadRequest && e.status != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d for %q", e.status, data)
			}
			return
		}
		for name := range present {
			var ok bool
			for _, f := range bookingBody.fields {
				ok = ok || f == name
			}
			if !ok {
				t.Fatalf("field %q accepted in %q", name, data)
			}
		}
		if _, err := json.Marshal(in); err != nil {
			t.Fatal(err)
		}
		if _, e := parseWindow(in.Window); e != nil && e.status != http.StatusBadRequest {
			t.Fatalf("window status %d", e.status)
		}
	})
}
