package bench

import (
	"strings"
	"testing"
)

// TestProblemsWantsTheDurableHTTPFloorAtOneClient: the 1-client bookings
// row carries the durable HTTP floor measured beside its limit, with its
// ratio to the limit computed from the run's figures; without it, or with
// another ratio, the report is refused.
func TestProblemsWantsTheDurableHTTPFloorAtOneClient(t *testing.T) {
	fig := func(durable bool) Figure {
		return Figure{What: "x", Value: 100, Unit: "ops/s", N: 10, Reps: 1, P50Ms: 1, P99Ms: 2, Concurrency: 1, Durable: durable}
	}
	good := func() Row {
		r := ratioRow("bookings, 1 client(s)", fig(false), fig(true))
		r.Extra = map[string]float64{"http_floor_per_s": 60, "http_floor_ratio": 0.6, "http_floor_p50_ms": 1}
		return r
	}
	problems := func(row Row) []string {
		rep := &Report{Sizes: Sizes{Stored: 10}}
		// Put the rows in the report's order, the others empty.
		var ordered []Row
		for _, name := range []string{"counter messages", "gate scans, 1 gate(s)", "gate scans, 10 gate(s)", "gate scans, 100 gate(s)",
			"counter messages, registered devices", "gate scans, 1 gate(s), registered devices", "gate scans, 10 gate(s), registered devices",
			"bookings, 1 client(s)", "bookings, 64 client(s)", "recovery, 10 bookings", "scans during a 7-day cut", "day planner, Petra day", "planner quality, Petra day"} {
			if name == row.Name {
				ordered = append(ordered, row)
			} else {
				ordered = append(ordered, Row{Name: name})
			}
		}
		rep.Rows = ordered
		var out []string
		for _, p := range rep.Problems(1, false) {
			if strings.HasPrefix(p, row.Name+":") || strings.HasPrefix(p, row.Name+" (") {
				out = append(out, p)
			}
		}
		return out
	}
	if p := problems(good()); len(p) != 0 {
		t.Fatalf("a sound row reported: %q", p)
	}
	for name, spoil := range map[string]func(r *Row){
		"no floor":      func(r *Row) { r.Extra = nil },
		"floor of zero": func(r *Row) { r.Extra["http_floor_per_s"], r.Extra["http_floor_ratio"] = 0, 0 },
		"another ratio": func(r *Row) { r.Extra["http_floor_ratio"] = 0.9 },
	} {
		r := good()
		spoil(&r)
		if len(problems(r)) == 0 {
			t.Errorf("%s: not reported", name)
		}
	}
}
