package scheduler

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// planCase is a generated day to plan: a state (with its bookings and
// closures), the time of planning, the date and the requests.
type planCase struct {
	name string
	s    *State
	now  time.Time
	date string
	reqs []PlanRequest
}

// planTB is what the plan checks need of *testing.T and *rapid.T.
type planTB interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// checkPlan verifies a plan independently of the planner: every request is
// placed or unplaced exactly once, placements are in their windows, at
// their route's gates, not over or closed, and the placements replayed one
// by one through room() fit; then the day's loads recomputed from scratch
// from all bookings are within every capacity and share.
func checkPlan(t planTB, c planCase, res PlanResult) {
	t.Helper()
	s, cfg := c.s, c.s.Config()
	byID := map[string]PlanRequest{}
	for _, q := range c.reqs {
		byID[q.ID] = q
	}
	seen := map[string]bool{}
	for _, id := range res.Unplaced {
		if seen[id] || byID[id].ID == "" {
			t.Fatalf("unplaced %q is repeated or unknown", id)
		}
		seen[id] = true
	}
	visitors := 0
	snap := s.Snapshot()
	bookings := map[string]Booking{}
	for _, b := range snap.Bookings {
		bookings[b.ID] = b
	}
	d, err := s.existingOrTemp(c.date)
	if err != nil {
		t.Fatal(err)
	}
	probe := d.cloneForPlan()
	for id, b := range bookings { // lift what the requests re-plan
		if _, ok := byID[id]; ok && b.Active() {
			s.add(probe, b.Operator, b.Route, b.Gate, s.minuteOf(probe, b.Slot), -b.PartySize)
		}
	}
	earliest := s.earliestMinute(probe, c.now)
	for _, p := range res.Placed {
		q, ok := byID[p.ID]
		if !ok || seen[p.ID] {
			t.Fatalf("placement %q is repeated or unknown", p.ID)
		}
		seen[p.ID] = true
		r, _ := cfg.Route(q.Route)
		m := s.minuteOf(probe, p.Slot)
		if m != p.Minute || !p.Slot.Equal(s.at(probe, m)) {
			t.Fatalf("%s: slot %s and minute %d disagree", p.ID, p.Slot, p.Minute)
		}
		if m < q.Window.From || m >= q.Window.To {
			t.Fatalf("%s placed at %s, outside its window %s-%s", p.ID, clock(m), clock(q.Window.From), clock(q.Window.To))
		}
		if m < earliest || !slices.Contains(s.routeSlots(probe.base, r), m) || !slices.Contains(r.Gates, p.Gate) {
			t.Fatalf("%s placed at %s gate %s: not an open entry of route %s", p.ID, clock(m), p.Gate, r.ID)
		}
		g, _ := cfg.Gate(p.Gate)
		if got, why := s.room(probe, q.Operator, r, g, m); got < q.PartySize {
			t.Fatalf("%s (%d visitors of %s) placed at %s gate %s where room() gives %d (limit %d)", p.ID, q.PartySize, q.Operator, clock(m), p.Gate, got, why)
		}
		s.add(probe, q.Operator, q.Route, p.Gate, m, q.PartySize)
		visitors += q.PartySize
		bookings[p.ID] = Booking{ID: p.ID, Operator: q.Operator, Date: c.date, Route: q.Route, PartySize: q.PartySize,
			Window: q.Window, Slot: p.Slot, Gate: p.Gate, Status: StatusConfirmed}
	}
	if len(seen) != len(c.reqs) {
		t.Fatalf("%d requests accounted for, want %d", len(seen), len(c.reqs))
	}
	if visitors != res.Visitors {
		t.Fatalf("result says %d visitors, placements hold %d", res.Visitors, visitors)
	}
	for _, id := range res.Unplaced { // a re-planned booking left unplaced is dropped
		delete(bookings, id)
	}
	snap.Bookings = snap.Bookings[:0]
	for _, b := range bookings {
		snap.Bookings = append(snap.Bookings, b)
	}
	fresh, err := Restore(cfg, snap)
	if err != nil {
		t.Fatal(err)
	}
	checkDayLoads(t, cfg, fresh.days[c.date])
}

