package scheduler

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// The day planner allots a whole day's requests at once, where Book allots
// them one by one, first come first served. Its objective is
// lexicographic:
//
//  1. the most visitors placed;
//  2. then fairness between operators: the leximin of the operators'
//     placed shares of their placeable requested visitors (raise the lowest
//     share first, then the next; a group is placeable when at least one
//     slot and gate could take it; the ticket office is not an operator
//     here, walk-ins have a share of their own);
//  3. then the groups' closeness to their preferred start.
//
// It works on a compiled copy of the day's remaining capacity, in four
// steps. It builds three plans and starts from the best: greedy (largest
// groups first, each at its feasible option nearest its preferred start),
// first come (the requests in id order, each where Book would put it) and
// earliest deadline (the groups whose window closes first first, each at
// its earliest option that fits). Then simulated annealing over two moves,
// insert an unplaced group or move a placed one, each ejecting the groups
// in its way and putting them back where they fit (a large-neighbourhood
// search that keeps the best plan seen, cooling geometrically); then the
// same search aimed at fairness, and at preferred starts, each accepting
// only changes that keep the earlier objectives. So the plan never places
// fewer visitors than first-come allotment of the same requests. Feasibility
// is room()'s: gate waves, zone timelines, the walk-in share, the
// operators' wave and day shares, closures and the slots already over;
// where a route's stops overlap in one zone, it counts the group once per
// stop, as State.add does (room() checks each stop alone).
//
// Everything is deterministic: inputs are sorted, the search draws from a
// PCG seeded from the instance, and it is bounded by a number of
// iterations, never by a clock. The default budget (7,000 iterations a
// group, at most 3 million) takes about 5 s for a Petra day of 300 groups
// on one core; see PlanOptions.

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
	Accepted      int `json:"accepted"`   // local-search changes kept
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
	// planlp_test.go); each iteration takes a few microseconds.
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

// DayInstance builds the planning instance of reqs on date at now from a
// copy of the day's capacity picture. A request whose id is an active,
// not yet admitted booking of the same operator on that date re-plans it:
// the booking's load is lifted off the copy (if the plan leaves it
// unplaced, the caller decides whether to cancel it or keep it where it
// was). Errors are *Error with CodeInvalid or CodeConflict; the state is
// never changed. The instance shares nothing with the state, so
// PlanInstance may run on it outside the goroutine that owns the state.
func (s *State) DayInstance(now time.Time, date string, reqs []PlanRequest) (Instance, error) {
	base, err := time.ParseInLocation(time.DateOnly, date, s.cfg.Location())
	if err != nil {
		return Instance{}, errorf(CodeInvalid, "date", "date %q is not a date of the form YYYY-MM-DD", date)
	}
	seen := make(map[string]int, len(reqs))
	for i, q := range reqs {
		field := func(f string) string { return fmt.Sprintf("requests[%d].%s", i, f) }
		if q.ID == "" {
			return Instance{}, errorf(CodeInvalid, field("id"), "request %d has no id (accepted: a unique non-empty id)", i)
		}
		if j, dup := seen[q.ID]; dup {
			return Instance{}, errorf(CodeInvalid, field("id"), "request id %q is repeated (requests %d and %d)", q.ID, j, i)
		}
		seen[q.ID] = i
		if q.Operator == "" {
			return Instance{}, errorf(CodeInvalid, field("operator"), "request %q has no operator", q.ID)
		}
		if _, ok := s.cfg.Route(q.Route); !ok {
			return Instance{}, errorf(CodeInvalid, field("route"), "request %q: unknown route %q (known: %s)", q.ID, q.Route, s.cfg.routeList())
		}
		if q.PartySize < 1 || q.PartySize > s.cfg.Policy.MaxPartySize {
			return Instance{}, errorf(CodeInvalid, field("party_size"), "request %q: party_size %d is out of range: a group has 1 to %d visitors", q.ID, q.PartySize, s.cfg.Policy.MaxPartySize)
		}
		if e := s.validWindow(q.Window); e != nil {
			e.Field = field("window")
			e.Message = fmt.Sprintf("request %q: %s", q.ID, e.Message)
			return Instance{}, e
		}
		if q.Preferred < 0 || q.Preferred > 24*60 {
			return Instance{}, errorf(CodeInvalid, field("preferred"), "request %q: preferred %d is out of range (accepted: minutes after midnight, 0 to 1440; 0 for the window's start)", q.ID, q.Preferred)
		}
	}

	d, _ := s.existingOrTemp(date) // a new day's empty picture is not kept
	dc := d.cloneForPlan()
	for i, q := range reqs {
		b, ok := s.bookings[q.ID]
		if !ok {
			continue
		}
		switch {
		case b.Operator != q.Operator:
			return Instance{}, errorf(CodeConflict, fmt.Sprintf("requests[%d].id", i), "request id %q is a booking of another operator", q.ID)
		case b.Date != date:
			return Instance{}, errorf(CodeConflict, fmt.Sprintf("requests[%d].id", i), "request id %q is a booking on %s, not %s", q.ID, b.Date, date)
		case b.Admitted > 0:
			return Instance{}, errorf(CodeConflict, fmt.Sprintf("requests[%d].id", i), "request id %q is a booking with %d visitors admitted; it cannot be re-planned", q.ID, b.Admitted)
		case b.Active():
			s.add(dc, b.Operator, b.Route, b.Gate, s.minuteOf(dc, b.Slot), -b.PartySize)
		}
	}

	share := 1 - s.cfg.Policy.WalkInShare
	inst := Instance{
		Date:                base,
		SlotMinutes:         s.cfg.SlotMinutes,
		Resolution:          s.res,
		Horizon:             dayMinutes,
		OperatorDayCapacity: floorShare(dc.entries, s.cfg.Policy.OperatorDayShare),
		OperatorDayLoad:     maps.Clone(dc.opDay),
		Requests:            slices.Clone(reqs),
	}
	for _, g := range s.cfg.Gates {
		inst.Gates = append(inst.Gates, PlanGate{
			ID: g.ID, Capacity: g.WaveCapacity,
			OperatorCapacity:     floorShare(g.WaveCapacity, share),
			OperatorWaveCapacity: floorShare(g.WaveCapacity, s.cfg.Policy.OperatorWaveShare),
			Load:                 ints(dc.wave[g.ID]), OperatorLoad: ints(dc.waveOp[g.ID]),
		})
	}
	for _, z := range s.cfg.Zones {
		inst.Zones = append(inst.Zones, PlanZone{
			ID: z.ID, Capacity: z.Capacity, OperatorCapacity: floorShare(z.Capacity, share),
			Load: ints(dc.zone[z.ID]), OperatorLoad: ints(dc.zoneOp[z.ID]),
		})
	}
	for k, v := range dc.opWave {
		inst.OperatorWaveLoad = append(inst.OperatorWaveLoad, OperatorWaveLoad{Operator: k.operator, Gate: k.gate, Slot: k.slot, Visitors: v})
	}
	slices.SortFunc(inst.OperatorWaveLoad, func(a, b OperatorWaveLoad) int {
		return cmp.Or(cmp.Compare(a.Operator, b.Operator), cmp.Compare(a.Gate, b.Gate), cmp.Compare(a.Slot, b.Slot))
	})
	earliest := s.earliestMinute(dc, now)
	for i := range s.cfg.Routes {
		r := &s.cfg.Routes[i]
		pr := PlanRoute{ID: r.ID, Gates: slices.Clone(r.Gates), Stops: slices.Clone(r.Stops)}
		for _, m := range s.routeSlots(dc.base, r) {
			if m >= earliest && !s.closedFor(dc, r, m) {
				pr.Entries = append(pr.Entries, m)
			}
		}
		inst.Routes = append(inst.Routes, pr)
	}
	return inst, nil
}

