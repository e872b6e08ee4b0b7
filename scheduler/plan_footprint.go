package scheduler

// compileFootprints gives every option its footprint: the zone buckets an
// entry of its route at its entry bucket occupies, keeping only those that
// can bind. A bucket cannot bind when every request that may use it, each
// counted at the largest share any of its options puts there, fits in what
// the bucket has left (all groups against the bucket's room, operators'
// groups against the operators' part too): no placement of the others can
// then keep a group out of it, so fits, load and blockers skip it. On a
// day most buckets of a route's long stays are of that kind, and a fit
// scans a fraction of the route. The footprint's spans keep the order of
// the route's runs, so blockers lists what a group lacks in the same order
// as over the whole route, and the search makes the same choices.
func (p *planner) compileFootprints() {
	nz := int32(len(p.zoneLeft))
	maxAll := make([]int64, nz) // most visitors the requests may put in a bucket
	maxOp := make([]int64, nz)  // the same, operators' groups only
	cur := make([]int64, nz)    // one request's largest share, per bucket
	stamp := make([]int32, nz)  // request+1 that cur holds, per bucket
	var touched []int32
	for ri := range p.reqs {
		q := &p.reqs[ri]
		touched = touched[:0]
		for oi := q.lo; oi < q.hi; oi++ {
			o := &p.opts[oi]
			for _, r := range p.routes[q.route].runs {
				lo, hi := p.clip(o.b0+r.from), p.clip(o.b0+r.to)
				base := r.zone * p.nBuckets
				kn := int64(r.k) * int64(q.n)
				for i := base + lo; i < base+hi; i++ {
					if stamp[i] != int32(ri)+1 {
						stamp[i] = int32(ri) + 1
						cur[i] = 0
						touched = append(touched, i)
					}
					cur[i] = max(cur[i], kn)
				}
			}
		}
		for _, i := range touched {
			maxAll[i] += cur[i]
			if !q.walkIn {
				maxOp[i] += cur[i]
			}
		}
	}
	binds := make([]bool, nz)
	for i := range binds {
		binds[i] = maxAll[i] > int64(p.zoneLeft[i]) || maxOp[i] > int64(p.zoneOpLeft[i])
	}
	type footKey struct{ route, b0 int32 }
	foots := map[footKey]int32{}
	p.footAt = append(p.footAt[:0], 0)
	for ri := range p.reqs {
		q := &p.reqs[ri]
		for oi := q.lo; oi < q.hi; oi++ {
			o := &p.opts[oi]
			k := footKey{q.route, o.b0}
			f, ok := foots[k]
			if !ok {
				f = int32(len(p.footAt) - 1)
				foots[k] = f
				for _, r := range p.routes[q.route].runs {
					lo, hi := p.clip(o.b0+r.from), p.clip(o.b0+r.to)
					base := r.zone * p.nBuckets
					for i := base + lo; i < base+hi; {
						if !binds[i] {
							i++
							continue
						}
						j := i
						for j < base+hi && binds[j] {
							j++
						}
						p.spans = append(p.spans, planSpan{zone: r.zone, lo: i, hi: j, k: r.k})
						i = j
					}
				}
				p.footAt = append(p.footAt, int32(len(p.spans)))
				p.footHot = append(p.footHot, p.footAt[f])
			}
			o.foot = f
		}
	}
	p.footMemo = make([]footMemo, len(p.footHot))
	p.verPlace, p.verLift = 1, 1
	p.footed = true
	p.compileZoneCells()
}
