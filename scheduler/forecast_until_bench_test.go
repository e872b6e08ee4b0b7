package scheduler

import "testing"

// BenchmarkMeterUntil: the instant a held group's verdict holds until
// (forecast_until.go), on the morning of the bench's gate scan rows (480
// admissions, one visitor each).
func BenchmarkMeterUntil(b *testing.B) {
	s, now, id := heldMorning(b)
	r, _ := s.cfg.Route(s.bookings.at(id).Route)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		s.meterUntil(now, r)
	}
}