// cloneForPlan is a deep copy of the day's capacity picture.
func (d *day) cloneForPlan() *day {
	c := &day{date: d.date, base: d.base, entries: d.entries,
		zone: map[string][]int32{}, zoneOp: map[string][]int32{},
		wave: map[string][]int32{}, waveOp: map[string][]int32{},
		opDay: maps.Clone(d.opDay), opWave: maps.Clone(d.opWave)}
	for k, v := range d.zone {
		c.zone[k] = slices.Clone(v)
	}
	for k, v := range d.zoneOp {
		c.zoneOp[k] = slices.Clone(v)
	}
	for k, v := range d.wave {
		c.wave[k] = slices.Clone(v)
	}
	for k, v := range d.waveOp {
		c.waveOp[k] = slices.Clone(v)
	}
	return c
}

func ints(xs []int32) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = int(x)
	}
	return out
}

// PlanInstance plans a standalone instance. It returns an error only for an
// inconsistent instance (unknown ids, loads longer than the horizon, ...).
func PlanInstance(inst Instance, opts PlanOptions) (PlanResult, error) {
	p, err := compilePlan(&inst)
	if err != nil {
		return PlanResult{}, err
	}
	seed := opts.Seed
	if seed == 0 {
		seed = p.hash()
	}
	p.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
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

// Search parameters, chosen on the CBC comparison of planlp_test.go (none
// of them depends on an instance).
const (
	// ejectLimit bounds the groups one move of the visitors search ejects:
	// small moves are cheap, and more of them in the same time pack better
	// than fewer large ones.
	ejectLimit = 5
	// fillTries bounds the unplaced groups a repair tries in the slots a
	// move touched: cheap tries, more iterations, better packing.
	fillTries = 12
	// coolSixteenths is the visitors search's cooling: the temperature
	// falls geometrically from temp0 by 2^(-coolSixteenths/16) over the
	// search (90: to about a fiftieth).
	coolSixteenths = 90
)

// defaultIterations is the default local-search budget for n groups.
func defaultIterations(n int) int { return min(max(7000*n, 50000), 3000000) }

// planner is a compiled instance and its current solution. Capacity is
// kept as slack (what is left), for any group and for operators' groups
// (also within the operators' part), so that a fit is one comparison per
// wave and per bucket.
type planner struct {
	slotMin, res     int32
	nSlots, nBuckets int32
	gateIDs          []string

	gateLeft, gateOpLeft, gateOpSlack []int32 // gate*nSlots + slot
	zoneLeft, zoneOpLeft, zoneOpSlack []int32 // zone*nBuckets + bucket
	cellLeft                          []int32 // one operator's part of one wave
	dayLeft                           []int32 // per operator

	routes   []planRoute
	zoneRuns [][]zoneRun // zone → the route runs that cross it
	ops      []string    // sorted
	opReqs   [][]int32   // operator → its requests
	opDemand []int       // visitors of the operator's groups with an option
	reqs     []planReq   // sorted by id
	opts     []planOpt   // reqs[i].lo:hi, nearest the preferred start first
	slotReqs [][]int32   // slot → requests with an option there

	at       []int32   // request → option, -1 if unplaced
	placedAt [][]int32 // slot*len(routes) + route → placed requests
	pos      []int32   // request → index in its placedAt list or in free
	free     []int32   // unplaced requests that have an option
	visitors int
	opPlaced []int
	dev      int64 // sum of |minute - preferred| over placed groups
	journal  []planMove
	rng      *rand.Rand
	stats    PlanStats
	temp0    int64 // initial temperature of the visitors search, in 1/1024 visitor

	scratch, scratch2, touched []int32
	lack                       []int64
	randomFit                  bool // placeBest starts at a random option
}

type planReq struct {
	id     string
	n      int32
	op     int32
	walkIn bool
	route  int32
	lo, hi int32 // options
	pref   int32
}

type planOpt struct {
	minute int32
	gate   int32
	dev    int32 // |minute - preferred|
	slot   int32
	gi     int32 // gate*nSlots + slot
	cell   int32 // operator's wave cell, -1 for walk-ins
	b0     int32 // entry bucket
}

type planRoute struct {
	runs []planRun
	hot  int32 // the run that failed a fit last
}

// planRun is a stretch of timeline buckets, relative to the entry bucket,
// where a route counts k times its group against a zone.
type planRun struct{ zone, from, to, k int32 }

type zoneRun struct {
	route int32
	run   planRun
}

type planMove struct{ req, from, to int32 }

type cellKey struct{ op, gate, slot int32 }

func compilePlan(inst *Instance) (*planner, error) {
	if inst.SlotMinutes <= 0 || inst.Resolution <= 0 || inst.SlotMinutes%inst.Resolution != 0 {
		return nil, fmt.Errorf("plan instance: slot_minutes %d and resolution %d are not valid (accepted: both positive, resolution dividing slot_minutes)", inst.SlotMinutes, inst.Resolution)
	}
	if inst.Horizon <= 0 || inst.Horizon%inst.SlotMinutes != 0 {
		return nil, fmt.Errorf("plan instance: horizon %d is not valid (accepted: a positive multiple of slot_minutes %d)", inst.Horizon, inst.SlotMinutes)
	}
	if inst.Horizon/inst.Resolution >= 1<<22 {
		return nil, fmt.Errorf("plan instance: horizon %d has too many buckets of %d minutes (accepted: fewer than %d)", inst.Horizon, inst.Resolution, 1<<22)
	}
	// Every count must fit the planner's 32-bit books with room to spare.
	const most = 1 << 28
	big := func(xs ...int) bool {
		for _, x := range xs {
			if x > most || x < -most {
				return true
			}
		}
		return false
	}
	for _, g := range inst.Gates {
		if big(g.Capacity, g.OperatorCapacity, g.OperatorWaveCapacity) || big(g.Load...) || big(g.OperatorLoad...) {
			return nil, fmt.Errorf("plan instance: gate %q: a capacity or load is out of range (accepted: at most %d)", g.ID, most)
		}
	}
	for _, z := range inst.Zones {
		if big(z.Capacity, z.OperatorCapacity) || big(z.Load...) || big(z.OperatorLoad...) {
			return nil, fmt.Errorf("plan instance: zone %q: a capacity or load is out of range (accepted: at most %d)", z.ID, most)
		}
	}
	if big(inst.OperatorDayCapacity) {
		return nil, fmt.Errorf("plan instance: operator day capacity %d is out of range (accepted: at most %d)", inst.OperatorDayCapacity, most)
	}
	p := &planner{
		slotMin:  int32(inst.SlotMinutes),
		res:      int32(inst.Resolution),
		nSlots:   int32(inst.Horizon / inst.SlotMinutes),
		nBuckets: int32(inst.Horizon / inst.Resolution),
	}
	gateIx := map[string]int32{}
	var gateWaveCap []int32
	for i, g := range inst.Gates {
		if _, dup := gateIx[g.ID]; dup {
			return nil, fmt.Errorf("plan instance: gate %q listed twice", g.ID)
		}
		if len(g.Load) > int(p.nSlots) || len(g.OperatorLoad) > int(p.nSlots) {
			return nil, fmt.Errorf("plan instance: gate %q: load has more slots than the horizon's %d", g.ID, p.nSlots)
		}
		gateIx[g.ID] = int32(i)
		p.gateIDs = append(p.gateIDs, g.ID)
		gateWaveCap = append(gateWaveCap, int32(g.OperatorWaveCapacity))
		p.gateLeft = appendLeft(p.gateLeft, g.Capacity, g.Load, p.nSlots)
		p.gateOpLeft = appendLeft(p.gateOpLeft, g.OperatorCapacity, g.OperatorLoad, p.nSlots)
	}
	p.gateOpSlack = make([]int32, len(p.gateLeft))
	for i := range p.gateLeft {
		p.gateOpSlack[i] = min(p.gateLeft[i], p.gateOpLeft[i])
	}
	zoneIx := map[string]int32{}
	for i, z := range inst.Zones {
		if _, dup := zoneIx[z.ID]; dup {
			return nil, fmt.Errorf("plan instance: zone %q listed twice", z.ID)
		}
		if len(z.Load) > int(p.nBuckets) || len(z.OperatorLoad) > int(p.nBuckets) {
			return nil, fmt.Errorf("plan instance: zone %q: load has more buckets than the horizon's %d", z.ID, p.nBuckets)
		}
		zoneIx[z.ID] = int32(i)
		p.zoneLeft = appendLeft(p.zoneLeft, z.Capacity, z.Load, p.nBuckets)
		p.zoneOpLeft = appendLeft(p.zoneOpLeft, z.OperatorCapacity, z.OperatorLoad, p.nBuckets)
	}
	p.zoneOpSlack = make([]int32, len(p.zoneLeft))
	for i := range p.zoneLeft {
		p.zoneOpSlack[i] = min(p.zoneLeft[i], p.zoneOpLeft[i])
	}
	p.zoneRuns = make([][]zoneRun, len(inst.Zones))
	routeIx := map[string]int32{}
	routeGates := make([][]int32, len(inst.Routes))
	for i, r := range inst.Routes {
		if _, dup := routeIx[r.ID]; dup {
			return nil, fmt.Errorf("plan instance: route %q listed twice", r.ID)
		}
		routeIx[r.ID] = int32(i)
		for _, g := range r.Gates {
			gi, ok := gateIx[g]
			if !ok {
				return nil, fmt.Errorf("plan instance: route %q: unknown gate %q", r.ID, g)
			}
			routeGates[i] = append(routeGates[i], gi)
		}
		for _, m := range r.Entries {
			if m < 0 || m >= inst.Horizon || m%inst.SlotMinutes != 0 {
				return nil, fmt.Errorf("plan instance: route %q: entry %d is not valid (accepted: a slot start within the horizon)", r.ID, m)
			}
		}
		// Multiplicity of the route in each zone per bucket offset, the way
		// State.add counts it (overlapping stops in one zone count twice).
		cover := map[int32][]int32{}
		for _, st := range r.Stops {
			zi, ok := zoneIx[st.Zone]
			if !ok {
				return nil, fmt.Errorf("plan instance: route %q: unknown zone %q", r.ID, st.Zone)
			}
			if st.Arrive < 0 || st.Stay < 0 {
				return nil, fmt.Errorf("plan instance: route %q: stop in zone %q has arrive %d, stay %d (accepted: 0 or more)", r.ID, st.Zone, st.Arrive, st.Stay)
			}
			from, to := int32(st.Arrive/inst.Resolution), int32((st.Arrive+st.Stay)/inst.Resolution)
			c := cover[zi]
			for int32(len(c)) < to {
				c = append(c, 0)
			}
			for b := from; b < to; b++ {
				c[b]++
			}
			cover[zi] = c
		}
		var pr planRoute
		for _, zi := range slices.Sorted(maps.Keys(cover)) {
			c := cover[zi]
			for b := 0; b < len(c); {
				if c[b] == 0 {
					b++
					continue
				}
				e := b
				for e < len(c) && c[e] == c[b] {
					e++
				}
				run := planRun{zone: zi, from: int32(b), to: int32(e), k: c[b]}
				pr.runs = append(pr.runs, run)
				p.zoneRuns[zi] = append(p.zoneRuns[zi], zoneRun{int32(i), run})
				b = e
			}
		}
		p.routes = append(p.routes, pr)
	}

	reqs := slices.Clone(inst.Requests)
	slices.SortFunc(reqs, func(a, b PlanRequest) int { return cmp.Compare(a.ID, b.ID) })
	opSet := map[string]bool{}
	for i, q := range reqs {
		if q.ID == "" || i > 0 && reqs[i-1].ID == q.ID {
			return nil, fmt.Errorf("plan instance: request id %q is empty or repeated", q.ID)
		}
		if q.PartySize < 1 || q.PartySize > 1<<20 {
			return nil, fmt.Errorf("plan instance: request %q: party_size %d is out of range (accepted: 1 to %d)", q.ID, q.PartySize, 1<<20)
		}
		if _, ok := routeIx[q.Route]; !ok {
			return nil, fmt.Errorf("plan instance: request %q: unknown route %q", q.ID, q.Route)
		}
		opSet[q.Operator] = true
	}
	p.ops = slices.Sorted(maps.Keys(opSet))
	opIx := map[string]int32{}
	for i, o := range p.ops {
		opIx[o] = int32(i)
	}
	p.dayLeft = make([]int32, len(p.ops))
	for i, o := range p.ops {
		p.dayLeft[i] = int32(inst.OperatorDayCapacity - inst.OperatorDayLoad[o])
	}
	waveUsed := map[cellKey]int32{}
	for _, w := range inst.OperatorWaveLoad {
		oi, ok1 := opIx[w.Operator]
		gi, ok2 := gateIx[w.Gate]
		if ok1 && ok2 {
			waveUsed[cellKey{oi, gi, int32(w.Slot)}] += int32(w.Visitors)
		}
	}
	cells := map[cellKey]int32{}

	p.reqs = make([]planReq, len(reqs))
	p.opReqs = make([][]int32, len(p.ops))
	p.opDemand = make([]int, len(p.ops))
	p.opPlaced = make([]int, len(p.ops))
	p.slotReqs = make([][]int32, p.nSlots)
	sizes := 0
	var slots []int32
	for i, q := range reqs {
		ri := routeIx[q.Route]
		pref := q.Preferred
		if pref == 0 {
			pref = q.Window.From
		}
		pq := planReq{id: q.ID, n: int32(q.PartySize), op: opIx[q.Operator], walkIn: q.Operator == WalkInOperator,
			route: ri, pref: int32(pref), lo: int32(len(p.opts))}
		for _, m := range inst.Routes[ri].Entries {
			if m < q.Window.From || m >= q.Window.To {
				continue
			}
			slot := int32(m / inst.SlotMinutes)
			for _, g := range routeGates[ri] {
				o := planOpt{minute: int32(m), gate: g, dev: int32(abs(m - pref)), slot: slot,
					gi: g*p.nSlots + slot, cell: -1, b0: int32(m / inst.Resolution)}
				if !pq.walkIn {
					k := cellKey{pq.op, g, slot}
					c, ok := cells[k]
					if !ok {
						c = int32(len(p.cellLeft))
						cells[k] = c
						p.cellLeft = append(p.cellLeft, gateWaveCap[g]-waveUsed[k])
					}
					o.cell = c
				}
				// Keep only the options that fit on their own.
				if p.fitsOpt(&pq, &o) {
					p.opts = append(p.opts, o)
				}
			}
		}
		opts := p.opts[pq.lo:]
		slices.SortStableFunc(opts, func(a, b planOpt) int {
			return cmp.Or(cmp.Compare(a.dev, b.dev), cmp.Compare(a.minute, b.minute))
		})
		pq.hi = int32(len(p.opts))
		p.reqs[i] = pq
		p.opReqs[pq.op] = append(p.opReqs[pq.op], int32(i))
		if len(opts) == 0 {
			p.stats.NoOption++
			continue
		}
		p.opDemand[pq.op] += q.PartySize
		sizes += q.PartySize
		slots = slots[:0]
		for _, o := range opts {
			slots = append(slots, o.slot)
		}
		slices.Sort(slots)
		for _, s := range slices.Compact(slots) {
			p.slotReqs[s] = append(p.slotReqs[s], int32(i))
		}
	}
	p.stats.Groups = len(p.reqs)
	p.stats.Options = len(p.opts)
	p.at = make([]int32, len(p.reqs))
	p.pos = make([]int32, len(p.reqs))
	p.placedAt = make([][]int32, int(p.nSlots)*len(p.routes))
	for i := range p.reqs {
		p.at[i] = -1
		p.pos[i] = -1
		if p.reqs[i].hi > p.reqs[i].lo {
			p.pos[i] = int32(len(p.free))
			p.free = append(p.free, int32(i))
		}
	}
	// The visitors search starts at a temperature of about a fifth of a
	// mean group: it keeps a loss of that much with probability 1/2 at
	// first, cooling to a fiftieth of that.
	if len(p.free) > 0 {
		p.temp0 = int64(sizes) * 1024 * 208 / (1000 * int64(len(p.free)))
	}
	return p, nil
}

func appendLeft(dst []int32, capacity int, load []int, n int32) []int32 {
	for i := range n {
		v := int32(capacity)
		if int(i) < len(load) {
			v -= int32(load[i])
		}
		dst = append(dst, v)
	}
	return dst
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// hash derives a seed from the compiled instance.
func (p *planner) hash() uint64 {
	h := fnv.New64a()
	var buf []byte
	put := func(v int32) { buf = append(buf, byte(v), byte(v>>8), byte(v>>16), byte(v>>24)) }
	for _, q := range p.reqs {
		buf = append(buf, q.id...)
		put(q.n)
		put(q.op)
		put(q.route)
		put(q.pref)
		put(q.hi - q.lo)
	}
	for _, o := range p.opts {
		put(o.minute)
		put(o.gate)
	}
	for _, v := range p.gateLeft {
		put(v)
	}
	for _, v := range p.zoneLeft {
		put(v)
	}
	h.Write(buf)
	if s := h.Sum64(); s != 0 {
		return s
	}
	return 1
}

func (p *planner) clip(b int32) int32 { return min(max(b, 0), p.nBuckets) }

// fits reports whether request ri fits at option oi with the current loads.
func (p *planner) fits(ri, oi int32) bool { return p.fitsOpt(&p.reqs[ri], &p.opts[oi]) }

func (p *planner) fitsOpt(q *planReq, o *planOpt) bool {
	n := q.n
	zones := p.zoneOpSlack
	if q.walkIn {
		if p.gateLeft[o.gi] < n {
			return false
		}
		zones = p.zoneLeft
	} else if p.gateOpSlack[o.gi] < n || p.dayLeft[q.op] < n || p.cellLeft[o.cell] < n {
		return false
	}
	// The run that failed last is tried first: it is likely to fail again.
	rt := &p.routes[q.route]
	start := -1
	if len(rt.runs) == 0 {
		start = 0
	}
	for i := start; i < len(rt.runs); i++ {
		j := int32(i)
		if i < 0 {
			j = rt.hot
		} else if j == rt.hot {
			continue
		}
		r := &rt.runs[j]
		lo, hi := p.clip(o.b0+r.from), p.clip(o.b0+r.to)
		base := r.zone * p.nBuckets
		kn := r.k * n
		for _, v := range zones[base+lo : base+hi] {
			if v < kn {
				rt.hot = j
				return false
			}
		}
	}
	return true
}

// load takes sign times request ri's group at option oi off the slack.
func (p *planner) load(ri, oi int32, sign int32) {
	q := &p.reqs[ri]
	o := &p.opts[oi]
	n := sign * q.n
	p.gateLeft[o.gi] -= n
	if !q.walkIn {
		p.gateOpLeft[o.gi] -= n
		p.dayLeft[q.op] -= n
		p.cellLeft[o.cell] -= n
	}
	p.gateOpSlack[o.gi] = min(p.gateLeft[o.gi], p.gateOpLeft[o.gi])
	for _, r := range p.routes[q.route].runs {
		lo, hi := p.clip(o.b0+r.from), p.clip(o.b0+r.to)
		base := r.zone * p.nBuckets
		kn := r.k * n
		all, op, slack := p.zoneLeft[base+lo:base+hi], p.zoneOpLeft[base+lo:base+hi], p.zoneOpSlack[base+lo:base+hi]
		for i := range all {
			all[i] -= kn
			if !q.walkIn {
				op[i] -= kn
			}
			slack[i] = min(all[i], op[i])
		}
	}
}

// set moves request ri to option oi (-1: unplaced), journaling the move.
func (p *planner) set(ri, oi int32) {
	p.journal = append(p.journal, planMove{ri, p.at[ri], oi})
	p.setRaw(ri, oi)
}

func (p *planner) setRaw(ri, oi int32) {
	from := p.at[ri]
	if from == oi {
		return
	}
	q := &p.reqs[ri]
	if from >= 0 {
		p.load(ri, from, -1)
		p.removeFrom(&p.placedAt[p.cellOf(q, from)], ri)
		p.visitors -= int(q.n)
		p.opPlaced[q.op] -= int(q.n)
		p.dev -= int64(p.opts[from].dev)
	} else {
		p.removeFrom(&p.free, ri)
	}
	if oi >= 0 {
		p.load(ri, oi, 1)
		c := p.cellOf(q, oi)
		p.pos[ri] = int32(len(p.placedAt[c]))
		p.placedAt[c] = append(p.placedAt[c], ri)
		p.visitors += int(q.n)
		p.opPlaced[q.op] += int(q.n)
		p.dev += int64(p.opts[oi].dev)
	} else {
		p.pos[ri] = int32(len(p.free))
		p.free = append(p.free, ri)
	}
	p.at[ri] = oi
}

// cellOf is the placedAt list of request q at option oi.
func (p *planner) cellOf(q *planReq, oi int32) int32 {
	return p.opts[oi].slot*int32(len(p.routes)) + q.route
}

func (p *planner) removeFrom(list *[]int32, ri int32) {
	l := *list
	i := p.pos[ri]
	last := l[len(l)-1]
	l[i] = last
	p.pos[last] = i
	*list = l[:len(l)-1]
	p.pos[ri] = -1
}

// revert undoes the journal back to mark.
func (p *planner) revert(mark int) {
	for i := len(p.journal) - 1; i >= mark; i-- {
		m := p.journal[i]
		p.setRaw(m.req, m.from)
	}
	p.journal = p.journal[:mark]
}

// restore sets the solution to at, a feasible one.
func (p *planner) restore(at []int32) {
	for r := range p.at {
		if p.at[r] != at[r] {
			p.setRaw(int32(r), -1)
		}
	}
	for r := range p.at {
		if p.at[r] != at[r] {
			p.setRaw(int32(r), at[r])
		}
	}
	p.journal = p.journal[:0]
}

// placeBest puts request ri at its option nearest the preferred start that
// fits, if any (with randomFit, at the first that fits from a random one).
func (p *planner) placeBest(ri int32) bool {
	q := &p.reqs[ri]
	if p.randomFit && q.hi > q.lo {
		k := q.hi - q.lo
		start := int32(p.rng.IntN(int(k)))
		for i := range k {
			oi := q.lo + (start+i)%k
			if p.fits(ri, oi) {
				p.set(ri, oi)
				return true
			}
		}
		return false
	}
	for oi := q.lo; oi < q.hi; oi++ {
		if p.fits(ri, oi) {
			p.set(ri, oi)
			return true
		}
	}
	return false
}

// construct builds the starting plan: the best of three constructions,
// greedy (largest groups first, at their preferred start), first come
// (Book's allotment) and earliest deadline. Starting from the first-come
// plan or a better one, and keeping the best plan seen, the planner never
// places fewer visitors than first-come allotment of the same requests.
func (p *planner) construct() {
	p.greedy()
	p.stats.GreedyVisitors = p.visitors
	best, bestV := slices.Clone(p.at), p.visitors
	keep := func() {
		if p.visitors > bestV {
			copy(best, p.at)
			bestV = p.visitors
		}
	}
	p.clear()
	p.firstCome()
	p.stats.FirstComeVisitors = p.visitors
	keep()
	p.clear()
	p.earliestDeadline()
	p.stats.DeadlineVisitors = p.visitors
	keep()
	p.restore(best)
	p.stats.StartVisitors = p.visitors
}

// clear unplaces every group.
func (p *planner) clear() {
	for r := range p.at {
		if p.at[r] >= 0 {
			p.setRaw(int32(r), -1)
		}
	}
	p.journal = p.journal[:0]
}

// placeEarliest puts request ri at its earliest option that fits, in the
// route's gate order for one slot: where Book would put it.
func (p *planner) placeEarliest(ri int32) bool {
	q := &p.reqs[ri]
	best := int32(-1)
	for oi := q.lo; oi < q.hi; oi++ {
		// Options are sorted by deviation then minute, and within a minute
		// in the route's gate order: the first that fits at the earliest
		// minute is Book's choice.
		if (best < 0 || p.opts[oi].minute < p.opts[best].minute) && p.fits(ri, oi) {
			best = oi
		}
	}
	if best < 0 {
		return false
	}
	p.setRaw(ri, best)
	return true
}

// firstCome is first-come allotment, as Book does it one request at a
// time: the requests in id order, each at the earliest slot of its window
// that fits, then the route's first gate that fits.
func (p *planner) firstCome() {
	for ri := range p.reqs {
		p.placeEarliest(int32(ri))
	}
	p.journal = p.journal[:0]
}

// earliestDeadline places the groups whose window closes first first (then
// those whose window opens first, then the largest), each at its earliest
// option that fits: the way to fill a time-bounded resource without
// leaving room early that only early groups could have used.
func (p *planner) earliestDeadline() {
	type key struct{ last, first, n, ri int32 }
	keys := make([]key, 0, len(p.reqs))
	for ri := range p.reqs {
		q := &p.reqs[ri]
		if q.hi == q.lo {
			continue
		}
		k := key{last: -1, first: math.MaxInt32, n: q.n, ri: int32(ri)}
		for oi := q.lo; oi < q.hi; oi++ {
			k.last = max(k.last, p.opts[oi].minute)
			k.first = min(k.first, p.opts[oi].minute)
		}
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.last, b.last), cmp.Compare(a.first, b.first), cmp.Compare(b.n, a.n), cmp.Compare(a.ri, b.ri))
	})
	for _, k := range keys {
		p.placeEarliest(k.ri)
	}
	p.journal = p.journal[:0]
}

