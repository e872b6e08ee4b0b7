package scheduler

// compileZoneCells lists, for every zone bucket that some footprint holds
// (the only buckets blockers may find lacking), the placedAt cells whose
// groups occupy it: zoneCells[zoneCellAt[i]:zoneCellAt[i+1]] for bucket
// i of the zone books. They are in the order blockers used to visit them
// (the zone's runs in zoneRuns order, then the slots in order), less the
// cells no option uses (always empty), so that blockers lists the groups
// in a lacking bucket in the same order, without a division or a check a
// group. walkIns packs the requests' walk-in flags for the same loop.
func (p *planner) compileZoneCells() {
	nr := int32(len(p.routes))
	used := make([]bool, int(p.nSlots)*int(nr))
	for ri := range p.reqs {
		q := &p.reqs[ri]
		for oi := q.lo; oi < q.hi; oi++ {
			used[p.cellOf(q, oi)] = true
		}
	}
	held := make([]bool, len(p.zoneLeft))
	for _, sp := range p.spans {
		for i := sp.lo; i < sp.hi; i++ {
			held[i] = true
		}
	}
	p.zoneCellAt = make([]int32, len(p.zoneLeft)+1)
	p.zoneCells = p.zoneCells[:0]
	for i := range held {
		p.zoneCellAt[i] = int32(len(p.zoneCells))
		if !held[i] {
			continue
		}
		zone, bucket := int32(i)/p.nBuckets, int32(i)%p.nBuckets
		for _, zr := range p.zoneRuns[zone] {
			// Entries e (in buckets) with e+from <= bucket < e+to.
			s0 := max((bucket-zr.run.to+1)*p.res/p.slotMin, 0)
			s1 := min((bucket-zr.run.from)*p.res/p.slotMin, p.nSlots-1)
			for s := s0; s <= s1; s++ {
				if e := s * p.slotMin / p.res; e+zr.run.from > bucket || bucket >= e+zr.run.to {
					continue
				}
				if c := s*nr + zr.route; used[c] {
					p.zoneCells = append(p.zoneCells, c)
				}
			}
		}
	}
	p.zoneCellAt[len(held)] = int32(len(p.zoneCells))
	p.compileFill()
	p.walkIns = make([]bool, len(p.reqs))
	for ri := range p.reqs {
		p.walkIns[ri] = p.reqs[ri].walkIn
	}
}
