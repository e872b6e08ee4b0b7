package simulate

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
)

// A sweep is many runs of `tafweej simulate --json` (seeds, demands, dwell
// factors); Aggregate sums their reports up per setting, PrintSweep prints
// the result as Markdown tables (docs/closed-loop.md).

// Setting is what a group of runs of a sweep shares.
type Setting struct {
	Groups      int     `json:"groups"`
	DwellFactor float64 `json:"dwell_factor"`
	LateShare   float64 `json:"late_share"`
}

// SweepRow is one setting of a sweep: its runs summed up.
type SweepRow struct {
	Setting
	Runs  int         `json:"runs"`
	Seeds []uint64    `json:"seeds"`
	Zones []SweepZone `json:"zones"`
	// Visitors booked and admitted, mean and range over the runs.
	Booked   Spread `json:"visitors_booked"`
	Admitted Spread `json:"admitted"`
	// Holds: groups held and the minutes they waited, per run.
	GroupsHeld    Spread `json:"groups_held"`
	MinutesWaited Spread `json:"minutes_waited"`
	// Alert: admissions into closed zones after the flood warning (all
	// runs), and the runs in which every gate rejected within 1 s.
	AdmissionsIntoClosed int `json:"admissions_into_closed"`
	GatesWithin1s        int `json:"runs_every_gate_within_1s"`
	AlertRuns            int `json:"runs_with_alert"`
	// RunsOverCapacity counts the runs with a zone over capacity in the
	// truth and in the estimate.
	RunsOverCapacityTruth    int `json:"runs_over_capacity_truth"`
	RunsOverCapacityEstimate int `json:"runs_over_capacity_estimate"`
	// MoveLagSeconds: the most a move was played late, in simulated
	// seconds (the simulation keeping up with --speed).
	MoveLagSeconds Spread `json:"move_lag_seconds"`
}

// SweepZone is one zone over the runs of a setting.
type SweepZone struct {
	Zone     string `json:"zone"`
	Capacity int    `json:"capacity"`
	HoldAt   int    `json:"hold_at"`
	// Truth.
	Peak                Spread `json:"peak"`
	MinutesOverHold     Spread `json:"minutes_over_hold"`
	MinutesOverCapacity Spread `json:"minutes_over_capacity"`
	RunsOverCapacity    int    `json:"runs_over_capacity"`
	// The service's estimate.
	EstimatePeak                Spread `json:"estimate_peak"`
	EstimateMinutesOverCapacity Spread `json:"estimate_minutes_over_capacity"`
	EstimateMaxError            Spread `json:"estimate_max_error"`
	EstimateMaxDrift            Spread `json:"estimate_max_drift"`
	// InsideMaxError is the admissions-and-routes model's (inside)
	// largest error against the truth.
	InsideMaxError      Spread `json:"inside_max_error"`
	EstimateReadingsOff int    `json:"estimate_readings_off"`
	EstimateReadings    int    `json:"estimate_readings"`
}

// Spread is the mean, least and most of a figure over runs.
type Spread struct {
	Mean float64 `json:"mean"`
	Min  int     `json:"min"`
	Max  int     `json:"max"`
	n    int
}

func (s *Spread) add(v int) {
	if s.n == 0 || v < s.Min {
		s.Min = v
	}
	if s.n == 0 || v > s.Max {
		s.Max = v
	}
	s.Mean = (s.Mean*float64(s.n) + float64(v)) / float64(s.n+1)
	s.n++
}

// String is "mean (min–max)", or the figure when all runs agree.
func (s Spread) String() string {
	if s.Min == s.Max {
		return fmt.Sprint(s.Min)
	}
	return fmt.Sprintf("%.0f (%d–%d)", s.Mean, s.Min, s.Max)
}