// greedy places the groups largest first (then the least flexible), each
// at its option nearest the preferred start that fits.
func (p *planner) greedy() {
	order := make([]int32, len(p.reqs))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		qa, qb := &p.reqs[a], &p.reqs[b]
		return cmp.Or(cmp.Compare(qb.n, qa.n), cmp.Compare(qa.hi-qa.lo, qb.hi-qb.lo))
	})
	for _, ri := range order {
		if p.reqs[ri].hi > p.reqs[ri].lo {
			p.placeBest(ri)
		}
	}
	p.journal = p.journal[:0]
}

// Resources a group may lack at an option.
const (
	resGate   = iota // the wave
	resGateOp        // the operators' part of the wave
	resCell          // the operator's part of the wave
	resDay           // the operator's part of the day
	resZone          // a zone bucket
	resZoneOp        // the operators' part of a zone bucket
)

// blockers appends to dst the placed groups that hold one resource request
// ri lacks at option oi, chosen at random among those it lacks; lacking
// is false when ri fits there.
func (p *planner) blockers(dst []int32, ri, oi int32) (_ []int32, lacking bool) {
	q := &p.reqs[ri]
	o := &p.opts[oi]
	n := q.n
	// The resources it lacks, packed as kind | zone<<8 | bucket<<32 in
	// an int64 each; one is drawn at random.
	lack := p.lack[:0]
	if p.gateLeft[o.gi] < n {
		lack = append(lack, resGate)
	}
	if !q.walkIn {
		if p.gateOpLeft[o.gi] < n {
			lack = append(lack, resGateOp)
		}
		if p.cellLeft[o.cell] < n {
			lack = append(lack, resCell)
		}
		if p.dayLeft[q.op] < n {
			lack = append(lack, resDay)
		}
	}
	zones := p.zoneOpSlack
	if q.walkIn {
		zones = p.zoneLeft
	}
	for _, r := range p.routes[q.route].runs {
		lo, hi := p.clip(o.b0+r.from), p.clip(o.b0+r.to)
		base := r.zone * p.nBuckets
		kn := r.k * n
		for b := lo; b < hi; b++ {
			if zones[base+b] >= kn {
				continue // the common case: one comparison
			}
			if p.zoneLeft[base+b] < kn {
				lack = append(lack, resZone|int64(r.zone)<<8|int64(b)<<32)
			}
			if !q.walkIn && p.zoneOpLeft[base+b] < kn {
				lack = append(lack, resZoneOp|int64(r.zone)<<8|int64(b)<<32)
			}
		}
	}
	p.lack = lack
	if len(lack) == 0 {
		return dst, false
	}
	pick := lack[p.rng.IntN(len(lack))]
	kind, zone, bucket := int(pick&0xff), int32(pick>>8&0xffffff), int32(pick>>32)
	nr := int32(len(p.routes))
	switch kind {
	case resGate, resGateOp, resCell:
		for r := range nr {
			for _, v := range p.placedAt[o.slot*nr+r] {
				w := &p.reqs[v]
				if p.opts[p.at[v]].gate != o.gate || kind != resGate && w.walkIn || kind == resCell && w.op != q.op {
					continue
				}
				dst = append(dst, v)
			}
		}
	case resDay:
		for _, v := range p.opReqs[q.op] {
			if p.at[v] >= 0 {
				dst = append(dst, v)
			}
		}
	case resZone, resZoneOp:
		for _, zr := range p.zoneRuns[zone] {
			// Entries e (in buckets) with e+from <= bucket < e+to.
			s0 := max((bucket-zr.run.to+1)*p.res/p.slotMin, 0)
			s1 := min((bucket-zr.run.from)*p.res/p.slotMin, p.nSlots-1)
			for s := s0; s <= s1; s++ {
				for _, v := range p.placedAt[s*nr+zr.route] {
					if kind == resZoneOp && p.reqs[v].walkIn {
						continue
					}
					if e := p.opts[p.at[v]].b0; e+zr.run.from <= bucket && bucket < e+zr.run.to {
						dst = append(dst, v)
					}
				}
			}
		}
	}
	return dst, true
}

