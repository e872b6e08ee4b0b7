package simulate

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"
)

// The report: per zone, the simulated truth against the service's
// estimate (GET /v1/occupancy polled on the simulated clock), the flood
// warning's effect at the gates, the holds and what they cost.

// EstimateField is the figure of GET /v1/occupancy taken as the service's
// estimate of a zone's occupancy: its best estimate, the one holds act on.
const EstimateField = "live"

// Report is what `tafweej simulate` prints: the figures of the run (Stats)
// and how the service's picture of the crowd compared with the truth.
type Report struct {
	Stats
	// Admitted is the number of visitors the gates admitted.
	Admitted int          `json:"admitted"`
	Zones    []ZoneReport `json:"zones"`
	Holds    HoldReport   `json:"holds"`
	Alert    *AlertReport `json:"alert,omitempty"`
	// DwellFactor and LateShare are the world's deviations from the
	// model the run played.
	DwellFactor float64 `json:"dwell_factor"`
	LateShare   float64 `json:"late_share"`
	Seed        uint64  `json:"seed"`
	Speed       float64 `json:"speed"`
	// Polls is how many times GET /v1/occupancy was read.
	Polls int `json:"occupancy_polls"`
	// MoveLagSeconds is the most, in simulated seconds, a visitor's move
	// was played after its planned time (the simulation keeping up with
	// --speed); the truth and the counters both have the played time.
	MoveLagSeconds float64 `json:"move_lag_seconds"`
}

// ZoneReport is one zone's truth and estimate over the run.
type ZoneReport struct {
	Zone     string       `json:"zone"`
	Capacity int          `json:"capacity"`
	HoldAt   int          `json:"hold_at"`
	Truth    TruthReport  `json:"truth"`
	Estimate FigureReport `json:"estimate"`
	// Figures are every occupancy figure GET /v1/occupancy gives for the
	// zone (live, inside, ...), each against the truth; Estimate is
	// Figures[EstimateField].
	Figures map[string]FigureReport `json:"figures,omitempty"`
}

// TruthReport is a zone's true occupancy over the run. A minute counts
// over the hold threshold when the zone reached hold_at at some moment of
// it, over capacity when it held more than its capacity at some moment.
type TruthReport struct {
	Peak                int       `json:"peak"`
	PeakAt              time.Time `json:"peak_at,omitzero"`
	MinutesOverHold     int       `json:"minutes_over_hold"`
	MinutesOverCapacity int       `json:"minutes_over_capacity"`
	// Entered and Left count the people who entered and left the zone;
	// Inside is who is still there at the end (Entered = Inside + Left).
	Entered int `json:"entered"`
	Left    int `json:"left"`
	Inside  int `json:"inside"`
}

// FigureReport is one figure of the service over the run, against the
// truth at the moment of each reading. Minutes count as for the truth, a
// minute without a reading taking the last one before it.
type FigureReport struct {
	Peak                int       `json:"peak"`
	PeakAt              time.Time `json:"peak_at,omitzero"`
	MinutesOverHold     int       `json:"minutes_over_hold"`
	MinutesOverCapacity int       `json:"minutes_over_capacity"`
	// MaxError is the largest |figure - truth| at a reading, at
	// MaxErrorAt.
	MaxError   int       `json:"max_error"`
	MaxErrorAt time.Time `json:"max_error_at,omitzero"`
	// ReadingsOff counts the readings off the truth by more than 5% of
	// it or 20 people, whichever is more.
	ReadingsOff int `json:"readings_off"`
	// MaxDrift is the largest distance of a reading from every true
	// occupancy of the minute before it: the error that the counters'
	// once-a-minute messages do not explain.
	MaxDrift   int       `json:"max_drift"`
	MaxDriftAt time.Time `json:"max_drift_at,omitzero"`
	Readings   int       `json:"readings"`
}

// HoldReport is what the holds cost: groups a gate answered "held", the
// minutes from that first answer to their first admission (to the end
// of the run for those never admitted).
type HoldReport struct {
	Groups        int `json:"groups_held"`
	Scans         int `json:"held_scans"`
	MinutesWaited int `json:"minutes_waited"`
	MaxWait       int `json:"max_wait_minutes"`
	NeverAdmitted int `json:"never_admitted"`
	VisitorsHeld  int `json:"visitors_held"`
}

// AlertReport is the flood warning at the gates: the admissions of groups
// whose route crosses a zone it closed, made after it was sent.
type AlertReport struct {
	At     time.Time `json:"at"`
	Result string    `json:"result"`
	// RepliedAfterMs is how long the service took to answer the alert,
	// in real milliseconds.
	RepliedAfterMs float64  `json:"replied_after_ms"`
	ClosedZones    []string `json:"closed_zones"`
	// AdmissionsIntoClosed counts admissions, after the alert was sent,
	// of groups whose route crosses a zone it closed; LastAdmission* is
	// the last one, after the alert, in simulated seconds and real
	// milliseconds (absent when there was none).
	AdmissionsIntoClosed int      `json:"admissions_into_closed"`
	LastAdmissionSeconds *float64 `json:"last_admission_into_closed_seconds,omitempty"`
	LastAdmissionMs      *float64 `json:"last_admission_into_closed_ms,omitempty"`
	ClosedRejections     int      `json:"closed_rejections"`
	// EveryGateRejectsWithin1s: no gate admitted into a closed zone more
	// than one real second after the alert was sent.
	EveryGateRejectsWithin1s bool `json:"every_gate_rejects_within_1s"`
}

