package main

import (
	"strings"
	"testing"

	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/scheduler"
)

// TestDwellAdoptRewritesOnlyTheStops: adopting learned stays into
// configs/petra.yaml changes exactly the stops AdoptDwell lists, keeps
// every comment and other line, and the file still checks, with the
// zone model's timing as its figures.
func TestDwellAdoptRewritesOnlyTheStops(t *testing.T) {
	data := testenv.PetraYAML(t)
	cfg, err := scheduler.ParseConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	changes := scheduler.AdoptDwell(cfg, map[string]float64{"treasury": 1.3, "high-place": 1.1})
	out, err := rewriteStops(data, cfg, changes)
	if err != nil {
		t.Fatal(err)
	}
	got, err := scheduler.ParseConfig(out)
	if err != nil {
		t.Fatalf("the rewritten configuration: %v", err)
	}
	for _, c := range changes {
		r, _ := got.Route(c.Route)
		if st := r.Stops[c.Stop]; st.Arrive != c.NewArrive || st.Stay != c.NewStay {
			t.Errorf("%s stop %d: arrive %d stay %d, want %d and %d", c.Route, c.Stop, st.Arrive, st.Stay, c.NewArrive, c.NewStay)
		}
	}
	before, after := strings.Split(string(data), "\n"), strings.Split(string(out), "\n")
	if len(before) != len(after) {
		t.Fatalf("%d lines, were %d", len(after), len(before))
	}
	changed := 0
	for i := range before {
		if before[i] != after[i] {
			changed++
			if strings.Index(before[i], "#") >= 0 && before[i][strings.Index(before[i], "#"):] != after[i][strings.Index(after[i], "#"):] {
				t.Errorf("line %d lost its comment: %q → %q", i+1, before[i], after[i])
			}
		}
	}
	if changed != len(changes) {
		t.Errorf("%d lines changed, %d stops", changed, len(changes))
	}
	if again := scheduler.AdoptDwell(got, map[string]float64{}); len(again) != 0 {
		t.Errorf("no factor, yet %d changes", len(again))
	}
}
