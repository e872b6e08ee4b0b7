package scheduler_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/plantest"
	"github.com/tafweej/tafweej/scheduler"
)

// BenchmarkPlanHajj plans a Hajj-sized day: 1,000,000 people in groups of
// 20 to 250, 12 gates, 96 slots, 30 zones, through PlanDay.
func BenchmarkPlanHajj(b *testing.B) {
	cfg := plantest.HajjConfig()
	reqs := plantest.HajjRequests(cfg, 1_000_000)
	s := scheduler.New(cfg)
	date := "2027-05-16"
	now := time.Date(2027, 5, 15, 12, 0, 0, 0, cfg.Location())
	benchPlan(b, s, now, date, reqs)
}

// BenchmarkPlanPetraDay plans an ordinary Petra day of 300 groups.
func BenchmarkPlanPetraDay(b *testing.B) {
	c := plantest.PetraDay(petra(b), 105, plantest.DayKind{Groups: 300})
	benchPlan(b, c.State, c.Now, c.Date, c.Requests)
}

func benchPlan(b *testing.B, s *scheduler.State, now time.Time, date string, reqs []scheduler.PlanRequest) {
	b.ReportAllocs()
	var res scheduler.PlanResult
	var peak uint64
	cpu0 := cpuSeconds()
	for b.Loop() {
		var err error
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		res, err = s.PlanDay(now, date, reqs)
		if err != nil {
			b.Fatal(err)
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		peak = max(peak, after.HeapInuse)
	}
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu_s/op")
	b.ReportMetric(float64(len(reqs)), "groups")
	b.ReportMetric(float64(res.Requested), "requested")
	b.ReportMetric(float64(res.Visitors), "placed")
	b.ReportMetric(100*float64(res.Visitors)/float64(max(res.Requested, 1)), "placed_%")
	b.ReportMetric(float64(res.Stats.GreedyVisitors), "greedy")
	b.ReportMetric(float64(res.Stats.FirstComeVisitors), "first_come")
	b.ReportMetric(float64(res.Stats.StartVisitors), "start")
	b.ReportMetric(float64(res.Stats.Iterations), "iterations")
	b.ReportMetric(float64(peak)/(1<<20), "heap_inuse_MB")
}