// makeRoom ejects placed groups allowed by allow until request ri fits at
// option oi, at most limit of them. The ejected groups are appended to
// out.
func (p *planner) makeRoom(ri, oi int32, limit int, allow func(int32) bool, out []int32) ([]int32, bool) {
	for {
		if limit == 0 {
			return out, p.fits(ri, oi)
		}
		// One scan of ri's footprint tells whether it fits and, if not,
		// what is in the way.
		c, lacking := p.blockers(p.scratch[:0], ri, oi)
		p.scratch = c
		if !lacking {
			return out, true
		}
		limit--
		if allow != nil {
			c = slices.DeleteFunc(c, func(v int32) bool { return !allow(v) })
		}
		if len(c) == 0 {
			return out, false
		}
		// Tournament of two: prefer ejecting the smaller group.
		v := c[p.rng.IntN(len(c))]
		if w := c[p.rng.IntN(len(c))]; p.reqs[w].n < p.reqs[v].n {
			v = w
		}
		p.set(v, -1)
		out = append(out, v)
	}
}

// repair puts the ejected groups back where they fit, largest first, then
// tries unplaced groups that could use the slots touched.
func (p *planner) repair(ejected []int32, touched []int32, fill bool) {
	slices.SortStableFunc(ejected, func(a, b int32) int { return cmp.Compare(p.reqs[b].n, p.reqs[a].n) })
	for _, v := range ejected {
		p.placeBest(v)
	}
	if !fill {
		return
	}
	tries := 0
	for _, s := range touched {
		list := p.slotReqs[s]
		if len(list) == 0 {
			continue
		}
		start := p.rng.IntN(len(list))
		for i := range list {
			v := list[(start+i)%len(list)]
			if p.at[v] >= 0 {
				continue
			}
			if tries++; tries > fillTries {
				return
			}
			p.placeBest(v)
		}
	}
}

