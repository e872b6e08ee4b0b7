package scheduler

import (
	"fmt"
	"testing"
)

// BenchmarkAllot measures one allotment (Book: feasibility over the window,
// ranking, the plan) on a day that already holds n bookings. The site's
// capacities are scaled up so that the day can hold them: the cost of a
// booking depends on its route and window, not on how many bookings exist.
func BenchmarkAllot(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("bookings=%d", n), func(b *testing.B) {
			cfg := petra(b)
			for i := range cfg.Zones {
				cfg.Zones[i].Capacity *= 1000
			}
			for i := range cfg.Gates {
				cfg.Gates[i].WaveCapacity *= 1000
			}
			now := testNow(cfg)
			s := New(cfg)
			routes := []string{"main", "monastery", "high-place"}
			book := func(i int) Result {
				res, _ := s.Apply(now, Book{ID: fmt.Sprintf("bk%07d", i), Operator: fmt.Sprintf("op%03d", i%500), Request: BookingRequest{
					Date: "2026-12-01", Route: routes[i%3], PartySize: 1 + i%10, Window: Window{hm(6, 0) + 15*(i%30), hm(15, 0)}}})
				return res
			}
			for i := 0; i < n; i++ {
				if r := book(i); r.Err != nil {
					b.Fatalf("filling: %v", r.Err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if r := book(n + i); r.Err != nil {
					b.Fatal(r.Err)
				}
			}
		})
	}
}
