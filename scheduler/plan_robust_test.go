package scheduler

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// The planner handles every instance: empty ones, one group, zero
// capacity, loads already over capacity. These tests and FuzzPlanner drive
// it with instances decoded from bytes, and check each plan against the
// instance alone (checkInstancePlan), not against a State.

// byteSource reads small numbers from fuzz bytes; past the end it reads
// zeros, so that every byte string is an instance.
type byteSource struct {
	b []byte
	i int
}

func (s *byteSource) next() int {
	if s.i >= len(s.b) {
		return 0
	}
	s.i++
	return int(s.b[s.i-1])
}

// n is a number in [0, k).
func (s *byteSource) n(k int) int { return s.next() % k }

// decodeInstance builds a small planning instance (and a budget) from
// bytes: 0-3 gates, 0-3 zones, 0-4 routes, 0-24 requests, capacities from 0
// (often) to a few hundred, existing loads (sometimes over capacity),
// operators and walk-ins, routes whose stops overlap in one zone.
func decodeInstance(data []byte) (Instance, PlanOptions) {
	src := &byteSource{b: data}
	// The default budget (cheap on so few groups), none, or a short
	// search; any seed.
	opts := PlanOptions{Iterations: []int{0, -1, 1, 50, 500}[src.n(5)], Seed: uint64(src.next())}
	slotMin := []int{5, 10, 15, 30, 60}[src.n(5)]
	res := []int{1, 5}[src.n(2)]
	if slotMin%res != 0 {
		res = 1
	}
	horizon := slotMin * (1 + src.n(4)) * 24 // up to four days' of slots
	capOf := func() int {
		if src.n(4) == 0 {
			return 0
		}
		return src.next() * (1 + src.n(3))
	}
	load := func(n int) []int {
		if src.n(3) != 0 {
			return nil
		}
		out := make([]int, src.n(n+1))
		for i := range out {
			out[i] = src.n(40)
		}
		return out
	}
	nSlots, nBuckets := horizon/slotMin, horizon/res
	inst := Instance{
		Date:        time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		SlotMinutes: slotMin, Resolution: res, Horizon: horizon,
		OperatorDayCapacity: capOf() * 4,
		OperatorDayLoad:     map[string]int{},
	}
	ops := []string{"op-a", "op-b", "op-c", WalkInOperator}
	for i := range src.n(4) {
		c := capOf()
		inst.Gates = append(inst.Gates, PlanGate{ID: fmt.Sprintf("g%d", i), Capacity: c,
			OperatorCapacity: c * src.n(5) / 4, OperatorWaveCapacity: c * src.n(5) / 4,
			Load: load(nSlots), OperatorLoad: load(nSlots)})
	}
	for i := range src.n(4) {
		c := capOf()
		inst.Zones = append(inst.Zones, PlanZone{ID: fmt.Sprintf("z%d", i), Capacity: c,
			OperatorCapacity: c * src.n(5) / 4, Load: load(nBuckets), OperatorLoad: load(nBuckets)})
	}
	for i := range src.n(5) {
		r := PlanRoute{ID: fmt.Sprintf("r%d", i)}
		for _, g := range inst.Gates {
			if src.n(3) != 0 {
				r.Gates = append(r.Gates, g.ID)
			}
		}
		for _, z := range inst.Zones {
			for range src.n(3) { // 0 to 2 stops in the zone, maybe overlapping
				r.Stops = append(r.Stops, Stop{Zone: z.ID, Arrive: src.n(8) * 15, Stay: src.n(16) * 15})
			}
		}
		first, step := src.n(nSlots), 1+src.n(4)
		for s := first; s < nSlots && len(r.Entries) < 40; s += step {
			r.Entries = append(r.Entries, s*slotMin)
		}
		inst.Routes = append(inst.Routes, r)
	}
	for _, o := range ops[:3] {
		if src.n(3) == 0 {
			inst.OperatorDayLoad[o] = src.next()
		}
	}
	for range src.n(4) {
		if len(inst.Gates) > 0 {
			inst.OperatorWaveLoad = append(inst.OperatorWaveLoad, OperatorWaveLoad{Operator: ops[src.n(3)],
				Gate: inst.Gates[src.n(len(inst.Gates))].ID, Slot: src.n(nSlots), Visitors: src.n(40)})
		}
	}
	if len(inst.Routes) > 0 {
		for i := range src.n(25) {
			from := src.n(nSlots) * slotMin
			w := Window{From: from, To: min(from+(1+src.n(24))*slotMin, horizon)}
			q := PlanRequest{ID: fmt.Sprintf("q%02d", i), Operator: ops[src.n(len(ops))],
				Route: inst.Routes[src.n(len(inst.Routes))].ID, PartySize: 1 + src.n(60), Window: w}
			if src.n(2) == 0 {
				q.Preferred = w.From + src.n(w.To-w.From)
			}
			inst.Requests = append(inst.Requests, q)
		}
	}
	return inst, opts
}