// Aggregate sums reports up per setting (groups, dwell factor, late share),
// in that order.
func Aggregate(reports []Report) []SweepRow {
	rows := map[Setting]*SweepRow{}
	for _, r := range reports {
		k := Setting{Groups: r.Groups, DwellFactor: r.DwellFactor, LateShare: r.LateShare}
		row := rows[k]
		if row == nil {
			row = &SweepRow{Setting: k}
			rows[k] = row
		}
		row.Runs++
		row.Seeds = append(row.Seeds, r.Seed)
		row.Booked.add(r.Visitors)
		row.Admitted.add(r.Admitted)
		row.GroupsHeld.add(r.Holds.Groups)
		row.MinutesWaited.add(r.Holds.MinutesWaited)
		row.MoveLagSeconds.add(int(r.MoveLagSeconds))
		if a := r.Alert; a != nil {
			row.AlertRuns++
			row.AdmissionsIntoClosed += a.AdmissionsIntoClosed
			if a.EveryGateRejectsWithin1s {
				row.GatesWithin1s++
			}
		}
		overT, overE := false, false
		for _, z := range r.Zones {
			i := slices.IndexFunc(row.Zones, func(s SweepZone) bool { return s.Zone == z.Zone })
			if i < 0 {
				row.Zones = append(row.Zones, SweepZone{Zone: z.Zone, Capacity: z.Capacity, HoldAt: z.HoldAt})
				i = len(row.Zones) - 1
			}
			sz := &row.Zones[i]
			sz.Peak.add(z.Truth.Peak)
			sz.MinutesOverHold.add(z.Truth.MinutesOverHold)
			sz.MinutesOverCapacity.add(z.Truth.MinutesOverCapacity)
			if z.Truth.MinutesOverCapacity > 0 {
				sz.RunsOverCapacity++
				overT = true
			}
			sz.EstimatePeak.add(z.Estimate.Peak)
			sz.EstimateMinutesOverCapacity.add(z.Estimate.MinutesOverCapacity)
			sz.EstimateMaxError.add(z.Estimate.MaxError)
			sz.EstimateMaxDrift.add(z.Estimate.MaxDrift)
			if f, ok := z.Figures["inside"]; ok {
				sz.InsideMaxError.add(f.MaxError)
			}
			sz.EstimateReadingsOff += z.Estimate.ReadingsOff
			sz.EstimateReadings += z.Estimate.Readings
			overE = overE || z.Estimate.MinutesOverCapacity > 0
		}
		row.RunsOverCapacityTruth += b2i(overT)
		row.RunsOverCapacityEstimate += b2i(overE)
	}
	var out []SweepRow
	for _, r := range rows {
		slices.Sort(r.Seeds)
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b SweepRow) int {
		return cmp.Or(cmp.Compare(a.Groups, b.Groups), cmp.Compare(a.DwellFactor, b.DwellFactor), cmp.Compare(a.LateShare, b.LateShare))
	})
	return out
}

// PrintSweep prints the sweep as Markdown: for each setting, a table of the
// zones and the run's totals.
func PrintSweep(w io.Writer, rows []SweepRow) {
	for _, r := range rows {
		fmt.Fprintf(w, "### --groups %d, --dwell-factor %.1f, --late-share %.2f: %d runs (seeds %s)\n\n",
			r.Groups, r.DwellFactor, r.LateShare, r.Runs, seedList(r.Seeds))
		fmt.Fprintln(w, "Figures are the mean over the runs (least–most).")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| zone | capacity | hold at | true peak | true min ≥ hold | true min > capacity | runs over capacity | estimate peak | estimate min > capacity | estimate max error | estimate max drift | readings off (>5% or 20) | inside max error |")
		fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
		for _, z := range r.Zones {
			fmt.Fprintf(w, "| %s | %d | %d | %s | %s | %s | %d | %s | %s | %s | %s | %d/%d | %s |\n", z.Zone, z.Capacity, z.HoldAt,
				z.Peak, z.MinutesOverHold, z.MinutesOverCapacity, z.RunsOverCapacity,
				z.EstimatePeak, z.EstimateMinutesOverCapacity, z.EstimateMaxError, z.EstimateMaxDrift, z.EstimateReadingsOff, z.EstimateReadings,
				z.InsideMaxError)
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "Visitors booked %s, admitted %s; groups held %s, minutes they waited %s; "+
			"runs with a zone over capacity: %d of %d in the truth, %d in the estimate; "+
			"flood warning: %d admissions into closed zones after it, every gate rejecting within 1 s in %d of %d runs; "+
			"the most a move was played late: %s simulated seconds.\n\n",
			r.Booked, r.Admitted, r.GroupsHeld, r.MinutesWaited, r.RunsOverCapacityTruth, r.Runs, r.RunsOverCapacityEstimate,
			r.AdmissionsIntoClosed, r.GatesWithin1s, r.AlertRuns, r.MoveLagSeconds)
	}
}

func seedList(seeds []uint64) string {
	var s []string
	for _, x := range seeds {
		s = append(s, fmt.Sprint(x))
	}
	return strings.Join(s, ",")
}