// improve runs the local search for at most iters iterations.
func (p *planner) improve(iters int) {
	used := p.searchVisitors(iters * 3 / 4)
	used += p.searchFairness(iters / 8)
	p.searchPreference(iters - used)
}

// tryInsert takes unplaced request u at a random option, ejecting groups
// allowed by allow, and repairs. It reports whether u was placed; the
// caller accepts or reverts.
func (p *planner) tryInsert(u int32, limit int, allow func(int32) bool) bool {
	q := &p.reqs[u]
	oi := q.lo + int32(p.rng.IntN(int(q.hi-q.lo)))
	ejected, ok := p.makeRoom(u, oi, limit, allow, p.scratch2[:0])
	p.scratch2 = ejected
	if !ok {
		return false
	}
	touched := append(p.touched[:0], p.opts[oi].slot)
	for _, v := range ejected {
		touched = append(touched, p.journalFrom(v))
	}
	p.touched = touched
	p.set(u, oi)
	p.repair(ejected, touched, true)
	return true
}

// tryRelocate moves a random placed group to another of its options,
// ejecting what is in the way, and repairs.
func (p *planner) tryRelocate(limit int) bool {
	v := int32(p.rng.IntN(len(p.reqs)))
	for range 3 {
		if p.at[v] >= 0 {
			break
		}
		v = int32(p.rng.IntN(len(p.reqs)))
	}
	cur := p.at[v]
	q := &p.reqs[v]
	if cur < 0 || q.hi-q.lo < 2 {
		return false
	}
	oi := q.lo + int32(p.rng.IntN(int(q.hi-q.lo)))
	if oi == cur {
		return false
	}
	p.set(v, -1)
	ejected, ok := p.makeRoom(v, oi, limit, nil, p.scratch2[:0])
	p.scratch2 = ejected
	if !ok {
		return false
	}
	touched := append(p.touched[:0], p.opts[cur].slot, p.opts[oi].slot)
	for _, w := range ejected {
		touched = append(touched, p.journalFrom(w))
	}
	p.touched = touched
	p.set(v, oi)
	p.repair(ejected, touched, true)
	return true
}

