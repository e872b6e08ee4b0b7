package scheduler

import (
	"fmt"
	"testing"

	"pgregory.net/rapid"
)

// TestFootprintFitsAsTheWholeRoute: fits, which looks only at the zone
// buckets that can bind (compileFootprints) and answers repeated questions
// from its memo, gives the answer of a check of every bucket of the route
// against loads recounted from scratch, in every state the planner can
// reach by placing and lifting groups.
func TestFootprintFitsAsTheWholeRoute(t *testing.T) {
	cfg := tight(petra(t))
	ops := []string{"op-a", "op-b", "op-c", WalkInOperator}
	routes := []string{"main", "monastery", "high-place", "back-trail", "petra-by-night"}
	rapid.Check(t, func(t *rapid.T) {
		now := testNow(cfg)
		date := "2026-12-01"
		s := New(cfg)
		var reqs []PlanRequest
		for i := range rapid.IntRange(1, 80).Draw(t, "n") {
			from := rapid.IntRange(hm(6, 0), hm(20, 0)).Draw(t, "from") / 15 * 15
			w := Window{from, min(from+15*rapid.IntRange(1, 12).Draw(t, "len"), 24*60)}
			reqs = append(reqs, PlanRequest{ID: fmt.Sprintf("rq%03d", i), Operator: rapid.SampledFrom(ops).Draw(t, "op"),
				Route: rapid.SampledFrom(routes).Draw(t, "route"), PartySize: rapid.IntRange(1, cfg.Policy.MaxPartySize).Draw(t, "size"),
				Window: w})
		}
		inst, err := s.DayInstance(now, date, reqs)
		if err != nil {
			t.Fatal(err)
		}
		p, err := compilePlan(&inst)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.opts) == 0 {
			return
		}
		// The zone books as compiled, before anything is placed.
		all0, op0 := append([]int32(nil), p.zoneLeft...), append([]int32(nil), p.zoneOpLeft...)
		whole := func(ri, oi int32) bool {
			all, op := append([]int32(nil), all0...), append([]int32(nil), op0...)
			for r, o := range p.at {
				if o < 0 {
					continue
				}
				q := &p.reqs[r]
				for _, run := range p.routes[q.route].runs {
					lo, hi := p.clip(p.opts[o].b0+run.from), p.clip(p.opts[o].b0+run.to)
					for b := lo; b < hi; b++ {
						all[run.zone*p.nBuckets+b] -= run.k * q.n
						if !q.walkIn {
							op[run.zone*p.nBuckets+b] -= run.k * q.n
						}
					}
				}
			}
			q, o := &p.reqs[ri], &p.opts[oi]
			if q.walkIn && p.gateLeft[o.gi] < q.n ||
				!q.walkIn && (p.gateOpSlack[o.gi] < q.n || p.dayLeft[q.op] < q.n || p.cellLeft[o.cell] < q.n) {
				return false
			}
			for _, run := range p.routes[q.route].runs {
				lo, hi := p.clip(o.b0+run.from), p.clip(o.b0+run.to)
				for b := lo; b < hi; b++ {
					i := run.zone*p.nBuckets + b
					if all[i] < run.k*q.n || !q.walkIn && op[i] < run.k*q.n {
						return false
					}
				}
			}
			return true
		}
		for range rapid.IntRange(1, 60).Draw(t, "steps") {
			ri := int32(rapid.IntRange(0, len(p.reqs)-1).Draw(t, "req"))
			q := &p.reqs[ri]
			if q.hi == q.lo {
				continue
			}
			if p.at[ri] >= 0 && rapid.Bool().Draw(t, "lift") {
				p.setRaw(ri, -1)
				continue
			}
			oi := q.lo + int32(rapid.IntRange(0, int(q.hi-q.lo)-1).Draw(t, "opt"))
			cur := p.at[ri]
			p.setRaw(ri, -1)
			got, want := p.fits(ri, oi), whole(ri, oi)
			if got != want {
				t.Fatalf("request %s at %d gate %d: fits says %v, the whole route %v", q.id, p.opts[oi].minute, p.opts[oi].gate, got, want)
			}
			if got != p.fits(ri, oi) {
				t.Fatal("fits answered twice differently")
			}
			switch {
			case got:
				p.setRaw(ri, oi)
			case cur >= 0:
				p.setRaw(ri, cur)
			}
		}
	})
}