// checkDayLoads checks a day's loads against every capacity and share.
func checkDayLoads(t planTB, cfg *Config, d *day) {
	t.Helper()
	if d == nil {
		return
	}
	share := 1 - cfg.Policy.WalkInShare
	for _, z := range cfg.Zones {
		for i, v := range d.zone[z.ID] {
			if int(v) > z.Capacity || int(d.zoneOp[z.ID][i]) > floorShare(z.Capacity, share) {
				t.Fatalf("zone %s bucket %d: %d visitors (%d of operators), capacity %d", z.ID, i, v, d.zoneOp[z.ID][i], z.Capacity)
			}
		}
	}
	for _, g := range cfg.Gates {
		for i, v := range d.wave[g.ID] {
			if int(v) > g.WaveCapacity || int(d.waveOp[g.ID][i]) > floorShare(g.WaveCapacity, share) {
				t.Fatalf("gate %s slot %d: wave of %d (%d of operators), capacity %d", g.ID, i, v, d.waveOp[g.ID][i], g.WaveCapacity)
			}
		}
	}
	for k, v := range d.opWave {
		g := cfg.Gates[k.gate]
		if int(v) > floorShare(g.WaveCapacity, cfg.Policy.OperatorWaveShare) {
			t.Fatalf("operator #%d holds %d of wave %s/%d", k.op, v, g.ID, k.slot)
		}
	}
	for op, v := range d.opDay {
		if v > floorShare(d.entries, cfg.Policy.OperatorDayShare) {
			t.Fatalf("operator %s holds %d of the day", op, v)
		}
	}
}

// testIterations keeps the tests quick (under -race too); the default
// budget is for production and for the quality comparison.
const testIterations = 20000