// reading is one read of GET /v1/occupancy: every zone's numeric figures.
type reading struct {
	at      time.Time
	figures map[string]map[string]int // zone → figure → value
}

// notOccupancy are the numeric fields of a zone in GET /v1/occupancy that
// are not occupancy figures.
var notOccupancy = map[string]bool{"capacity": true, "hold_at": true, "release_at": true}

// tolerance is how far an estimate may be off a true occupancy: 5% of it
// or 20 people, whichever is more (issue 16).
func tolerance(truth int) int { return max(20, truth*5/100) }

// buildReport computes the zones' figures from the truth and the readings.
func (s *simulator) buildReport() Report {
	s.finishAlert()
	r := Report{Stats: s.st, Admitted: s.st.Admitted, Holds: s.holds(), Alert: s.alertRep,
		DwellFactor: s.f.dwellFactor(), LateShare: s.f.lateShare(), Seed: s.f.Seed, Speed: s.f.Speed, Polls: len(s.readings),
		MoveLagSeconds: s.lag.Seconds()}
	minutes := max(1, int((s.end.Sub(s.start)+time.Minute-1)/time.Minute))
	series := s.truth.series(s.start, minutes)
	for _, zc := range s.cfg.Zones {
		zr := ZoneReport{Zone: zc.ID, Capacity: zc.Capacity, HoldAt: zc.HoldAt}
		zs := series[zc.ID]
		if zs == nil {
			zs = &zoneSeries{start: s.start, max: make([]int, minutes)}
		}
		tr := TruthReport{Entered: s.truth.entered[zc.ID], Left: s.truth.left[zc.ID], Inside: s.truth.inside[zc.ID]}
		for m, v := range zs.max {
			if v > tr.Peak {
				tr.Peak, tr.PeakAt = v, s.start.Add(time.Duration(m)*time.Minute)
			}
			tr.MinutesOverHold += b2i(zc.HoldAt > 0 && v >= zc.HoldAt)
			tr.MinutesOverCapacity += b2i(v > zc.Capacity)
		}
		for _, st := range zs.steps {
			if st.delta == tr.Peak && tr.Peak > 0 {
				tr.PeakAt = st.at
				break
			}
		}
		zr.Truth = tr
		zr.Figures = s.figureReports(zc.ID, zc.Capacity, zc.HoldAt, zs, minutes)
		zr.Estimate = zr.Figures[EstimateField]
		r.Zones = append(r.Zones, zr)
	}
	return r
}

// figureReports compares each figure of the readings of a zone with its
// truth.
func (s *simulator) figureReports(zone string, capacity, holdAt int, zs *zoneSeries, minutes int) map[string]FigureReport {
	names := map[string]bool{}
	for _, rd := range s.readings {
		for f := range rd.figures[zone] {
			names[f] = true
		}
	}
	out := map[string]FigureReport{}
	for f := range names {
		var fr FigureReport
		perMin := make([]int, minutes)
		seen := make([]bool, minutes)
		for _, rd := range s.readings {
			v, ok := rd.figures[zone][f]
			if !ok {
				continue
			}
			fr.Readings++
			if v > fr.Peak {
				fr.Peak, fr.PeakAt = v, rd.at
			}
			tv := zs.at(rd.at)
			if e := abs(v - tv); e > fr.MaxError {
				fr.MaxError, fr.MaxErrorAt = e, rd.at
			}
			if abs(v-tv) > tolerance(tv) {
				fr.ReadingsOff++
			}
			if d := zs.distance(v, rd.at.Add(-time.Minute), rd.at); d > fr.MaxDrift {
				fr.MaxDrift, fr.MaxDriftAt = d, rd.at
			}
			if m := int(rd.at.Sub(s.start) / time.Minute); m >= 0 && m < minutes {
				if !seen[m] || v > perMin[m] {
					perMin[m] = v
				}
				seen[m] = true
			}
		}
		last, have := 0, false
		for m := range minutes {
			if seen[m] {
				last, have = perMin[m], true
			}
			if !have {
				continue
			}
			v := last
			if seen[m] {
				v = perMin[m]
			}
			fr.MinutesOverHold += b2i(holdAt > 0 && v >= holdAt)
			fr.MinutesOverCapacity += b2i(v > capacity)
		}
		out[f] = fr
	}
	return out
}

