package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os/exec"
	"strings"
	"testing"
)

// TestBenchQuickJSON runs `tafweej bench --quick --json` in this process,
// on the real pieces, and checks the report: every figure measured and
// positive, every ratio the quotient of the two figures of its row.
func TestBenchQuickJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("bench starts NATS, Badger and HTTP and stores 50,000 bookings: not under -short")
	}
	var out, progress bytes.Buffer
	root := newRoot()
	root.SetArgs([]string{"bench", "--quick", "--json", "--config", "../../configs/petra.yaml", "--dir", t.TempDir()})
	root.SetOut(&out)
	root.SetErr(&progress)
	if err := root.Execute(); err != nil {
		t.Fatalf("bench: %v\nprogress:\n%s", err, progress.String())
	}
	if !strings.Contains(progress.String(), "done") {
		t.Errorf("no progress lines on stderr:\n%s", progress.String())
	}
	var rep benchReport
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("output is not a report: %v\n%s", err, out.String())
	}
	if !rep.Quick || rep.Sizes.Stored != 50_000 || rep.Sizes.Hajj {
		t.Errorf("quick = %v, stored = %d, hajj = %v; want a quick run with 50,000 bookings and no Hajj day", rep.Quick, rep.Sizes.Stored, rep.Sizes.Hajj)
	}
	want := []string{"counter messages", "gate scans, 1 gate(s)", "gate scans, 10 gate(s)", "gate scans, 100 gate(s)",
		"counter messages, registered devices", "gate scans, 1 gate(s), registered devices", "gate scans, 10 gate(s), registered devices",
		"bookings, 1 client(s)", "bookings, 64 client(s)", "recovery, 50000 bookings", "day planner, Petra day", "planner quality, Petra day"}
	var names []string
	for _, r := range rep.Rows {
		names = append(names, r.Name)
	}
	if strings.Join(names, "|") != strings.Join(want, "|") {
		t.Fatalf("rows %q, want %q", names, want)
	}
	// The planner's quality has a limit (CBC's bound) where cbc is installed.
	_, lookErr := exec.LookPath("cbc")
	haveCBC := lookErr == nil
	withRaw := map[string]bool{"counter messages": true, "gate scans, 1 gate(s)": true, "gate scans, 10 gate(s)": true,
		"gate scans, 100 gate(s)": true, "bookings, 1 client(s)": true,
		"counter messages, registered devices": true, "gate scans, 1 gate(s), registered devices": true, "gate scans, 10 gate(s), registered devices": true, "bookings, 64 client(s)": true,
		"planner quality, Petra day": haveCBC}
	if rep.Sizes.CBCSeconds != quickCBCSeconds {
		t.Errorf("cbc seconds %d, want %d under --quick", rep.Sizes.CBCSeconds, quickCBCSeconds)
	}
	check := func(row string, f benchFigure, latency bool) {
		t.Helper()
		if !(f.Value > 0) || math.IsInf(f.Value, 0) || f.N <= 0 || f.Reps != 1 || f.Unit == "" || f.What == "" {
			t.Errorf("%s: figure %+v: want a positive finite value, N > 0, 1 repetition, a unit and what it measured", row, f)
		}
		if latency {
			if !(f.P50Ms > 0) || f.P99Ms < f.P50Ms {
				t.Errorf("%s: latency p50 %v ms, p99 %v ms: want 0 < p50 <= p99", row, f.P50Ms, f.P99Ms)
			}
		}
	}
	for _, r := range rep.Rows {
		check(r.Name, r.Tafweej, strings.HasPrefix(r.Name, "gate scans") || strings.HasPrefix(r.Name, "bookings"))
		if withRaw[r.Name] != (r.Raw != nil) {
			t.Errorf("%s: raw limit present = %v, want %v", r.Name, r.Raw != nil, withRaw[r.Name])
			continue
		}
		if r.Raw == nil {
			continue
		}
		check(r.Name+" (raw)", *r.Raw, strings.HasPrefix(r.Name, "gate scans"))
		if got := r.Tafweej.Value / r.Raw.Value; !(r.Ratio > 0) || math.Abs(r.Ratio-got) > 1e-9*got {
			t.Errorf("%s: ratio %v, but %v / %v = %v: not computed from this run's figures", r.Name, r.Ratio, r.Tafweej.Value, r.Raw.Value, got)
		}
		if r.Raw.N != r.Tafweej.N && !strings.HasPrefix(r.Name, "bookings") {
			t.Errorf("%s: raw measured %d operations, tafweej %d: want the same", r.Name, r.Raw.N, r.Tafweej.N)
		}
	}
	for _, r := range rep.Rows {
		switch {
		case strings.HasPrefix(r.Name, "gate scans"):
			// Every visitor scanned was booked on the day: every scan admits.
			if r.Extra["admitted"] != float64(r.Tafweej.N) || r.Extra["decisions"] != float64(r.Tafweej.N) {
				t.Errorf("%s: %v admitted of %v decisions, want all %d scans admitted (%s)", r.Name, r.Extra["admitted"], r.Extra["decisions"], r.Tafweej.N, r.Note)
			}
		case strings.HasPrefix(r.Name, "recovery"):
			for _, k := range []string{"rss_mb", "heap_mb", "heap_delta_mb"} {
				if !(r.Extra[k] > 0) {
					t.Errorf("%s: %s = %v, want > 0", r.Name, k, r.Extra[k])
				}
			}
		case strings.HasPrefix(r.Name, "day planner"):
			if !(r.Extra["placed"] > 0) || r.Extra["placed"] > r.Extra["requested"] || r.Extra["groups"] != 300 {
				t.Errorf("%s: placed %v of %v requested in %v groups, want 0 < placed <= requested and 300 groups", r.Name, r.Extra["placed"], r.Extra["requested"], r.Extra["groups"])
			}
			if r.Extra["placed"] < r.Extra["first_come_placed"] {
				t.Errorf("%s: placed %v, fewer than first come's %v", r.Name, r.Extra["placed"], r.Extra["first_come_placed"])
			}
		case strings.HasPrefix(r.Name, "planner quality"):
			// The same plan as the row before it, compared with CBC's bound:
			// at most 100%, and in practice well above 90%.
			if !haveCBC {
				if !strings.Contains(r.Note, "cbc is not on PATH") {
					t.Errorf("%s: note %q, want it to say cbc is not on PATH", r.Name, r.Note)
				}
				break
			}
			if r.Ratio > 1+1e-9 || r.Ratio < 0.9 || r.Raw.Unit != "visitors" || r.Tafweej.Unit != "visitors" {
				t.Errorf("%s: %v visitors against a bound of %v %s (ratio %v), want a ratio in [0.9, 1]", r.Name, r.Tafweej.Value, r.Raw.Value, r.Raw.Unit, r.Ratio)
			}
			for _, d := range rep.Rows {
				if d.Name == "day planner, Petra day" && d.Extra["placed"] != r.Tafweej.Value {
					t.Errorf("%s: %v visitors, the plan timed in %q placed %v", r.Name, r.Tafweej.Value, d.Name, d.Extra["placed"])
				}
			}
		}
	}
}

// TestBenchFlags: bad flags are usage errors and measure nothing.
func TestBenchFlags(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--reps", "0"},
		{"bench", "--config", "does-not-exist.yaml"},
		{"bench", "--cbc-seconds", "-1"},
	} {
		root := newRoot()
		var out bytes.Buffer
		root.SetArgs(args)
		root.SetOut(&out)
		root.SetErr(&out)
		err := root.Execute()
		var ue *usageError
		if err == nil || !asUsage(err, &ue) {
			t.Errorf("%q: error %v, want a usage error", args, err)
		}
		if out.Len() != 0 {
			t.Errorf("%q: printed %q, want nothing", args, out.String())
		}
	}
}

func asUsage(err error, target **usageError) bool {
	ue, ok := err.(*usageError)
	if ok {
		*target = ue
	}
	return ok
}
