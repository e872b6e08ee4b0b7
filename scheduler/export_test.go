package scheduler

import "time"

// Test hooks for the external tests (package scheduler_test), which plan
// the days of internal/plantest: that package imports scheduler, so the
// internal tests cannot use it. Nothing here is part of the API.

// CheckPlan is checkPlan: res is a feasible plan of reqs on date at now,
// checked against s independently of the planner.
func CheckPlan(t planTB, s *State, now time.Time, date string, reqs []PlanRequest, res PlanResult) {
	t.Helper()
	checkPlan(t, planCase{s: s, now: now, date: date, reqs: reqs}, res)
}

// CheckDayLoads is checkDayLoads on the state's picture of date.
func CheckDayLoads(t planTB, s *State, date string) {
	t.Helper()
	checkDayLoads(t, s.cfg, s.days[date])
}

// DayCount is how many days' capacity pictures the state keeps.
func DayCount(s *State) int { return len(s.days) }

// DefaultIterations is the planner's default budget for n groups.
var DefaultIterations = defaultIterations

// TestIterations is the tests' planner budget.
const TestIterations = testIterations

// ProcessCPU is the test process's CPU time so far (0 where not measured).
var ProcessCPU = processCPU
