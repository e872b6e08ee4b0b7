package bench

import (
	"fmt"
	"math"
	"strings"
)

// Problems lists what is wrong with a report of Run, empty when it is
// sound: the rows its sizes call for, in order; every figure measured,
// positive and finite, over reps repetitions, with a unit and what it
// measured, latencies where there are some; a raw limit on every
// throughput row (and on the planner's quality when cbc was on PATH),
// measured over as many operations and stating its concurrency (the
// bookings' and scans' limits durable, at the figure's concurrency; the
// scans' bare request/reply in raw_bare), and every ratio the quotient of
// its row's two figures; every scan admitting (every visitor scanned was
// booked on the day); recovery's memory figures; the Petra day's plan
// placing its 300 groups' visitors no worse than first come; the quality
// rows against CBC's bound in [0.9, 1], of the plan timed above them.
// The tests of the bench and CI check a report with it.
func (r *Report) Problems(reps int, haveCBC bool) []string {
	var out []string
	errorf := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	want := []string{"counter messages", "gate scans, 1 gate(s)", "gate scans, 10 gate(s)", "gate scans, 100 gate(s)",
		"counter messages, registered devices", "gate scans, 1 gate(s), registered devices", "gate scans, 10 gate(s), registered devices",
		"bookings, 1 client(s)", "bookings, 64 client(s)", fmt.Sprintf("recovery, %d bookings", r.Sizes.Stored),
		"scans during a 7-day cut"}
	if r.Sizes.Hajj {
		want = append(want, "re-plan after a closure, Hajj-sized day")
	}
	want = append(want, "day planner, Petra day", "planner quality, Petra day")
	if r.Sizes.Hajj {
		want = append(want, "day planner, Hajj-sized day")
		if r.Sizes.HajjQuality {
			want = append(want, "planner quality, Hajj-sized day")
		}
	}
	if r.Cluster {
		want = append(want, "bookings, replicated R3, 64 clients", "takeover after SIGKILL of the owner")
	}
	var names []string
	for _, row := range r.Rows {
		names = append(names, row.Name)
	}
	if strings.Join(names, "|") != strings.Join(want, "|") {
		return append(out, fmt.Sprintf("rows %q, want %q", names, want))
	}
	withRaw := map[string]bool{"counter messages": true, "gate scans, 1 gate(s)": true, "gate scans, 10 gate(s)": true,
		"gate scans, 100 gate(s)": true, "bookings, 1 client(s)": true, "bookings, 64 client(s)": true,
		"counter messages, registered devices": true, "gate scans, 1 gate(s), registered devices": true, "gate scans, 10 gate(s), registered devices": true,
		"bookings, replicated R3, 64 clients": true, "scans during a 7-day cut": true,
		"planner quality, Petra day": haveCBC, "planner quality, Hajj-sized day": haveCBC,
		fmt.Sprintf("recovery, %d bookings", r.Sizes.Stored): true}
	check := func(row string, f Figure, latency bool, reps int) {
		if !(f.Value > 0) || math.IsInf(f.Value, 0) || f.N <= 0 || f.Reps != reps || f.Unit == "" || f.What == "" {
			errorf("%s: figure %+v: want a positive finite value, N > 0, %d repetition(s), a unit and what it measured", row, f, reps)
		}
		if latency {
			if !(f.P50Ms > 0) || f.P99Ms < f.P50Ms {
				errorf("%s: latency p50 %v ms, p99 %v ms: want 0 < p50 <= p99", row, f.P50Ms, f.P99Ms)
			}
		}
	}
	for _, row := range r.Rows {
		rowReps := reps
		if !strings.HasPrefix(row.Name, "counter") && !strings.HasPrefix(row.Name, "gate") && !strings.HasPrefix(row.Name, "bookings") &&
			row.Name != "day planner, Petra day" {
			rowReps = 1 // measured once: recovery, the Hajj-sized day, quality
		}
		check(row.Name, row.Tafweej, strings.HasPrefix(row.Name, "gate scans") || strings.HasPrefix(row.Name, "bookings") || strings.HasPrefix(row.Name, "scans during"), rowReps)
		if withRaw[row.Name] != (row.Raw != nil) {
			errorf("%s: raw limit present = %v, want %v", row.Name, row.Raw != nil, withRaw[row.Name])
			continue
		}
		if row.Raw == nil {
			continue
		}
		check(row.Name+" (raw)", *row.Raw, strings.HasPrefix(row.Name, "gate scans"), rowReps)
		if row.Raw.Concurrency <= 0 {
			errorf("%s: the limit states no concurrency (%d): want the clients or writers it ran in parallel", row.Name, row.Raw.Concurrency)
		}
		if strings.HasPrefix(row.Name, "gate scans") || strings.HasPrefix(row.Name, "bookings") {
			// The limit at the same concurrency as the figure, durable.
			if row.Raw.Concurrency != row.Tafweej.Concurrency || !row.Raw.Durable {
				errorf("%s: limit at concurrency %d (durable %v), figure at %d: want the same concurrency, durable", row.Name,
					row.Raw.Concurrency, row.Raw.Durable, row.Tafweej.Concurrency)
			}
		}
		if strings.HasPrefix(row.Name, "gate scans") {
			if row.RawBare == nil {
				errorf("%s: no raw_bare (the bare request/reply)", row.Name)
			} else {
				check(row.Name+" (raw_bare)", *row.RawBare, true, rowReps)
				if row.RawBare.Concurrency != row.Tafweej.Concurrency || row.RawBare.Durable {
					errorf("%s: raw_bare at concurrency %d (durable %v), want %d, not durable", row.Name, row.RawBare.Concurrency, row.RawBare.Durable, row.Tafweej.Concurrency)
				}
			}
		}
		got := row.Tafweej.Value / row.Raw.Value
		if row.Tafweej.Unit == "s" { // a time: the limit's over Tafweej's, higher is better
			got = row.Raw.Value / row.Tafweej.Value
		}
		if !(row.Ratio > 0) || math.Abs(row.Ratio-got) > 1e-9*got {
			errorf("%s: ratio %v, but the quotient of %v and %v is %v: not computed from this run's figures", row.Name, row.Ratio, row.Tafweej.Value, row.Raw.Value, got)
		}
		if row.Raw.N != row.Tafweej.N {
			errorf("%s: raw measured %d operations, tafweej %d: want the same", row.Name, row.Raw.N, row.Tafweej.N)
		}
	}
	for _, row := range r.Rows {
		switch {
		case row.Name == "scans during a 7-day cut":
			if !(row.Extra["in_loop_p99_ms"] > 0) || !(row.Extra["moved"]+row.Extra["cancelled"] > 0) || !(row.Extra["cut_seconds"] > 0) {
				errorf("%s: in-loop p99 %v ms, moved %v, cancelled %v, cut %v s: want the cut re-planned both ways", row.Name,
					row.Extra["in_loop_p99_ms"], row.Extra["moved"], row.Extra["cancelled"], row.Extra["cut_seconds"])
			}
		case row.Name == "re-plan after a closure, Hajj-sized day":
			if !(row.Extra["hit_groups"] > 0) || row.Extra["visitors_kept"] < row.Extra["first_come_visitors_kept"] {
				errorf("%s: %v groups hit, %v visitors kept against first come's %v: want some hit, never fewer than first come", row.Name,
					row.Extra["hit_groups"], row.Extra["visitors_kept"], row.Extra["first_come_visitors_kept"])
			}
		case strings.HasPrefix(row.Name, "gate scans"):
			if row.Extra["admitted"] != float64(row.Tafweej.N*reps) || row.Extra["decisions"] != float64(row.Tafweej.N*reps) {
				errorf("%s: %v admitted of %v decisions, want all %d scans admitted (%s)", row.Name, row.Extra["admitted"], row.Extra["decisions"], row.Tafweej.N*reps, row.Note)
			}
		case row.Name == "bookings, 1 client(s)" && row.Raw != nil:
			// The durable HTTP floor, beside the limit (bookings.go).
			if f := row.Extra["http_floor_per_s"]; !(f > 0) || math.Abs(row.Extra["http_floor_ratio"]-f/row.Raw.Value) > 1e-9*f/row.Raw.Value {
				errorf("%s: http_floor_per_s %v, http_floor_ratio %v: want the durable HTTP floor measured and its ratio to the raw writes",
					row.Name, f, row.Extra["http_floor_ratio"])
			}
		case strings.HasPrefix(row.Name, "recovery"):
			for _, k := range []string{"rss_mb", "heap_mb", "heap_delta_mb"} {
				if !(row.Extra[k] > 0) {
					errorf("%s: %s = %v, want > 0", row.Name, k, row.Extra[k])
				}
			}
		case row.Name == "day planner, Petra day":
			if !(row.Extra["placed"] > 0) || row.Extra["placed"] > row.Extra["requested"] || row.Extra["groups"] != 300 {
				errorf("%s: placed %v of %v requested in %v groups, want 0 < placed <= requested and 300 groups", row.Name, row.Extra["placed"], row.Extra["requested"], row.Extra["groups"])
			}
			if row.Extra["placed"] < row.Extra["first_come_placed"] {
				errorf("%s: placed %v, fewer than first come's %v", row.Name, row.Extra["placed"], row.Extra["first_come_placed"])
			}
		case strings.HasPrefix(row.Name, "planner quality"):
			// The same plan as the row before it, compared with CBC's bound:
			// at most 100%, and in practice well above 90%.
			if !haveCBC {
				if !strings.Contains(row.Note, "cbc is not on PATH") {
					errorf("%s: note %q, want it to say cbc is not on PATH", row.Name, row.Note)
				}
				break
			}
			if row.Raw == nil {
				break
			}
			if row.Ratio > 1+1e-9 || row.Ratio < 0.9 || row.Raw.Unit != "visitors" || row.Tafweej.Unit != "visitors" {
				errorf("%s: %v visitors against a bound of %v %s (ratio %v), want a ratio in [0.9, 1]", row.Name, row.Tafweej.Value, row.Raw.Value, row.Raw.Unit, row.Ratio)
			}
			plan := "day planner, " + strings.TrimPrefix(row.Name, "planner quality, ")
			for _, d := range r.Rows {
				if d.Name == plan && d.Extra["placed"] != row.Tafweej.Value {
					errorf("%s: %v visitors, the plan timed in %q placed %v", row.Name, row.Tafweej.Value, d.Name, d.Extra["placed"])
				}
			}
		}
	}
	return out
}
