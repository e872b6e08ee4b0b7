package scheduler_test

import (
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/plantest"
	"github.com/tafweej/tafweej/scheduler"
)

// sevenFullDays is a state with seven full Petra days from 2026-12-01
// (plantest.FullDays) re-planned off the loop, at 10:00 two days before.
func sevenFullDays(t testing.TB) (*scheduler.State, time.Time, time.Time) {
	t.Helper()
	cfg := petra(t)
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, cfg.Location())
	first := time.Date(2026, 12, 1, 0, 0, 0, 0, cfg.Location())
	snap := scheduler.Snapshot{}
	for _, ef := range plantest.FullDays(cfg, now, first, 7, 7) {
		if pb, ok := ef.(scheduler.PutBooking); ok {
			snap.Bookings = append(snap.Bookings, pb.Booking)
		}
	}
	s, err := scheduler.Restore(cfg, snap)
	if err != nil {
		t.Fatal(err)
	}
	s.SetReplanOffLoop(true)
	return s, now, first
}

// BenchmarkApplyReplanSevenDayCut is the owner loop's part of the re-plan
// of a cut of the Siq to half over seven full days: the jobs taken, and
// each date's plan applied (the planner itself, off the loop, is not
// timed).
func BenchmarkApplyReplanSevenDayCut(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		s, now, first := sevenFullDays(b)
		res, _ := s.Apply(now, scheduler.CutCapacity{ID: "rain", Zone: "siq", Capacity: 600, From: first, Until: first.AddDate(0, 0, 7), Reason: "rain"})
		if res.Err != nil {
			b.Fatal(res.Err)
		}
		st := scheduler.ApplyStep{Cut: "rain"}
		b.StartTimer()
		jobs, err := s.ReplanJobs(now, st, 0)
		if err != nil {
			b.Fatal(err)
		}
		plans := make([]*scheduler.PlanResult, len(jobs))
		b.StopTimer()
		for i, j := range jobs {
			p, err := scheduler.PlanInstance(j.Instance, scheduler.PlanOptions{Iterations: -1})
			if err != nil {
				b.Fatal(err)
			}
			plans[i] = &p
		}
		b.StartTimer()
		for i, j := range jobs {
			s.Apply(now, scheduler.ApplyReplan{Step: st, Date: j.Date, Plan: plans[i]})
		}
	}
}
