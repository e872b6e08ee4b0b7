package scheduler

import (
	"cmp"
	"slices"
)

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
// is false when ri fits there. again says that the last call was for the
// same ri and oi and that groups have only been lifted since (makeRoom's
// ejections): lifting only gives room, so what ri lacks now is what it
// lacked then less what it no longer lacks, in the same order, and the
// last list is filtered instead of scanning the footprint again.
func (p *planner) blockers(dst []int32, ri, oi int32, again bool) (_ []int32, lacking bool) {
	q := &p.reqs[ri]
	o := &p.opts[oi]
	n := q.n
	// The resources it lacks, packed as kind | k<<8 | i<<32 in an int64
	// each (i a zone bucket's index in the zone books, k the footprint's
	// count there); one is drawn at random.
	var lack []int64
	if again {
		lack = p.lack[:0]
		for _, r := range p.lack {
			kind, kn, i := r&0xff, int32(r>>8&0xffffff)*n, int32(r>>32)
			var short bool
			switch kind {
			case resGate:
				short = p.gateLeft[o.gi] < n
			case resGateOp:
				short = p.gateOpLeft[o.gi] < n
			case resCell:
				short = p.cellLeft[o.cell] < n
			case resDay:
				short = p.dayLeft[q.op] < n
			case resZone:
				short = p.zoneLeft[i] < kn
			case resZoneOp:
				short = p.zoneOpLeft[i] < kn
			}
			if short {
				lack = append(lack, r)
			}
		}
	} else {
		lack = p.scanLack(q, o)
	}
	p.lack = lack
	if len(lack) == 0 {
		return dst, false
	}
	pick := lack[p.rng.IntN(len(lack))]
	kind, i := int(pick&0xff), int32(pick>>32)
	nr := int32(len(p.routes))
	switch kind {
	case resGate, resGateOp, resCell:
		for r := range nr {
			c := o.slot*nr + r
			gates := p.placedGate[c]
			for k, v := range p.placedAt[c] {
				if gates[k] != o.gate || kind != resGate && p.walkIns[v] || kind == resCell && p.reqs[v].op != q.op {
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
		// The groups placed in the cells that occupy the bucket
		// (compileZoneCells).
		for _, c := range p.zoneCells[p.zoneCellAt[i]:p.zoneCellAt[i+1]] {
			list := p.placedAt[c]
			if kind == resZone {
				dst = append(dst, list...)
				continue
			}
			for _, v := range list {
				if !p.walkIns[v] {
					dst = append(dst, v)
				}
			}
		}
	}
	return dst, true
}

// scanLack lists the resources request q lacks at option o, in order: the
// wave, its operators' part, the operator's part of it, the operator's
// day, then the footprint's zone buckets (each bucket its room, then its
// operators' part).
func (p *planner) scanLack(q *planReq, o *planOpt) []int64 {
	n := q.n
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
	for _, sp := range p.spans[p.footAt[o.foot]:p.footAt[o.foot+1]] {
		kn := sp.k * n
		for i := sp.lo; i < sp.hi; i++ {
			if zones[i] >= kn {
				continue // the common case: one comparison
			}
			if p.zoneLeft[i] < kn {
				lack = append(lack, resZone|int64(sp.k)<<8|int64(i)<<32)
			}
			if !q.walkIn && p.zoneOpLeft[i] < kn {
				lack = append(lack, resZoneOp|int64(sp.k)<<8|int64(i)<<32)
			}
		}
	}
	return lack
}

// makeRoom ejects placed groups allowed by allow until request ri fits at
// option oi, at most limit of them. The ejected groups are appended to
// out.
func (p *planner) makeRoom(ri, oi int32, limit int, allow func(int32) bool, out []int32) ([]int32, bool) {
	again := false // blockers has not seen ri at oi yet
	for {
		if limit == 0 {
			return out, p.fits(ri, oi)
		}
		// One scan of ri's footprint tells whether it fits and, if not,
		// what is in the way.
		c, lacking := p.blockers(p.scratch[:0], ri, oi, again)
		p.scratch = c
		again = true
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
		// The unplaced ones from start to the end, then from the list's
		// beginning to start (fillBits: placeBest changes only v's mark).
		b := p.fillBits[s]
		for _, to := range [2]int{len(list), start} {
			from := start
			if to == start {
				from = 0
			}
			for j := nextFill(b, from); j < to; j = nextFill(b, j+1) {
				if tries++; tries > fillTries {
					return
				}
				p.placeBest(list[j])
			}
		}
	}
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
