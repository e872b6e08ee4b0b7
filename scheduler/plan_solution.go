package scheduler

import "math"

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
	if !p.footed {
		return p.fitsRuns(q, o, zones)
	}
	f := o.foot
	if q.walkIn {
		return p.fitsFoot(f, n, zones)
	}
	// What the zones hold changes only when a group is placed or lifted
	// (load): a footprint that fails a group fails every larger one and
	// holds every smaller one that it held. Placing a group only takes
	// room, so what failed still fails until a group is lifted; lifting
	// one only gives room, so what held still holds until a group is
	// placed. The many fits of a repair on the same few footprints are
	// answered from that.
	m := &p.footMemo[f]
	if m.noVer != p.verLift {
		m.noVer, m.no = p.verLift, math.MaxInt32
	} else if n >= m.no {
		return false
	}
	if m.yesVer != p.verPlace {
		m.yesVer, m.yes = p.verPlace, 0
	} else if n <= m.yes {
		return true
	}
	// One scan tells more than whether n fits: the largest group that
	// fits (when n does), or a smaller group that fails (when n does not).
	ok, bound := p.footBound(f, n, zones)
	if ok {
		m.yes = bound
	} else {
		m.no = bound
	}
	return ok
}

// footMemo is what one footprint is known to hold: every group of at
// most yes visitors while no group is placed after version yesVer of the
// placements, none of no or more while no group is lifted after version
// noVer of the lifts (operators' groups).
type footMemo struct {
	yesVer, noVer int64
	yes, no       int32
}

// fitsFoot reports whether footprint f holds a group of n in zones. The
// span that failed last is tried first: it is likely to fail again.
func (p *planner) fitsFoot(f, n int32, zones []int32) bool {
	f0, f1 := p.footAt[f], p.footAt[f+1]
	if f0 == f1 {
		return true
	}
	hot := p.footHot[f]
	if sp := &p.spans[hot]; !fitsSpan(zones[sp.lo:sp.hi], sp.k*n) {
		return false
	}
	for j := f0; j < f1; j++ {
		sp := &p.spans[j]
		if j != hot && !fitsSpan(zones[sp.lo:sp.hi], sp.k*n) {
			p.footHot[f] = j
			return false
		}
	}
	return true
}

// footBound is fitsFoot of an operators' group (n > 0), with what the
// scan shows besides: when n fits, bound is the largest group that fits
// (every bucket i holds k_i × bound); when it does not, bound is the
// smallest group that the failing bucket turns away (k × bound exceeds
// it), at most n.
func (p *planner) footBound(f, n int32, zones []int32) (ok bool, bound int32) {
	f0, f1 := p.footAt[f], p.footAt[f+1]
	bound = math.MaxInt32
	if f0 == f1 {
		return true, bound
	}
	hot := p.footHot[f]
	sp := &p.spans[hot]
	v, ok := spanMin(zones[sp.lo:sp.hi], sp.k*n)
	if !ok {
		return false, v/sp.k + 1
	}
	bound = min(bound, v/sp.k)
	for j := f0; j < f1; j++ {
		if j == hot {
			continue
		}
		sp := &p.spans[j]
		v, ok := spanMin(zones[sp.lo:sp.hi], sp.k*n)
		if !ok {
			p.footHot[f] = j
			return false, v/sp.k + 1
		}
		bound = min(bound, v/sp.k)
	}
	return true, bound
}

// spanMin is the least of zs when none is below kn (ok), else the first
// below it.
func spanMin(zs []int32, kn int32) (least int32, ok bool) {
	least = math.MaxInt32
	for _, v := range zs {
		if v < kn {
			return v, false
		}
		least = min(least, v)
	}
	return least, true
}

func fitsSpan(zs []int32, kn int32) bool {
	for _, v := range zs {
		if v < kn {
			return false
		}
	}
	return true
}

// fitsRuns is the zone part of fitsOpt over the route's runs, every bucket
// of them: compilePlan's check, before the footprints are built.
func (p *planner) fitsRuns(q *planReq, o *planOpt, zones []int32) bool {
	n := q.n
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
	// The zone books change: what footMemo knows of every footprint
	// holds no more on one side.
	if sign > 0 {
		p.verPlace++
	} else {
		p.verLift++
	}
	for _, sp := range p.spans[p.footAt[o.foot]:p.footAt[o.foot+1]] {
		kn := sp.k * n
		all, op, slack := p.zoneLeft[sp.lo:sp.hi], p.zoneOpLeft[sp.lo:sp.hi], p.zoneOpSlack[sp.lo:sp.hi]
		if q.walkIn {
			for i := range all {
				all[i] -= kn
				slack[i] = min(all[i], op[i])
			}
			continue
		}
		// An operators' group takes the same from both books, so from
		// their minimum too.
		op, slack = op[:len(all)], slack[:len(all)]
		for i := range all {
			all[i] -= kn
			op[i] -= kn
			slack[i] -= kn
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
		p.unplaceFrom(p.cellOf(q, from), ri)
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
		p.placedGate[c] = append(p.placedGate[c], p.opts[oi].gate)
		p.visitors += int(q.n)
		p.opPlaced[q.op] += int(q.n)
		p.dev += int64(p.opts[oi].dev)
	} else {
		p.pos[ri] = int32(len(p.free))
		p.free = append(p.free, ri)
	}
	if from < 0 || oi < 0 {
		p.markFill(ri, oi < 0)
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

// unplaceFrom takes request ri off cell c's placedAt list, as removeFrom
// does, and its gate off placedGate in step.
func (p *planner) unplaceFrom(c, ri int32) {
	l, g := p.placedAt[c], p.placedGate[c]
	i, last := p.pos[ri], len(l)-1
	l[i], g[i] = l[last], g[last]
	p.pos[l[i]] = i
	p.placedAt[c], p.placedGate[c] = l[:last], g[:last]
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
