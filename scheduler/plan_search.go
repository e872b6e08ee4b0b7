package scheduler

import (
	"cmp"
	"slices"
)

// Search parameters, chosen on the CBC comparison of plan_cbc_test.go (none
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

// improve runs the local search for at most iters iterations.
func (p *planner) improve(iters int) {
	used := p.searchVisitors(iters * 3 / 4)
	used += p.searchFairness(iters / 8)
	p.searchPreference(iters - used)
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
