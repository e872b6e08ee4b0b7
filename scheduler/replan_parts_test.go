package scheduler

import (
	"fmt"
	"testing"
	"time"
)

// TestReplanJobsApplyAFewStepsACommand: ReplanJobs decides how many
// bookings one ApplyReplan of a date re-plans (replanApplySteps steps of
// SetReplanStep; all without steps), and the job's Parts commands of that
// many make the closure whole.
func TestReplanJobsApplyAFewStepsACommand(t *testing.T) {
	for _, tc := range []struct {
		step      int
		wantMax   int
		wantParts []int // of the dates with 10, 20 and 30 hit bookings
	}{
		{step: 2, wantMax: 2 * replanApplySteps, wantParts: []int{2, 3, 4}},
		{step: 5, wantMax: 5 * replanApplySteps, wantParts: []int{1, 1, 2}},
		{step: 0, wantMax: 0, wantParts: []int{1, 1, 1}},
	} {
		t.Run(fmt.Sprintf("step %d", tc.step), func(t *testing.T) {
			cfg := petraWith(t, func(*Config) {})
			s := New(cfg)
			s.SetReplanOffLoop(true)
			s.SetReplanStep(tc.step)
			now := time.Date(2026, 11, 29, 10, 0, 0, 0, cfg.Location())
			if res, _ := closeThreeBookedDates(t, s, now); res.Err != nil {
				t.Fatal(res.Err)
			}
			st := ApplyStep{Closure: "flood"}
			jobs, err := s.ReplanJobs(now, st, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(jobs) != len(tc.wantParts) {
				t.Fatalf("%d jobs, want %d", len(jobs), len(tc.wantParts))
			}
			for i, j := range jobs {
				if j.Max != tc.wantMax || j.Parts() != tc.wantParts[i] {
					t.Errorf("job %s (%d groups): Max %d, Parts %d; want %d, %d", j.Date, j.Groups, j.Max, j.Parts(), tc.wantMax, tc.wantParts[i])
				}
				for range j.Parts() {
					if res, _ := s.Apply(now, ApplyReplan{Step: st, Date: j.Date, Max: j.Max}); res.Err != nil {
						t.Fatal(res.Err)
					}
				}
			}
			if closures, _ := s.Applying(); len(closures) != 0 {
				t.Errorf("still applying after every job's parts: %v", closures)
			}
		})
	}
}

// closeThreeBookedDates books 10, 20 and 30 groups of 20 on the main trail
// on 1, 2 and 3 December, then closes the Siq over those dates ("flood").
func closeThreeBookedDates(t *testing.T, s *State, now time.Time) (Result, []Effect) {
	t.Helper()
	loc := s.Config().Location()
	for d := range 3 {
		date := time.Date(2026, 12, 1+d, 0, 0, 0, 0, loc).Format(time.DateOnly)
		for i := range 10 * (d + 1) {
			res, _ := s.Apply(now, Book{ID: fmt.Sprintf("b%d-%02d", d, i), Operator: fmt.Sprintf("op%d", i%5), Request: BookingRequest{
				Date: date, Route: "main", PartySize: 20, Window: Window{From: hm(8, 0), To: hm(10, 0)}}})
			if res.Err != nil {
				t.Fatal(res.Err)
			}
		}
	}
	return s.Apply(now, Close{ID: "flood", Zones: []string{"siq"}, Reason: "flood", Until: time.Date(2026, 12, 4, 0, 0, 0, 0, loc)})
}
