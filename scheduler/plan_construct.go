package scheduler

import (
	"cmp"
	"math"
	"slices"
)

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
