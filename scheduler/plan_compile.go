package scheduler

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
)

// planner is a compiled instance and its current solution. Capacity is
// kept as slack (what is left), for any group and for operators' groups
// (also within the operators' part), so that a fit is one comparison per
// wave and per bucket.
//
// Index layouts. Everything is an int32 index into a flat slice; names
// are kept only for the result. Gates, zones and routes keep the
// instance's order; operators (ops) are sorted, requests (reqs) sorted by
// id. The gate books gateLeft, gateOpLeft and gateOpSlack are indexed
// gate*nSlots + slot (an option's gi); the zone books zoneLeft, zoneOpLeft
// and zoneOpSlack zone*nBuckets + bucket. The ...OpSlack books are
// min(all, operators' part): the room for an operator's group, where a
// walk-in group checks the ...Left books alone. cellLeft has one entry per
// (operator, gate, slot) that some option of an operator's group uses,
// numbered as compilePlan meets them (an option's cell; -1 for walk-ins);
// dayLeft is per operator. Request ri's options are opts[reqs[ri].lo :
// reqs[ri].hi], nearest the preferred start first, then by minute, and
// within a minute in the route's gate order; only the options that fit
// the instance's remaining capacity on their own are kept. A route's
// stops are compiled into runs (zone, from, to, k): stretches of buckets,
// relative to the entry bucket b0, where the route counts k times its
// group; zoneRuns lists, per zone, the (route, run) pairs that cross it,
// so that blockers finds the groups in one zone bucket by looking at the
// slots that could reach it. An option's footprint (foot) is the same runs
// at its entry bucket, as absolute spans of the zone books, less the
// buckets that can never bind (compileFootprints): fits, load and blockers
// walk it, and fits keeps per footprint what it last found (footMemo)
// until load changes the zone books on the side it knew. The placed
// groups are listed in placedAt (their gates in placedGate), indexed
// slot*len(routes) + route (cellOf); the unplaced groups that have an
// option in free; pos[ri] is ri's index in whichever of those lists holds
// it, so that removal is a swap with the last (removeFrom, unplaceFrom).
// slotReqs lists, per slot, the requests with an option there (repair's
// candidates to fill a slot a move touched).
//
// The journal protocol. set(ri, oi) moves request ri to option oi (-1:
// unplaced) and appends the move (req, from, to) to the journal; setRaw
// makes the same move without journaling, for the passes that never undo
// (the constructions, clear, restore, the preference sweeps, which undo a
// failed try by hand). A search iteration records mark, the journal's
// length, tries one move (ejections, the move, the repair: all through
// set), then either keeps it, emptying the journal, or calls revert(mark),
// which replays the journal backwards with setRaw(req, from) and truncates
// it to mark. Since every kept change and every construction empties the
// journal, it holds only the current try, which is what journalFrom reads
// to find the slot an ejected group held. Loads, visitors, the operators'
// placed visitors and the total deviation are all kept up to date by
// setRaw, so a revert restores them exactly. The best plan seen is kept as
// a copy of at and put back with restore.
//
// The budget split (improve). Of the iterations, the visitors search gets
// three quarters and the fairness search an eighth; each stops early when
// no unplaced group with an option is left, and returns what it used. The
// preference search gets the rest: its own eighth plus what the other two
// left. It first sweeps the placed groups (at most 4 sweeps, one iteration
// per group off its preferred start) moving each to a nearer option that
// fits, then spends what is left on moves that push other groups aside.
// Stats.Iterations is the sum of the three.
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
	rng      *planRand
	stats    PlanStats
	temp0    int64 // initial temperature of the visitors search, in 1/1024 visitor

	// Footprints: the zone buckets an entry of a route at one bucket
	// occupies and that can bind (compileFootprints), one list per (route,
	// entry bucket) that some option uses.
	spans   []planSpan
	footAt  []int32 // footprint f is spans[footAt[f]:footAt[f+1]]
	footHot []int32 // per footprint: the span that failed a fit last
	// footMemo is, per footprint, what it is known to hold at versions
	// verPlace and verLift of the zone books, which load advances when it
	// places a group and when it lifts one.
	footMemo          []footMemo
	verPlace, verLift int64
	footed            bool // fits uses the footprints (after compilePlan)
	// zoneCells[zoneCellAt[i]:zoneCellAt[i+1]] are the placedAt cells
	// whose groups occupy bucket i of the zone books (compileZoneCells).
	zoneCellAt, zoneCells []int32
	walkIns               []bool // request → reqs[ri].walkIn, packed
	// fillBits[s] marks the unplaced requests of slotReqs[s]; slotPos
	// says where each request is in them (plan_fill.go).
	fillBits  [][]uint64
	slotPosAt []int32
	slotPos   []int64
	// placedGate[c][k] is the gate of placedAt[c][k], kept in step
	// (unplaceFrom), so that blockers finds a wave's groups without
	// looking up their options.
	placedGate [][]int32

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
	foot   int32 // footprint: spans[footAt[foot]:footAt[foot+1]]
}

type planRoute struct {
	runs []planRun
	hot  int32 // the run that failed a fit last (compilePlan's fits)
}

// planSpan is a stretch of zone buckets that can bind, as indexes into the
// zone books (zone*nBuckets + bucket, lo <= i < hi), where a footprint
// counts k times its group.
type planSpan struct{ zone, lo, hi, k int32 }

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
	p.compileFootprints()
	p.stats.Groups = len(p.reqs)
	p.stats.Options = len(p.opts)
	p.at = make([]int32, len(p.reqs))
	p.pos = make([]int32, len(p.reqs))
	p.placedAt = make([][]int32, int(p.nSlots)*len(p.routes))
	p.placedGate = make([][]int32, len(p.placedAt))
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
