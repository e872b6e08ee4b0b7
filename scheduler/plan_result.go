package scheduler

import (
	"cmp"
	"math"
	"slices"
	"time"
)

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