// mustPlan plans a case as PlanDay does, with the tests' budget.
func mustPlan(t planTB, c planCase) PlanResult {
	t.Helper()
	inst, err := c.s.DayInstance(c.now, c.date, c.reqs)
	if err != nil {
		t.Fatal(err)
	}
	res, err := PlanInstance(inst, PlanOptions{Iterations: testIterations})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestPlanDaySmall: hand-made days with known answers.
func TestPlanDaySmall(t *testing.T) {
	cfg := petra(t)
	now := testNow(cfg)
	date := "2026-12-01"
	w := func(f, t int) Window { return Window{f, t} }
	tests := []struct {
		name     string
		reqs     []PlanRequest
		placed   map[string]string // id → HH:MM
		unplaced []string
	}{
		{
			name: "each at its preferred start",
			reqs: []PlanRequest{
				{ID: "a", Operator: "op-a", Route: "main", PartySize: 40, Window: w(hm(8, 0), hm(11, 0)), Preferred: hm(9, 30)},
				{ID: "b", Operator: "op-b", Route: "monastery", PartySize: 20, Window: w(hm(7, 0), hm(9, 0))},
				{ID: "c", Operator: "op-b", Route: "back-trail", PartySize: 25, Window: w(hm(6, 0), hm(12, 0)), Preferred: hm(10, 45)},
			},
			placed: map[string]string{"a": "09:30", "b": "07:00", "c": "10:45"},
		},
		{
			name: "outside the hours or over the share",
			reqs: []PlanRequest{
				{ID: "late", Operator: "op-a", Route: "main", PartySize: 10, Window: w(hm(16, 0), hm(18, 0))},
				{ID: "big-back", Operator: "op-a", Route: "back-trail", PartySize: 31, Window: w(hm(8, 0), hm(9, 0))},    // 30 a wave for one operator there
				{ID: "night", Operator: "op-a", Route: "petra-by-night", PartySize: 10, Window: w(hm(18, 0), hm(21, 0))}, // not on a Tuesday
				{ID: "ok", Operator: "op-a", Route: "main", PartySize: 10, Window: w(hm(8, 0), hm(9, 0))},
			},
			placed:   map[string]string{"ok": "08:00"},
			unplaced: []string{"big-back", "late", "night"},
		},
		{
			// The 09:00 wave at the main gate takes 240 operators' visitors;
			// five coaches of 60 want it: one must move, to 09:15 (nearer
			// than 08:45? equal: the earlier first, as Book does).
			name: "a full wave pushes the smallest deviation",
			reqs: []PlanRequest{
				{ID: "c1", Operator: "op-a", Route: "main", PartySize: 60, Window: w(hm(8, 0), hm(10, 0)), Preferred: hm(9, 0)},
				{ID: "c2", Operator: "op-a", Route: "main", PartySize: 60, Window: w(hm(8, 0), hm(10, 0)), Preferred: hm(9, 0)},
				{ID: "c3", Operator: "op-b", Route: "main", PartySize: 60, Window: w(hm(8, 0), hm(10, 0)), Preferred: hm(9, 0)},
				{ID: "c4", Operator: "op-b", Route: "main", PartySize: 60, Window: w(hm(8, 0), hm(10, 0)), Preferred: hm(9, 0)},
				{ID: "c5", Operator: "op-c", Route: "main", PartySize: 60, Window: w(hm(9, 0), hm(9, 30)), Preferred: hm(9, 0)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(cfg)
			c := planCase{s: s, now: now, date: date, reqs: tt.reqs}
			res, err := s.PlanDay(now, date, tt.reqs) // the default budget
			if err != nil {
				t.Fatal(err)
			}
			checkPlan(t, c, res)
			got := map[string]string{}
			for _, p := range res.Placed {
				got[p.ID] = p.Slot.Format("15:04")
			}
			if tt.placed != nil && !reflect.DeepEqual(got, tt.placed) {
				t.Errorf("placed %v, want %v", got, tt.placed)
			}
			if tt.unplaced != nil && !reflect.DeepEqual(res.Unplaced, tt.unplaced) {
				t.Errorf("unplaced %v, want %v", res.Unplaced, tt.unplaced)
			}
			if tt.placed == nil && tt.unplaced == nil {
				// The wave case: all five placed, four at 09:00, one moved by 15 minutes.
				if len(res.Unplaced) != 0 || res.Stats.MeanDeviationMinutes != 3 {
					t.Errorf("placed %v, unplaced %v, mean deviation %v; want all placed, one moved by 15 min", got, res.Unplaced, res.Stats.MeanDeviationMinutes)
				}
			}
		})
	}
}

// TestPlanDayFairness: two operators ask for the same scarce morning. A
// first-come allotment gives it to whoever asked first; the planner shares
// it.
func TestPlanDayFairness(t *testing.T) {
	cfg := petra(t)
	now := testNow(cfg)
	date := "2026-12-01"
	var reqs []PlanRequest
	for i := range 40 {
		for _, op := range []string{"op-early", "op-late"} {
			reqs = append(reqs, PlanRequest{ID: fmt.Sprintf("%s-%02d", op, i), Operator: op, Route: "main",
				PartySize: 30 + (i*7)%31, Window: Window{hm(8, 0), hm(10, 0)}, Preferred: hm(9, 0)})
		}
	}
	slices.SortStableFunc(reqs, func(a, b PlanRequest) int { return strings.Compare(a.Operator, b.Operator) })

	// First come: op-early's requests all arrive before op-late's.
	fc := New(cfg)
	got := map[string]int{}
	asked := map[string]int{}
	for _, q := range reqs {
		asked[q.Operator] += q.PartySize
		res, _ := fc.Apply(now, Book{ID: q.ID, Operator: q.Operator, Request: BookingRequest{Date: date, Route: q.Route, PartySize: q.PartySize, Window: q.Window}})
		if res.Err == nil {
			got[q.Operator] += q.PartySize
		}
	}
	fcEarly, fcLate := float64(got["op-early"])/float64(asked["op-early"]), float64(got["op-late"])/float64(asked["op-late"])
	if fcLate > 0.5*fcEarly {
		t.Fatalf("the case is not scarce enough: first come gives shares %.2f and %.2f", fcEarly, fcLate)
	}

	c := planCase{s: New(cfg), now: now, date: date, reqs: reqs}
	res := mustPlan(t, c)
	checkPlan(t, c, res)
	early, late := res.ByOperator["op-early"], res.ByOperator["op-late"]
	t.Logf("first come: %d and %d visitors (shares %.2f, %.2f); planner: %d and %d (shares %.3f, %.3f)",
		got["op-early"], got["op-late"], fcEarly, fcLate, early.Placed, late.Placed, early.Share, late.Share)
	if res.Visitors < got["op-early"]+got["op-late"] {
		t.Errorf("planner placed %d visitors, first come %d", res.Visitors, got["op-early"]+got["op-late"])
	}
	if d := early.Share - late.Share; d > 0.05 || d < -0.05 {
		t.Errorf("shares %.3f and %.3f are not comparable", early.Share, late.Share)
	}
}

func TestPlanDayBadInput(t *testing.T) {
	cfg := petra(t)
	now := testNow(cfg)
	s := New(cfg)
	res, _ := s.Apply(now, Book{ID: "bk1", Operator: "op-a", Request: BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 10, Window: Window{hm(8, 0), hm(9, 0)}}})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	ok := PlanRequest{ID: "r1", Operator: "op-a", Route: "main", PartySize: 10, Window: Window{hm(8, 0), hm(9, 0)}}
	with := func(f func(*PlanRequest)) []PlanRequest {
		q := ok
		f(&q)
		return []PlanRequest{q}
	}
	tests := []struct {
		name, date string
		reqs       []PlanRequest
		code       string
		field      string
		msg        string
	}{
		{"bad date", "2026-13-01", []PlanRequest{ok}, CodeInvalid, "date", `date "2026-13-01" is not a date`},
		{"no id", "2026-12-01", with(func(q *PlanRequest) { q.ID = "" }), CodeInvalid, "requests[0].id", "has no id"},
		{"repeated id", "2026-12-01", []PlanRequest{ok, ok}, CodeInvalid, "requests[1].id", `request id "r1" is repeated`},
		{"no operator", "2026-12-01", with(func(q *PlanRequest) { q.Operator = "" }), CodeInvalid, "requests[0].operator", "has no operator"},
		{"unknown route", "2026-12-01", with(func(q *PlanRequest) { q.Route = "siq-only" }), CodeInvalid, "requests[0].route", `unknown route "siq-only"`},
		{"party too big", "2026-12-01", with(func(q *PlanRequest) { q.PartySize = 61 }), CodeInvalid, "requests[0].party_size", "party_size 61 is out of range"},
		{"party empty", "2026-12-01", with(func(q *PlanRequest) { q.PartySize = 0 }), CodeInvalid, "requests[0].party_size", "party_size 0"},
		{"window", "2026-12-01", with(func(q *PlanRequest) { q.Window = Window{hm(9, 0), hm(8, 0)} }), CodeInvalid, "requests[0].window", "is not a window"},
		{"preferred", "2026-12-01", with(func(q *PlanRequest) { q.Preferred = -5 }), CodeInvalid, "requests[0].preferred", "preferred -5"},
		{"another operator's booking", "2026-12-01", with(func(q *PlanRequest) { q.ID, q.Operator = "bk1", "op-b" }), CodeConflict, "requests[0].id", "another operator"},
		{"booking of another day", "2026-12-02", with(func(q *PlanRequest) { q.ID = "bk1" }), CodeConflict, "requests[0].id", "booking on 2026-12-01"},
	}
	before := snapJSON(t, s)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.PlanDay(now, tt.date, tt.reqs)
			var e *Error
			if !errors.As(err, &e) || e.Code != tt.code || e.Field != tt.field || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("got %v (%+v), want %s on %s containing %q", err, e, tt.code, tt.field, tt.msg)
			}
		})
	}
	if snapJSON(t, s) != before {
		t.Fatal("bad input changed the state")
	}
}

