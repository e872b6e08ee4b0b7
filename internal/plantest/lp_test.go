package plantest

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"pgregory.net/rapid"

	"github.com/tafweej/tafweej/scheduler"
)

var updateLP = flag.Bool("update-lp", false, "rewrite testdata/plan/*.lp golden files")

// TestLPGolden pins the model writer on a tiny instance
// (testdata/plan/tiny.lp; rewrite with -update-lp).
func TestLPGolden(t *testing.T) {
	inst := scheduler.Instance{SlotMinutes: 15, Resolution: 15, Horizon: 24 * 60,
		Gates:               []scheduler.PlanGate{{ID: "g", Capacity: 50, OperatorCapacity: 40, OperatorWaveCapacity: 30, Load: []int{0, 10}}},
		Zones:               []scheduler.PlanZone{{ID: "z", Capacity: 60, OperatorCapacity: 48}},
		Routes:              []scheduler.PlanRoute{{ID: "r", Gates: []string{"g"}, Stops: []scheduler.Stop{{Zone: "z", Arrive: 0, Stay: 30}}, Entries: []int{0, 15, 30}}},
		OperatorDayCapacity: 1000,
		Requests: []scheduler.PlanRequest{
			{ID: "a", Operator: "o1", Route: "r", PartySize: 25, Window: scheduler.Window{From: 0, To: 45}},
			{ID: "b", Operator: "o2", Route: "r", PartySize: 20, Window: scheduler.Window{From: 0, To: 30}},
			{ID: "c", Operator: scheduler.WalkInOperator, Route: "r", PartySize: 15, Window: scheduler.Window{From: 15, To: 45}},
			{ID: "d", Operator: "o1", Route: "r", PartySize: 10, Window: scheduler.Window{From: 0, To: 15}},
		},
	}
	var buf bytes.Buffer
	if err := buildLP(inst).writeLP(&buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "plan", "tiny.lp")
	if *updateLP {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("model differs from %s (rewrite with -update-lp if intended):\n%s", golden, buf.String())
	}
	// The planner finds the optimum of the tiny case.
	res, err := scheduler.PlanInstance(inst, scheduler.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	model := buildLP(inst)
	if _, err := model.value(res); err != nil {
		t.Fatal(err)
	}
	if best := model.bruteForce(); res.Visitors != best {
		t.Fatalf("planner placed %d visitors (%v), the optimum is %d", res.Visitors, res.Placed, best)
	}
}

// bruteForce is the optimum of a small model by enumeration.
func (m lpModel) bruteForce() int {
	byReq := map[string][]int{}
	var reqs []string
	for i, v := range m.vars {
		if byReq[v.req] == nil {
			reqs = append(reqs, v.req)
		}
		byReq[v.req] = append(byReq[v.req], i)
	}
	x := make([]int, len(m.vars))
	feasible := func() bool {
		for _, r := range m.rows {
			sum := 0
			for _, t := range r.terms {
				sum += t.coef * x[t.v]
			}
			if sum > r.rhs {
				return false
			}
		}
		return true
	}
	best := 0
	var walk func(i, obj int)
	walk = func(i, obj int) {
		if !feasible() {
			return
		}
		if i == len(reqs) {
			best = max(best, obj)
			return
		}
		walk(i+1, obj)
		for _, v := range byReq[reqs[i]] {
			x[v] = 1
			walk(i+1, obj+m.vars[v].obj)
			x[v] = 0
		}
	}
	walk(0, 0)
	return best
}

// genInstance draws a small standalone instance: gates and zones with
// random capacities and loads (negative slack included), routes whose
// stops may overlap in one zone, walk-ins and operators with shares.
func genInstance(t *rapid.T, maxReqs int) scheduler.Instance {
	inst := scheduler.Instance{SlotMinutes: 15, Resolution: rapid.SampledFrom([]int{5, 15}).Draw(t, "res"), Horizon: 8 * 60,
		OperatorDayCapacity: rapid.IntRange(0, 400).Draw(t, "day")}
	nSlots := inst.Horizon / inst.SlotMinutes
	nBuckets := inst.Horizon / inst.Resolution
	load := func(n, most int, label string) []int {
		if rapid.Bool().Draw(t, label+"-none") {
			return nil
		}
		out := make([]int, n)
		for i := range out {
			out[i] = rapid.IntRange(-5, most).Draw(t, label)
		}
		return out
	}
	for g := range rapid.IntRange(1, 3).Draw(t, "gates") {
		c := rapid.IntRange(0, 120).Draw(t, "gcap")
		inst.Gates = append(inst.Gates, scheduler.PlanGate{ID: fmt.Sprintf("g%d", g), Capacity: c,
			OperatorCapacity: rapid.IntRange(0, c).Draw(t, "gop"), OperatorWaveCapacity: rapid.IntRange(0, c).Draw(t, "gwave"),
			Load: load(nSlots, 40, "gload"), OperatorLoad: load(nSlots, 30, "gopload")})
	}
	for z := range rapid.IntRange(1, 3).Draw(t, "zones") {
		c := rapid.IntRange(0, 200).Draw(t, "zcap")
		inst.Zones = append(inst.Zones, scheduler.PlanZone{ID: fmt.Sprintf("z%d", z), Capacity: c,
			OperatorCapacity: rapid.IntRange(0, c).Draw(t, "zop"), Load: load(nBuckets, 60, "zload"), OperatorLoad: load(nBuckets, 40, "zopload")})
	}
	for r := range rapid.IntRange(1, 3).Draw(t, "routes") {
		rt := scheduler.PlanRoute{ID: fmt.Sprintf("r%d", r)}
		for _, g := range inst.Gates {
			if rapid.Bool().Draw(t, "usegate") || len(rt.Gates) == 0 {
				rt.Gates = append(rt.Gates, g.ID)
			}
		}
		for range rapid.IntRange(0, 3).Draw(t, "stops") {
			rt.Stops = append(rt.Stops, scheduler.Stop{Zone: rapid.SampledFrom(inst.Zones).Draw(t, "zone").ID,
				Arrive: inst.Resolution * rapid.IntRange(0, 12).Draw(t, "arrive"), Stay: inst.Resolution * rapid.IntRange(1, 8).Draw(t, "stay")})
		}
		for m := 0; m < inst.Horizon; m += inst.SlotMinutes {
			if rapid.IntRange(0, 3).Draw(t, "entry") > 0 {
				rt.Entries = append(rt.Entries, m)
			}
		}
		inst.Routes = append(inst.Routes, rt)
	}
	ops := []string{"a", "b", scheduler.WalkInOperator}
	for i := range rapid.IntRange(1, maxReqs).Draw(t, "reqs") {
		from := 15 * rapid.IntRange(0, nSlots-1).Draw(t, "from")
		w := scheduler.Window{From: from, To: from + 15*rapid.IntRange(1, 6).Draw(t, "len")}
		inst.Requests = append(inst.Requests, scheduler.PlanRequest{ID: fmt.Sprintf("q%02d", i), Operator: rapid.SampledFrom(ops).Draw(t, "op"),
			Route: rapid.SampledFrom(inst.Routes).Draw(t, "route").ID, PartySize: rapid.IntRange(1, 60).Draw(t, "size"),
			Window: w, Preferred: rapid.IntRange(w.From, w.To-1).Draw(t, "pref")})
	}
	return inst
}

// TestPlanInstanceProperty: on random instances, every plan is a feasible
// solution of the independent model, and on the smallest the planner finds
// the optimum.
func TestPlanInstanceProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		inst := genInstance(t, 7)
		res, err := scheduler.PlanInstance(inst, scheduler.PlanOptions{Iterations: 3000})
		if err != nil {
			t.Fatal(err)
		}
		m := buildLP(inst)
		obj, err := m.value(res)
		if err != nil {
			t.Fatal(err)
		}
		if obj != res.Visitors || len(res.Placed)+len(res.Unplaced) != len(inst.Requests) {
			t.Fatalf("model counts %d visitors, planner %d; %d placed and %d unplaced of %d", obj, res.Visitors, len(res.Placed), len(res.Unplaced), len(inst.Requests))
		}
		if best := m.bruteForce(); res.Visitors != best {
			t.Fatalf("planner placed %d visitors, the optimum is %d", res.Visitors, best)
		}
	})
}
