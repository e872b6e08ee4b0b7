package scheduler

import (
	"fmt"
	"testing"
	"time"
)

// heldMorning is the morning of `tafweej bench`'s gate scan rows: groups
// of 60 on the main trail booked for 07:30-08:15 until the morning is
// full, then at 08:05 their visitors scanned one by one, group after
// group, until the forecast holds the next group back (the Treasury's
// hold threshold, 510, leaves room for 8 groups). It returns the state,
// the time and the id of a held group.
func heldMorning(tb testing.TB) (*State, time.Time, string) {
	tb.Helper()
	cfg := petraWith(tb, func(c *Config) { c.Policy.RequestWindow = nil })
	s := New(cfg)
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, cfg.Location())
	var ids []string
	for i, refused := 0, 0; refused < 20; i++ {
		id := fmt.Sprintf("bk_%04d", i)
		res, _ := s.Apply(day.Add(7*time.Hour), Book{ID: id, Operator: fmt.Sprintf("op-%02d", i%10),
			Request: BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 60, Window: Window{From: hm(7, 30), To: hm(8, 30)}}})
		if res.Err != nil {
			refused++
			continue
		}
		ids = append(ids, id)
	}
	now := day.Add(8*time.Hour + 5*time.Minute)
	scan := 0
	for _, id := range ids {
		for range 60 {
			scan++
			now = now.Add(time.Millisecond)
			res, _ := s.Apply(now, Scan{Gate: "visitor-centre", Ticket: Ticket{Booking: id}, Count: 1, ScanID: fmt.Sprint(scan), Device: "d"})
			if res.Scan.Reason == ReasonHeld {
				return s, now, id
			}
			if res.Scan.Decision != DecisionAdmit {
				tb.Fatalf("scan %d of %s: %+v", scan, id, res.Scan)
			}
		}
	}
	tb.Fatalf("no group of %d was held", len(ids))
	return nil, time.Time{}, ""
}

// BenchmarkScanOfAHeldGroup: a scan of a group the forecast holds back at
// its gate, each with a scan id of its own (a synced commit in the
// service): the forecast is worked out for every such scan, in the owner
// loop.
func BenchmarkScanOfAHeldGroup(b *testing.B) {
	s, now, id := heldMorning(b)
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b, processCPU())
	for i := range b.N {
		now = now.Add(time.Millisecond)
		res, _ := s.Apply(now, Scan{Gate: "visitor-centre", Ticket: Ticket{Booking: id}, Count: 1, ScanID: fmt.Sprint("h", i), Device: "d"})
		if res.Scan.Reason != ReasonHeld {
			b.Fatalf("scan %d: %+v", i, res.Scan)
		}
	}
}

// BenchmarkScansOfAHeldGroupInOneTurn: scans of a group the forecast
// holds back, all at one instant, as the engine applies one turn's
// commands (forecast_memo.go: the check is made once).
func BenchmarkScansOfAHeldGroupInOneTurn(b *testing.B) {
	s, now, id := heldMorning(b)
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b, processCPU())
	for i := range b.N {
		res, _ := s.Apply(now, Scan{Gate: "visitor-centre", Ticket: Ticket{Booking: id}, Count: 1, ScanID: fmt.Sprint("h", i), Device: "d"})
		if res.Scan.Reason != ReasonHeld {
			b.Fatalf("scan %d: %+v", i, res.Scan)
		}
	}
}

// reportCPU reports the process's CPU time per operation since start
// (cpu-ns/op): on a machine other work loads, a steadier figure than the
// time per operation.
func reportCPU(b *testing.B, start time.Duration) {
	if start > 0 {
		b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
	}
}