func TestPlanInstanceErrors(t *testing.T) {
	good := func() Instance {
		return Instance{SlotMinutes: 15, Resolution: 5, Horizon: 2880,
			Gates:               []PlanGate{{ID: "g", Capacity: 100, OperatorCapacity: 80, OperatorWaveCapacity: 50}},
			Zones:               []PlanZone{{ID: "z", Capacity: 200, OperatorCapacity: 160}},
			Routes:              []PlanRoute{{ID: "r", Gates: []string{"g"}, Stops: []Stop{{Zone: "z", Arrive: 0, Stay: 30}}, Entries: []int{480, 495}}},
			OperatorDayCapacity: 1000,
			Requests:            []PlanRequest{{ID: "a", Operator: "o", Route: "r", PartySize: 10, Window: Window{480, 600}}},
		}
	}
	if res, err := PlanInstance(good(), PlanOptions{}); err != nil || res.Visitors != 10 {
		t.Fatalf("good instance: %v, %+v", err, res)
	}
	tests := []struct {
		name string
		f    func(*Instance)
		msg  string
	}{
		{"resolution", func(i *Instance) { i.Resolution = 7 }, "resolution 7"},
		{"horizon", func(i *Instance) { i.Horizon = 100 }, "horizon 100"},
		{"gate twice", func(i *Instance) { i.Gates = append(i.Gates, i.Gates[0]) }, `gate "g" listed twice`},
		{"long load", func(i *Instance) { i.Zones[0].Load = make([]int, 1000) }, `zone "z": load`},
		{"huge capacity", func(i *Instance) { i.Gates[0].Capacity = 1 << 40 }, `gate "g": a capacity or load is out of range`},
		{"huge party", func(i *Instance) { i.Requests[0].PartySize = 1 << 40 }, "party_size 1099511627776"},
		{"route gate", func(i *Instance) { i.Routes[0].Gates = []string{"x"} }, `unknown gate "x"`},
		{"route zone", func(i *Instance) { i.Routes[0].Stops[0].Zone = "x" }, `unknown zone "x"`},
		{"entry", func(i *Instance) { i.Routes[0].Entries = []int{481} }, "entry 481"},
		{"request route", func(i *Instance) { i.Requests[0].Route = "x" }, `unknown route "x"`},
		{"request size", func(i *Instance) { i.Requests[0].PartySize = 0 }, "party_size 0"},
		{"request twice", func(i *Instance) { i.Requests = append(i.Requests, i.Requests[0]) }, `request id "a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := good()
			tt.f(&inst)
			_, err := PlanInstance(inst, PlanOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("got %v, want an error containing %q", err, tt.msg)
			}
		})
	}
}

// TestPlanBeatsFirstCome: on random small days of a tight site, the planner
// places at least as many visitors as first-come allotment (Book, in the
// order of the requests' ids), whatever the seed and however short the
// search: it starts from the first-come plan or a better one and keeps the
// best plan seen. Its own first-come pass (PlanStats.FirstComeVisitors) is
// Book's allotment exactly. Runs on rapid's random seeds; for many more
// cases, go test -run TestPlanBeatsFirstCome -rapid.checks=2000 ./scheduler/.
func TestPlanBeatsFirstCome(t *testing.T) {
	cfg := tight(petra(t))
	ops := []string{"op-a", "op-b", "op-c", WalkInOperator}
	routes := []string{"main", "monastery", "high-place", "back-trail", "petra-by-night"}
	rapid.Check(t, func(t *rapid.T) {
		now := testNow(cfg)
		date := rapid.SampledFrom([]string{"2026-12-01", "2026-12-02"}).Draw(t, "date")
		s := New(cfg)
		// Some bookings already made.
		for i := range rapid.IntRange(0, 15).Draw(t, "pre") {
			from := rapid.IntRange(hm(6, 0), hm(14, 0)).Draw(t, "pfrom") / 15 * 15
			s.Apply(now, Book{ID: fmt.Sprintf("bk%03d", i), Operator: rapid.SampledFrom(ops).Draw(t, "pop"), Request: BookingRequest{
				Date: date, Route: rapid.SampledFrom(routes).Draw(t, "proute"), PartySize: rapid.IntRange(1, cfg.Policy.MaxPartySize).Draw(t, "psize"),
				Window: Window{from, from + 15*rapid.IntRange(1, 8).Draw(t, "plen")}}})
		}
		if rapid.Bool().Draw(t, "closure") {
			s.Apply(now, Close{ID: "cl", Zones: []string{rapid.SampledFrom([]string{"siq", "monastery", "high-place"}).Draw(t, "zone")}, Reason: "test"})
		}
		var reqs []PlanRequest
		for i := range rapid.IntRange(1, 60).Draw(t, "n") {
			from := rapid.IntRange(hm(6, 0), hm(20, 0)).Draw(t, "from") / 15 * 15
			w := Window{from, min(from+15*rapid.IntRange(1, 12).Draw(t, "len"), 24*60)}
			reqs = append(reqs, PlanRequest{ID: fmt.Sprintf("rq%03d", i), Operator: rapid.SampledFrom(ops).Draw(t, "op"),
				Route: rapid.SampledFrom(routes).Draw(t, "route"), PartySize: rapid.IntRange(1, cfg.Policy.MaxPartySize).Draw(t, "size"),
				Window: w, Preferred: rapid.IntRange(w.From, w.To-1).Draw(t, "pref")})
		}
		fc, err := Restore(cfg, s.Snapshot())
		if err != nil {
			t.Fatal(err)
		}
		first := 0
		for _, q := range reqs {
			res, _ := fc.Apply(now, Book{ID: q.ID, Operator: q.Operator, Request: BookingRequest{Date: date, Route: q.Route, PartySize: q.PartySize, Window: q.Window}})
			if res.Err == nil {
				first += q.PartySize
			}
		}
		c := planCase{s: s, now: now, date: date, reqs: reqs}
		inst, err := s.DayInstance(now, date, reqs)
		if err != nil {
			t.Fatal(err)
		}
		// A short search or none, any seed: the guarantee is by
		// construction. (0 would mean the default budget: slow here.)
		iters := rapid.IntRange(1, 2000).Draw(t, "iterations")
		if rapid.Bool().Draw(t, "no-search") {
			iters = -1
		}
		res, err := PlanInstance(inst, PlanOptions{Iterations: iters, Seed: rapid.Uint64().Draw(t, "seed")})
		if err != nil {
			t.Fatal(err)
		}
		checkPlan(t, c, res)
		if res.Stats.FirstComeVisitors != first {
			t.Fatalf("the planner's first-come pass places %d visitors, Book %d", res.Stats.FirstComeVisitors, first)
		}
		if res.Visitors < first {
			t.Fatalf("planner placed %d visitors, first come %d", res.Visitors, first)
		}
	})
}