// checkInstancePlan checks a plan against its instance alone: every
// request accounted for once; each placement at an entry of its route in
// its window through one of its gates; and, wherever the plan adds
// visitors, waves, zone buckets and the operators' shares within capacity.
func checkInstancePlan(t planTB, inst Instance, res PlanResult) {
	t.Helper()
	byID := map[string]PlanRequest{}
	for _, q := range inst.Requests {
		byID[q.ID] = q
	}
	routes := map[string]PlanRoute{}
	for _, r := range inst.Routes {
		routes[r.ID] = r
	}
	seen := map[string]bool{}
	for _, id := range res.Unplaced {
		if _, ok := byID[id]; !ok || seen[id] {
			t.Fatalf("unplaced %q is unknown or repeated", id)
		}
		seen[id] = true
	}
	nSlots, nBuckets := inst.Horizon/inst.SlotMinutes, inst.Horizon/inst.Resolution
	gateIx, zoneIx := map[string]int{}, map[string]int{}
	for i, g := range inst.Gates {
		gateIx[g.ID] = i
	}
	for i, z := range inst.Zones {
		zoneIx[z.ID] = i
	}
	at := func(xs []int, i int) int {
		if i < len(xs) {
			return xs[i]
		}
		return 0
	}
	type cell struct {
		op   string
		g, s int
	}
	wave, waveOp := map[[2]int]int{}, map[[2]int]int{}
	zone, zoneOp := map[[2]int]int{}, map[[2]int]int{}
	opWave, opDay := map[cell]int{}, map[string]int{}
	visitors := 0
	for _, p := range res.Placed {
		q, ok := byID[p.ID]
		if !ok || seen[p.ID] {
			t.Fatalf("placement %q is unknown or repeated", p.ID)
		}
		seen[p.ID] = true
		r := routes[q.Route]
		if !slices.Contains(r.Entries, p.Minute) || p.Minute < q.Window.From || p.Minute >= q.Window.To || !slices.Contains(r.Gates, p.Gate) {
			t.Fatalf("%s placed at minute %d gate %s: not an entry of route %s in its window %v through its gates", p.ID, p.Minute, p.Gate, r.ID, q.Window)
		}
		if !p.Slot.Equal(inst.Date.Add(time.Duration(p.Minute) * time.Minute)) {
			t.Fatalf("%s: slot %s and minute %d disagree", p.ID, p.Slot, p.Minute)
		}
		visitors += q.PartySize
		walkIn := q.Operator == WalkInOperator
		k := [2]int{gateIx[p.Gate], p.Minute / inst.SlotMinutes}
		wave[k] += q.PartySize
		if !walkIn {
			waveOp[k] += q.PartySize
			opWave[cell{q.Operator, k[0], k[1]}] += q.PartySize
			opDay[q.Operator] += q.PartySize
		}
		for _, st := range r.Stops {
			from, to := (p.Minute+st.Arrive)/inst.Resolution, (p.Minute+st.Arrive+st.Stay)/inst.Resolution
			for b := max(from, 0); b < min(to, nBuckets); b++ {
				zk := [2]int{zoneIx[st.Zone], b}
				zone[zk] += q.PartySize
				if !walkIn {
					zoneOp[zk] += q.PartySize
				}
			}
		}
	}
	if len(seen) != len(inst.Requests) {
		t.Fatalf("%d requests accounted for, want %d", len(seen), len(inst.Requests))
	}
	if visitors != res.Visitors {
		t.Fatalf("result says %d visitors, placements hold %d", res.Visitors, visitors)
	}
	for k, v := range wave {
		g := inst.Gates[k[0]]
		if k[1] >= nSlots || at(g.Load, k[1])+v > g.Capacity {
			t.Fatalf("gate %s slot %d: %d added to %d, capacity %d", g.ID, k[1], v, at(g.Load, k[1]), g.Capacity)
		}
	}
	for k, v := range waveOp {
		g := inst.Gates[k[0]]
		if at(g.OperatorLoad, k[1])+v > g.OperatorCapacity {
			t.Fatalf("gate %s slot %d: %d of operators added to %d, operators' capacity %d", g.ID, k[1], v, at(g.OperatorLoad, k[1]), g.OperatorCapacity)
		}
	}
	for k, v := range opWave {
		g := inst.Gates[k.g]
		before := 0
		for _, w := range inst.OperatorWaveLoad {
			if w.Operator == k.op && w.Gate == g.ID && w.Slot == k.s {
				before += w.Visitors
			}
		}
		if before+v > g.OperatorWaveCapacity {
			t.Fatalf("operator %s at gate %s slot %d: %d added to %d, capacity %d", k.op, g.ID, k.s, v, before, g.OperatorWaveCapacity)
		}
	}
	for op, v := range opDay {
		if inst.OperatorDayLoad[op]+v > inst.OperatorDayCapacity {
			t.Fatalf("operator %s: %d added to %d of the day, capacity %d", op, v, inst.OperatorDayLoad[op], inst.OperatorDayCapacity)
		}
	}
	for k, v := range zone {
		z := inst.Zones[k[0]]
		if at(z.Load, k[1])+v > z.Capacity {
			t.Fatalf("zone %s bucket %d: %d added to %d, capacity %d", z.ID, k[1], v, at(z.Load, k[1]), z.Capacity)
		}
	}
	for k, v := range zoneOp {
		z := inst.Zones[k[0]]
		if at(z.OperatorLoad, k[1])+v > z.OperatorCapacity {
			t.Fatalf("zone %s bucket %d: %d of operators added to %d, operators' capacity %d", z.ID, k[1], v, at(z.OperatorLoad, k[1]), z.OperatorCapacity)
		}
	}
}