// holds sums up the groups a gate answered "held".
func (s *simulator) holds() HoldReport {
	var h HoldReport
	for _, gr := range s.groups {
		h.Scans += gr.heldScans
		if gr.heldAt.IsZero() {
			continue
		}
		h.Groups++
		h.VisitorsHeld += gr.size
		until := gr.firstAdmit
		if until.IsZero() || until.Before(gr.heldAt) {
			if until.IsZero() {
				h.NeverAdmitted++
			}
			until = s.end
		}
		w := int(until.Sub(gr.heldAt) / time.Minute)
		h.MinutesWaited += w
		h.MaxWait = max(h.MaxWait, w)
	}
	return h
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// printZones prints the truth-against-estimate table and the holds and
// alert figures.
func printZones(w io.Writer, r Report) {
	var rows [][]string
	for _, z := range r.Zones {
		rows = append(rows, []string{z.Zone, strconv.Itoa(z.Capacity),
			fmt.Sprintf("%d (%d%%) %s", z.Truth.Peak, pct(z.Truth.Peak, z.Capacity), hhmm(z.Truth.PeakAt)),
			strconv.Itoa(z.Truth.MinutesOverHold), strconv.Itoa(z.Truth.MinutesOverCapacity),
			fmt.Sprintf("%d (%d%%) %s", z.Estimate.Peak, pct(z.Estimate.Peak, z.Capacity), hhmm(z.Estimate.PeakAt)),
			strconv.Itoa(z.Estimate.MinutesOverHold), strconv.Itoa(z.Estimate.MinutesOverCapacity),
			fmt.Sprintf("%d %s", z.Estimate.MaxError, hhmm(z.Estimate.MaxErrorAt)),
			fmt.Sprintf("%d %s", z.Estimate.MaxDrift, hhmm(z.Estimate.MaxDriftAt)),
			fmt.Sprintf("%d/%d", z.Estimate.ReadingsOff, z.Estimate.Readings)})
	}
	table(w, "ZONE\tCAP\tTRUE PEAK\tTRUE MIN ≥HOLD\tTRUE MIN >CAP\tEST PEAK ("+EstimateField+")\tEST MIN ≥HOLD\tEST MIN >CAP\tEST MAX ERROR\tEST MAX DRIFT\tREADINGS OFF", rows)
	fmt.Fprintln(w)
	// The other figures of the service against the truth.
	var others [][]string
	for _, z := range r.Zones {
		for _, f := range slices.Sorted(maps.Keys(z.Figures)) {
			if f == EstimateField {
				continue
			}
			fr := z.Figures[f]
			others = append(others, []string{z.Zone, f, strconv.Itoa(fr.Peak), strconv.Itoa(fr.MinutesOverCapacity),
				fmt.Sprintf("%d %s", fr.MaxError, hhmm(fr.MaxErrorAt))})
		}
	}
	if len(others) > 0 {
		table(w, "ZONE\tFIGURE\tPEAK\tMIN >CAP\tMAX ERROR", others)
		fmt.Fprintln(w)
	}
	h := r.Holds
	table(w, "HOLDS AND ADMISSIONS\tCOUNT", [][]string{
		{"visitors admitted", strconv.Itoa(r.Admitted)},
		{"occupancy readings", strconv.Itoa(r.Polls)},
		{"most a move was played late, simulated s", fmt.Sprintf("%.0f", r.MoveLagSeconds)},
		{"groups held", strconv.Itoa(h.Groups)},
		{"held scans", strconv.Itoa(h.Scans)},
		{"minutes waited by held groups", strconv.Itoa(h.MinutesWaited)},
		{"longest wait, minutes", strconv.Itoa(h.MaxWait)},
		{"held groups never admitted", strconv.Itoa(h.NeverAdmitted)},
	})
	if a := r.Alert; a != nil {
		fmt.Fprintln(w)
		last := "none"
		if a.LastAdmissionSeconds != nil {
			last = fmt.Sprintf("%.0f s simulated, %.0f ms real", *a.LastAdmissionSeconds, *a.LastAdmissionMs)
		}
		table(w, "FLOOD WARNING AT THE GATES\t", [][]string{
			{"sent at", a.At.Format("15:04:05")},
			{"result", a.Result},
			{"service replied after", fmt.Sprintf("%.0f ms", a.RepliedAfterMs)},
			{"zones closed", fmt.Sprint(a.ClosedZones)},
			{"admissions into closed zones after it", strconv.Itoa(a.AdmissionsIntoClosed)},
			{"last admission into a closed zone after it", last},
			{"scans rejected \"closed\" after it", strconv.Itoa(a.ClosedRejections)},
			{"every gate rejects within 1 s", strconv.FormatBool(a.EveryGateRejectsWithin1s)},
		})
	}
}

func pct(n, of int) int {
	if of <= 0 {
		return 0
	}
	return n * 100 / of
}

func hhmm(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return "at " + t.Format("15:04")
}
