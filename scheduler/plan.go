package scheduler

import (
	"time"
)

// PlanRequest is one group's request for a planned day.
type PlanRequest struct {
	ID        string `json:"id"`
	Operator  string `json:"operator"`
	Route     string `json:"route"`
	PartySize int    `json:"party_size"`
	// Window is when the group may enter, in minutes after local midnight
	// (entries m with From <= m < To).
	Window Window `json:"window"`
	// Preferred is the preferred entry in minutes after local midnight; 0
	// means the start of the window.
	Preferred int `json:"preferred,omitempty"`
}

// Placement is where the planner puts a group.
type Placement struct {
	ID     string    `json:"id"`
	Gate   string    `json:"gate"`
	Slot   time.Time `json:"slot"`
	Minute int       `json:"minute"` // Slot as minutes after the day's midnight
}

// OperatorShare is what one operator asked for and got.
type OperatorShare struct {
	Requested    int `json:"requested"` // visitors
	Placed       int `json:"placed"`    // visitors
	Groups       int `json:"groups"`
	PlacedGroups int `json:"placed_groups"`
	// Share is Placed / Requested.
	Share float64 `json:"share"`
}

// PlanStats describes a planner run.
type PlanStats struct {
	Groups int `json:"groups"`
	// Options is the number of (slot, gate) choices over all groups that fit
	// the day's remaining capacity on their own.
	Options int `json:"options"`
	// NoOption counts the groups with no such choice at all (window outside
	// the hours, closed, already over, or larger than what is left).
	NoOption       int `json:"no_option"`
	GreedyVisitors int `json:"greedy_visitors"` // placed by the greedy pass alone
	// FirstComeVisitors is what first-come allotment of the same requests
	// places (Book, in the order of their ids): the plan never places
	// fewer.
	FirstComeVisitors int `json:"first_come_visitors"`
	DeadlineVisitors  int `json:"deadline_visitors"` // placed by the earliest-deadline pass alone
	// StartVisitors is the best of the three passes, where the local
	// search starts.
	StartVisitors int `json:"start_visitors"`
	Iterations    int `json:"iterations"` // local-search iterations run
	// Accepted counts the local search's improvements: the new best plans
	// of the visitors search (a change it keeps without placing more
	// visitors than the best plan so far, an accepted loss included, is
	// not counted), plus every change the fairness and preference searches
	// keep (each one improves their objective without losing visitors).
	Accepted int `json:"accepted"`
	// MinShare and MaxShare are the extreme operator shares of placeable
	// demand (visitors of groups with at least one option); the ticket
	// office is not counted.
	MinShare float64 `json:"min_share"`
	MaxShare float64 `json:"max_share"`
	// MeanDeviationMinutes is the mean distance of the placed groups' slots
	// from their preferred start.
	MeanDeviationMinutes float64 `json:"mean_deviation_minutes"`
	Seed                 uint64  `json:"seed"`
}

// PlanResult is a planned day. Placed is ordered by slot, gate and id;
// Unplaced by id.
type PlanResult struct {
	Placed     []Placement              `json:"placed"`
	Unplaced   []string                 `json:"unplaced"`
	Visitors   int                      `json:"visitors"`  // placed
	Requested  int                      `json:"requested"` // asked for
	ByOperator map[string]OperatorShare `json:"by_operator"`
	Stats      PlanStats                `json:"stats"`
}

// PlanOptions tune the planner. The zero value means the defaults.
type PlanOptions struct {
	// Iterations bounds the local search: 0 means the default, 7,000 a
	// group (at least 50,000, at most 3 million); a negative value runs
	// the three construction passes only (the best of them, never worse
	// than first come). Quality grows with it (see the CBC comparison in
	// plan_cbc_test.go); each iteration takes a few microseconds.
	Iterations int
	// Seed seeds the local search; 0 derives it from the instance.
	Seed uint64
}

// Instance is a standalone planning problem: the remaining capacity of one
// day and the requests to place on it. State.DayInstance builds one from
// the live state; benchmarks build synthetic ones.
type Instance struct {
	// Date is local midnight of the day; a placement's Slot is Date plus
	// its minutes.
	Date        time.Time
	SlotMinutes int // minutes per slot; slot index = minute / SlotMinutes
	Resolution  int // minutes per timeline bucket; divides SlotMinutes
	// Horizon is the timeline's length in minutes (a route entered late
	// may run past midnight); stays are clipped to it. A multiple of
	// SlotMinutes and of Resolution.
	Horizon int
	Gates   []PlanGate
	Zones   []PlanZone
	Routes  []PlanRoute
	// OperatorDayCapacity is how many visitors one operator may have on the
	// day (walk-ins excepted); OperatorDayLoad is what each already has.
	OperatorDayCapacity int
	OperatorDayLoad     map[string]int
	// OperatorWaveLoad is what operators already have in single waves.
	OperatorWaveLoad []OperatorWaveLoad
	Requests         []PlanRequest
}

// PlanGate is a gate's capacity per slot and what is already booked.
type PlanGate struct {
	ID       string
	Capacity int // visitors a wave
	// OperatorCapacity is how many of them operators' groups may take
	// together (the rest is the walk-in share).
	OperatorCapacity int
	// OperatorWaveCapacity is how many one operator's groups may take.
	OperatorWaveCapacity int
	// Load and OperatorLoad are the visitors already in each slot (all,
	// operators' only); nil means none.
	Load, OperatorLoad []int
}

// PlanZone is a zone's capacity per timeline bucket and what is already
// planned there.
type PlanZone struct {
	ID               string
	Capacity         int
	OperatorCapacity int   // what operators' groups may hold together
	Load             []int // per bucket; nil means none
	OperatorLoad     []int // per bucket, operators' groups only
}

// PlanRoute is a route and the minutes at which it may still enter that
// day (open, not closed, not over).
type PlanRoute struct {
	ID      string
	Gates   []string // in order of preference
	Stops   []Stop
	Entries []int
}

// OperatorWaveLoad is one operator's visitors already in one wave.
type OperatorWaveLoad struct {
	Operator string
	Gate     string
	Slot     int // slot index
	Visitors int
}

// PlanDay plans reqs on date onto the state's current remaining capacity at
// now: bookings already made stay where they are (except those whose id a
// request repeats, which are lifted off and re-planned), closures and slots
// already over are respected, and the state is not changed. It is
// PlanInstance on DayInstance with the default options.
func (s *State) PlanDay(now time.Time, date string, reqs []PlanRequest) (PlanResult, error) {
	inst, err := s.DayInstance(now, date, reqs)
	if err != nil {
		return PlanResult{}, err
	}
	return PlanInstance(inst, PlanOptions{})
}

// PlanInstance plans a standalone instance: the best of three
// constructions, then the visitors, fairness and preference searches (see
// "The day planner" in the package documentation). It returns an error
// only for an inconsistent instance (unknown ids, loads longer than the
// horizon, ...). It touches no State, so it may run on any goroutine.
func PlanInstance(inst Instance, opts PlanOptions) (PlanResult, error) {
	p, err := compilePlan(&inst)
	if err != nil {
		return PlanResult{}, err
	}
	seed := opts.Seed
	if seed == 0 {
		seed = p.hash()
	}
	p.rng = newPlanRand(seed, seed^0x9e3779b97f4a7c15)
	p.stats.Seed = seed
	iters := opts.Iterations
	if iters == 0 {
		iters = defaultIterations(len(p.reqs))
	}
	p.construct()
	if iters > 0 {
		p.improve(iters)
	}
	return p.result(&inst), nil
}