// journalFrom is the slot request v held before it was last ejected.
func (p *planner) journalFrom(v int32) int32 {
	for i := len(p.journal) - 1; i >= 0; i-- {
		if m := p.journal[i]; m.req == v && m.to == -1 {
			return p.opts[m.from].slot
		}
	}
	return 0
}

// pow2Frac[f] is 2^63 × 2^(-f/16).
var pow2Frac = [16]uint64{
	9223372036854775808, 8832331321595619328, 8457869449776733184, 8099283532826439680,
	7755900482342532096, 7427075746662858752, 7112192101001161728, 6810658488877194240,
	6521908912666391552, 6245401371186603008, 5980616842327661568, 5727058308814112768,
	5484249825272419328, 5251735624851447808, 5029079263719320576, 4815862801830788096,
}

// acceptLoss draws whether to keep a change that loses d > 0 visitors at
// temperature t (in 1/1024 visitor): with probability 2^(-d/t), in integer
// arithmetic, so that every platform makes the same decisions.
func (p *planner) acceptLoss(d int, t int64) bool {
	if t <= 0 {
		return false
	}
	e := int64(d) * 1024 * 16 / t // the exponent, in sixteenths
	if e >= 64*16 {
		return false
	}
	return p.rng.Uint64()>>1 < pow2Frac[e%16]>>(e/16)
}