// planNoPanic runs PlanInstance and turns a panic into a test failure that
// names the instance.
func planNoPanic(t planTB, inst Instance, opts PlanOptions) (res PlanResult, err error) {
	t.Helper()
	defer func() {
		if v := recover(); v != nil {
			t.Fatalf("PlanInstance panicked: %v\ninstance: %+v\noptions: %+v", v, inst, opts)
		}
	}()
	return PlanInstance(inst, opts)
}

// TestPlannerHandlesEveryInstance: empty instances, one group, zero
// capacity and loads over capacity give a plan (or, for an inconsistent
// instance only, an error), never a panic.
func TestPlannerHandlesEveryInstance(t *testing.T) {
	base := func() Instance {
		return Instance{Date: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), SlotMinutes: 15, Resolution: 5, Horizon: 1440,
			Gates:               []PlanGate{{ID: "g", Capacity: 100, OperatorCapacity: 80, OperatorWaveCapacity: 50}},
			Zones:               []PlanZone{{ID: "z", Capacity: 200, OperatorCapacity: 160}},
			Routes:              []PlanRoute{{ID: "r", Gates: []string{"g"}, Stops: []Stop{{Zone: "z", Arrive: 0, Stay: 60}}, Entries: []int{480, 495, 510}}},
			OperatorDayCapacity: 1000,
			Requests:            []PlanRequest{{ID: "a", Operator: "op", Route: "r", PartySize: 10, Window: Window{480, 600}}},
		}
	}
	tests := []struct {
		name   string
		f      func(*Instance)
		placed int // visitors
	}{
		{"no requests", func(i *Instance) { i.Requests = nil }, 0},
		{"nothing at all", func(i *Instance) { *i = Instance{SlotMinutes: 15, Resolution: 5, Horizon: 1440} }, 0},
		{"one group", func(*Instance) {}, 10},
		{"one walk-in group", func(i *Instance) { i.Requests[0].Operator = WalkInOperator }, 10},
		{"zero gate capacity", func(i *Instance) { i.Gates[0] = PlanGate{ID: "g"} }, 0},
		{"zero zone capacity", func(i *Instance) { i.Zones[0] = PlanZone{ID: "z"} }, 0},
		{"zero day capacity", func(i *Instance) { i.OperatorDayCapacity = 0 }, 0},
		{"no entries left", func(i *Instance) { i.Routes[0].Entries = nil }, 0},
		{"no gates on the route", func(i *Instance) { i.Routes[0].Gates = nil }, 0},
		{"load over capacity", func(i *Instance) {
			i.Gates[0].Load = slices.Repeat([]int{150}, 96)
			i.Zones[0].Load = slices.Repeat([]int{300}, 288)
		}, 0},
		{"window outside the entries", func(i *Instance) { i.Requests[0].Window = Window{0, 60} }, 0},
		{"every group without an option", func(i *Instance) {
			i.Gates[0].Capacity = 5
			i.Requests = append(i.Requests, PlanRequest{ID: "b", Operator: "op2", Route: "r", PartySize: 30, Window: Window{480, 600}})
		}, 0},
	}
	for _, tt := range tests {
		for _, iters := range []int{0, -1, 1, 100} {
			t.Run(fmt.Sprintf("%s/iterations=%d", tt.name, iters), func(t *testing.T) {
				inst := base()
				tt.f(&inst)
				res, err := planNoPanic(t, inst, PlanOptions{Iterations: iters})
				if err != nil {
					t.Fatalf("PlanInstance: %v", err)
				}
				checkInstancePlan(t, inst, res)
				if res.Visitors != tt.placed {
					t.Fatalf("placed %d visitors, want %d", res.Visitors, tt.placed)
				}
				if res.Placed == nil || res.Unplaced == nil || res.ByOperator == nil {
					t.Fatalf("plan has nil lists (they encode as null): %+v", res)
				}
			})
		}
	}
}

