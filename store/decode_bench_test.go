package store

import (
	"testing"
	"time"

	"github.com/tafweej/tafweej/scheduler"
)

// BenchmarkDecodeBooking decodes one stored booking record, as Load does a
// million times at a restart.
func BenchmarkDecodeBooking(b *testing.B) {
	loc := time.FixedZone("", 3*3600)
	at := time.Date(2026, 12, 1, 8, 15, 0, 0, loc)
	val, err := encode(&scheduler.Booking{ID: "bk_r00012345", Operator: "op-045", Date: "2026-12-01", Route: "main", PartySize: 3,
		Window: scheduler.Window{From: 360, To: 900}, Slot: at, Gate: "visitor-centre", Status: scheduler.StatusConfirmed,
		CreatedAt: at.Add(-20 * time.Hour), UpdatedAt: at.Add(-20 * time.Hour), Version: 1})
	if err != nil {
		b.Fatal(err)
	}
	key := bookingKey("bk_r00012345")
	b.ReportAllocs()
	for b.Loop() {
		var out scheduler.Booking
		if err := decode(key, val, &out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeBookingRestart is BenchmarkDecodeBooking as a restart's
// workers decode: shared strings interned.
func BenchmarkDecodeBookingRestart(b *testing.B) {
	loc := time.FixedZone("", 3*3600)
	at := time.Date(2026, 12, 1, 8, 15, 0, 0, loc)
	val, err := encode(&scheduler.Booking{ID: "bk_r00012345", Operator: "op-045", Date: "2026-12-01", Route: "main", PartySize: 3,
		Window: scheduler.Window{From: 360, To: 900}, Slot: at, Gate: "visitor-centre", Status: scheduler.StatusConfirmed,
		CreatedAt: at.Add(-20 * time.Hour), UpdatedAt: at.Add(-20 * time.Hour), Version: 1})
	if err != nil {
		b.Fatal(err)
	}
	nm := newNames()
	b.ReportAllocs()
	for b.Loop() {
		var out scheduler.Booking
		if !decodeBookingFastNames(val, &out, nm) {
			b.Fatal("the fast decoder gave up")
		}
	}
}