// searchVisitors maximises the visitors placed by simulated annealing over
// two moves, half and half: insert an unplaced group, or move a placed one
// to another of its options, each ejecting the groups in its way and
// putting them back where they fit. A change that loses d visitors is kept
// with probability 2^(-d/T), T cooling geometrically (temperature); the
// best solution seen is the result, so never worse than the start.
// Ejected groups go back at a random option that fits rather than the
// nearest their preferred start: that packs better, and the last phase
// moves groups back toward their preference. It returns the iterations
// used.
func (p *planner) searchVisitors(budget int) int {
	it := 0
	best := slices.Clone(p.at)
	bestV := p.visitors
	p.randomFit = true
	defer func() { p.randomFit = false }()
	for ; it < budget && len(p.free) > 0; it++ {
		before := p.visitors
		mark := len(p.journal)
		var ok bool
		if p.rng.IntN(2) == 0 {
			ok = p.tryRelocate(ejectLimit)
		} else {
			ok = p.tryInsert(p.free[p.rng.IntN(len(p.free))], ejectLimit, nil)
		}
		if ok {
			d := p.visitors - before
			if d >= 0 || p.acceptLoss(-d, p.temperature(it, budget)) {
				if p.visitors > bestV {
					p.stats.Accepted++
					bestV = p.visitors
					copy(best, p.at)
				}
				p.journal = p.journal[:0]
				continue
			}
		}
		p.revert(mark)
	}
	p.restore(best)
	p.stats.Iterations += it
	return it
}

// temperature is the visitors search's temperature at iteration it of
// budget, in 1/1024 visitor: temp0 × 2^(-coolSixteenths/16 × it/budget), in
// integer arithmetic.
func (p *planner) temperature(it, budget int) int64 {
	e := int64(it) * coolSixteenths / int64(budget) // in sixteenths
	return int64(uint64(p.temp0)*(pow2Frac[e%16]>>32)>>31) >> (e / 16)
}

// ratio is an operator's placed share of its placeable demand, kept as a
// fraction so that comparisons are exact.
type ratio struct{ num, den int64 }

func (a ratio) cmp(b ratio) int { return cmp.Compare(a.num*b.den, b.num*a.den) }

// shares are the operators' placed shares of placeable demand. The ticket
// office is no operator: walk-ins have a share of their own.
func (p *planner) shares(dst []ratio) []ratio {
	dst = dst[:0]
	for o, d := range p.opDemand {
		if d > 0 && p.ops[o] != WalkInOperator {
			dst = append(dst, ratio{int64(p.opPlaced[o]), int64(d)})
		}
	}
	return dst
}

