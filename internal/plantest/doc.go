// Package plantest is the tooling that measures the scheduler's day
// planner, kept out of the core's API: the planning problem as a 0-1
// integer program for an exact solver (WriteLP, LPValue, ParseCBC), a
// synthetic Hajj-sized site and its requests (HajjConfig, HajjRequests),
// and the one generator of realistic Petra days (PetraDay, PetraDays)
// that both the planner's quality tests (scheduler's TestPlannerVsCBC)
// and tafweej bench plan.
//
// It is for tests and the benchmark only: the scheduler's tests and
// tafweej bench use it, serving never does. It uses only the scheduler's
// exported API.
package plantest
