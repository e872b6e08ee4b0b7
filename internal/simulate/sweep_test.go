package simulate

import (
	"bytes"
	"strings"
	"testing"
)

// TestAggregateSumsRunsPerSetting: runs of the same demand and dwell factor
// are summed up together (mean, least, most; runs over capacity in the
// truth and the estimate), other settings apart, in order.
func TestAggregateSumsRunsPerSetting(t *testing.T) {
	run := func(groups int, dwell float64, seed uint64, peak, overCap, estOver, admitted int) Report {
		r := Report{Admitted: admitted, DwellFactor: dwell, LateShare: DefaultLateShare, Seed: seed,
			Alert: &AlertReport{EveryGateRejectsWithin1s: true}}
		r.Groups = groups
		r.Zones = []ZoneReport{{Zone: "treasury", Capacity: 600, HoldAt: 510,
			Truth:    TruthReport{Peak: peak, MinutesOverCapacity: overCap},
			Estimate: FigureReport{Peak: peak - 10, MinutesOverCapacity: estOver, MaxError: 30}}}
		return r
	}
	rows := Aggregate([]Report{
		run(450, 1.3, 2, 700, 20, 15, 4000),
		run(220, 1, 1, 400, 0, 0, 2000),
		run(450, 1.3, 1, 500, 0, 0, 5000),
		run(450, 1, 1, 640, 3, 0, 4500),
	})
	if len(rows) != 3 {
		t.Fatalf("%d settings, want 3: %+v", len(rows), rows)
	}
	if rows[0].Groups != 220 || rows[1].Groups != 450 || rows[1].DwellFactor != 1 || rows[2].DwellFactor != 1.3 {
		t.Fatalf("settings out of order: %+v %+v %+v", rows[0].Setting, rows[1].Setting, rows[2].Setting)
	}
	r := rows[2]
	if r.Runs != 2 || r.Admitted.Mean != 4500 || r.Admitted.Min != 4000 || r.Admitted.Max != 5000 {
		t.Errorf("admitted = %+v over %d runs, want mean 4500 (4000-5000) over 2", r.Admitted, r.Runs)
	}
	z := r.Zones[0]
	if z.Peak.Max != 700 || z.Peak.Min != 500 || z.MinutesOverCapacity.Mean != 10 || z.RunsOverCapacity != 1 {
		t.Errorf("treasury = %+v", z)
	}
	if r.RunsOverCapacityTruth != 1 || r.RunsOverCapacityEstimate != 1 || rows[1].RunsOverCapacityEstimate != 0 || rows[1].RunsOverCapacityTruth != 1 {
		t.Errorf("runs over capacity: %+v / %+v", r, rows[1])
	}
	var buf bytes.Buffer
	PrintSweep(&buf, rows)
	for _, want := range []string{"--groups 450, --dwell-factor 1.3", "seeds 1,2", "| treasury | 600 | 510 | 600 (500–700) |", "admitted 4500 (4000–5000)"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the tables do not have %q:\n%s", want, buf.String())
		}
	}
}

// TestWorldFlagsAreChecked: the world's figures out of range are refused
// with the flag, the value and what is accepted.
func TestWorldFlagsAreChecked(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	n := func(v int) *int { return &v }
	cases := []struct {
		name string
		o    Options
		says []string
	}{
		{"dwell negative", Options{DwellFactor: f(-1)}, []string{"--dwell-factor -1", "above 0 and at most 5"}},
		{"dwell zero", Options{DwellFactor: f(0)}, []string{"--dwell-factor 0", "above 0 and at most 5"}},
		{"dwell huge", Options{DwellFactor: f(6)}, []string{"--dwell-factor 6", "at most 5"}},
		{"late negative", Options{LateShare: f(-0.1)}, []string{"--late-share -0.1", "between 0 and 0.8"}},
		{"late too many", Options{LateShare: f(0.9)}, []string{"--late-share 0.9", "between 0 and 0.8"}},
		{"noise", Options{CounterNoise: f(0.7)}, []string{"--counter-noise 0.7", "between 0 and 0.5"}},
		{"lost burst", Options{LostBurst: n(-2)}, []string{"--lost-burst -2", "between 0 and 1000"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.o.Speed = 100
			err := c.o.Check()
			if _, ok := err.(*UsageError); !ok {
				t.Fatalf("Check() = %v, want a usage error", err)
			}
			for _, s := range c.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%q does not say %q", err, s)
				}
			}
		})
	}
	ok := Options{Speed: 100, DwellFactor: f(1.3), LateShare: f(0.8), CounterNoise: f(0), LostBurst: n(0)}
	if err := ok.Check(); err != nil {
		t.Errorf("Check() of a valid world = %v", err)
	}
}