// TestPlanDayOfAnEmptyDayIsAnEmptyPlan: planning a date with nothing to
// plan answers an empty plan.
func TestPlanDayOfAnEmptyDayIsAnEmptyPlan(t *testing.T) {
	cfg := petra(t)
	s := New(cfg)
	var res PlanResult
	var err error
	func() {
		defer func() {
			if v := recover(); v != nil {
				t.Fatalf("PlanDay of an empty day panicked: %v", v)
			}
		}()
		res, err = s.PlanDay(testNow(cfg), "2026-12-01", nil)
	}()
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Placed) != 0 || len(res.Unplaced) != 0 || res.Visitors != 0 || res.Requested != 0 {
		t.Fatalf("plan of an empty day: %+v", res)
	}
}

// TestPlannerNeverPanicsOnRandomInstances: on random small instances (the
// fuzz target's decoder, driven by rapid), the planner never panics and
// every plan fits its instance.
func TestPlannerNeverPanicsOnRandomInstances(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		inst, opts := decodeInstance(rapid.SliceOfN(rapid.Byte(), 0, 400).Draw(t, "bytes"))
		res, err := planNoPanic(t, inst, opts)
		if err != nil {
			t.Fatalf("PlanInstance: %v", err)
		}
		checkInstancePlan(t, inst, res)
	})
}

// FuzzPlanner plans random instances: no panic, no error (the decoder
// builds consistent instances only), and a plan that fits its instance.
func FuzzPlanner(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{2, 1, 0, 1, 1, 3, 1, 1, 3, 3, 0, 0, 0, 0, 1, 3, 9, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		inst, opts := decodeInstance(data)
		res, err := planNoPanic(t, inst, opts)
		if err != nil {
			t.Fatalf("PlanInstance: %v", err)
		}
		checkInstancePlan(t, inst, res)
	})
}