func (p *planner) share(op int32) ratio {
	if p.opDemand[op] == 0 {
		return ratio{1, 1}
	}
	return ratio{int64(p.opPlaced[op]), int64(p.opDemand[op])}
}

// leximin compares share vectors, sorting them in place: positive when a
// is fairer.
func leximin(a, b []ratio) int {
	slices.SortFunc(a, ratio.cmp)
	slices.SortFunc(b, ratio.cmp)
	for i := range min(len(a), len(b)) {
		if c := a[i].cmp(b[i]); c != 0 {
			return c
		}
	}
	return 0
}

// searchFairness raises the lowest operator shares without losing
// visitors: it places a group of a low-share operator by ejecting groups of
// operators whose share stays at least the target's, and keeps the change
// when the share vector improves in the leximin order (or visitors rise).
func (p *planner) searchFairness(budget int) int {
	var cur, next []ratio
	it := 0
	for ; it < budget && len(p.free) > 0; it++ {
		// Target: the lower-share operator of two random unplaced groups.
		u := p.free[p.rng.IntN(len(p.free))]
		if w := p.free[p.rng.IntN(len(p.free))]; p.share(p.reqs[w].op).cmp(p.share(p.reqs[u].op)) < 0 {
			u = w
		}
		target := p.reqs[u].op
		allow := func(v int32) bool {
			o := p.reqs[v].op
			after := p.share(o)
			after.num -= int64(p.reqs[v].n)
			return o != target && after.cmp(p.share(target)) >= 0
		}
		before := p.visitors
		cur = p.shares(cur)
		mark := len(p.journal)
		if p.tryInsert(u, 6, allow) && p.visitors >= before {
			next = p.shares(next)
			if p.visitors > before || leximin(next, cur) > 0 {
				p.stats.Accepted++
				p.journal = p.journal[:0]
				continue
			}
		}
		p.revert(mark)
	}
	p.stats.Iterations += it
	return it
}

// searchPreference moves placed groups nearer their preferred start,
// keeping the same groups placed: first plain moves, then moves that push
// other groups aside.
func (p *planner) searchPreference(budget int) {
	it := 0
	for sweep := 0; sweep < 4 && it < budget; sweep++ {
		improved := false
		for ri := range p.reqs {
			r := int32(ri)
			cur := p.at[r]
			if cur < 0 || p.opts[cur].dev == 0 {
				continue
			}
			it++
			q := &p.reqs[r]
			p.setRaw(r, -1)
			moved := false
			for oi := q.lo; oi < q.hi && p.opts[oi].dev < p.opts[cur].dev; oi++ {
				if p.fits(r, oi) {
					p.setRaw(r, oi)
					moved = true
					break
				}
			}
			if !moved {
				p.setRaw(r, cur)
			} else {
				improved = true
				p.stats.Accepted++
			}
		}
		if !improved {
			break
		}
	}
	for ; it < budget && p.visitors > 0; it++ {
		// A random placed group off its preferred start (none when
		// nothing is placed: an empty day, or no group fits).
		var r int32 = -1
		for range 8 {
			v := int32(p.rng.IntN(len(p.reqs)))
			if p.at[v] >= 0 && p.opts[p.at[v]].dev > 0 {
				r = v
				break
			}
		}
		if r < 0 {
			continue
		}
		q := &p.reqs[r]
		cur := p.at[r]
		better := q.lo
		for better < q.hi && p.opts[better].dev < p.opts[cur].dev {
			better++
		}
		if better == q.lo {
			continue
		}
		oi := q.lo + int32(p.rng.IntN(int(better-q.lo)))
		before, dev := p.visitors, p.dev
		mark := len(p.journal)
		p.set(r, -1)
		ejected, ok := p.makeRoom(r, oi, 3, nil, p.scratch2[:0])
		p.scratch2 = ejected
		if ok {
			p.set(r, oi)
			p.repair(ejected, nil, false)
			if p.visitors == before && p.dev < dev && p.allPlaced(ejected) {
				p.stats.Accepted++
				p.journal = p.journal[:0]
				continue
			}
		}
		p.revert(mark)
	}
	p.stats.Iterations += it
}

func (p *planner) allPlaced(rs []int32) bool {
	for _, r := range rs {
		if p.at[r] < 0 {
			return false
		}
	}
	return true
}

// result turns the solution into a PlanResult.
func (p *planner) result(inst *Instance) PlanResult {
	res := PlanResult{ByOperator: map[string]OperatorShare{}, Unplaced: []string{}, Placed: []Placement{}}
	y, mo, d := inst.Date.Date()
	loc := inst.Date.Location()
	var devSum int64
	for ri := range p.reqs {
		q := &p.reqs[ri]
		op := p.ops[q.op]
		s := res.ByOperator[op]
		s.Requested += int(q.n)
		s.Groups++
		res.Requested += int(q.n)
		if oi := p.at[ri]; oi >= 0 {
			o := p.opts[oi]
			s.Placed += int(q.n)
			s.PlacedGroups++
			res.Visitors += int(q.n)
			devSum += int64(o.dev)
			res.Placed = append(res.Placed, Placement{ID: q.id, Gate: p.gateIDs[o.gate],
				Slot: time.Date(y, mo, d, 0, int(o.minute), 0, 0, loc), Minute: int(o.minute)})
		} else {
			res.Unplaced = append(res.Unplaced, q.id)
		}
		res.ByOperator[op] = s
	}
	for op, s := range res.ByOperator {
		s.Share = float64(s.Placed) / float64(s.Requested)
		res.ByOperator[op] = s
	}
	slices.SortFunc(res.Placed, func(a, b Placement) int {
		return cmp.Or(cmp.Compare(a.Minute, b.Minute), cmp.Compare(a.Gate, b.Gate), cmp.Compare(a.ID, b.ID))
	})
	res.Stats = p.stats
	if sh := p.shares(nil); len(sh) > 0 {
		lo, hi := slices.MinFunc(sh, ratio.cmp), slices.MaxFunc(sh, ratio.cmp)
		res.Stats.MinShare, res.Stats.MaxShare = float64(lo.num)/float64(lo.den), float64(hi.num)/float64(hi.den)
	}
	if len(res.Placed) > 0 {
		res.Stats.MeanDeviationMinutes = math.Round(100*float64(devSum)/float64(len(res.Placed))) / 100
	}
	return res
}
