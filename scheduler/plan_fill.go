package scheduler

import "math/bits"

// The repair's fill tries the unplaced groups of a touched slot's list
// (slotReqs) in the list's order from a random start. On a large day
// most of a list is placed, and walking it to find the few that are not
// was a third of the planner's time; fillBits marks, per slot, the
// positions of the list whose request is unplaced, so the fill jumps from
// one to the next. setRaw keeps it (markFill) whenever a request goes
// from unplaced to placed or back: slotPos lists where each request
// appears, slotPos[slotPosAt[ri]:slotPosAt[ri+1]] as slot<<32 | position.

// compileFill builds fillBits and slotPos with every request unplaced.
func (p *planner) compileFill() {
	p.fillBits = make([][]uint64, len(p.slotReqs))
	p.slotPosAt = make([]int32, len(p.reqs)+1)
	for _, list := range p.slotReqs {
		for _, v := range list {
			p.slotPosAt[v+1]++
		}
	}
	for ri := range p.reqs {
		p.slotPosAt[ri+1] += p.slotPosAt[ri]
	}
	p.slotPos = make([]int64, p.slotPosAt[len(p.reqs)])
	next := make([]int32, len(p.reqs))
	copy(next, p.slotPosAt[:len(p.reqs)])
	for s, list := range p.slotReqs {
		b := make([]uint64, (len(list)+63)/64)
		for j, v := range list {
			b[j/64] |= 1 << (j % 64)
			p.slotPos[next[v]] = int64(s)<<32 | int64(j)
			next[v]++
		}
		p.fillBits[s] = b
	}
}

// markFill marks request ri unplaced (or placed) in every slot list that
// holds it.
func (p *planner) markFill(ri int32, unplaced bool) {
	for _, sj := range p.slotPos[p.slotPosAt[ri]:p.slotPosAt[ri+1]] {
		s, j := sj>>32, sj&0xffffffff
		if unplaced {
			p.fillBits[s][j/64] |= 1 << (j % 64)
		} else {
			p.fillBits[s][j/64] &^= 1 << (j % 64)
		}
	}
}

// nextFill is the first position at or after j marked in b, or
// len(b)×64 when there is none.
func nextFill(b []uint64, j int) int {
	w := j / 64
	if w >= len(b) {
		return len(b) * 64
	}
	if x := b[w] >> (j % 64); x != 0 {
		return j + bits.TrailingZeros64(x)
	}
	for w++; w < len(b); w++ {
		if b[w] != 0 {
			return w*64 + bits.TrailingZeros64(b[w])
		}
	}
	return len(b) * 64
}
