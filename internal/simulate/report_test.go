package simulate

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestReportTruthAgainstEstimate: a Treasury plaza (capacity 600, hold at
// 510) that held 550 from 06:10, 650 from 06:20:30 and nobody from 06:25,
// read four times by the service: the report has the true peak and its
// time, the minutes at or over the hold threshold and over capacity, the
// estimate's own peak and minutes (a minute without a reading keeps the
// last one), its largest error and drift against the truth, the readings
// off by more than 5% or 20, and the other figures beside it.
func TestReportTruthAgainstEstimate(t *testing.T) {
	s := testSimulator(t, Options{})
	at := func(hh, mm, ss int) time.Time {
		return time.Date(2026, 12, 1, hh, mm, ss, 0, s.cfg.Location())
	}
	s.truth.enter(at(6, 10, 0), "treasury", 550)
	s.truth.enter(at(6, 20, 30), "treasury", 100)
	s.truth.leave(at(6, 25, 0), "treasury", 650)
	read := func(t time.Time, live, inside int) {
		s.readings = append(s.readings, reading{at: t, figures: map[string]map[string]int{
			"treasury": {"live": live, "inside": inside}, "siq": {"live": 0, "inside": 0}}})
	}
	read(at(6, 10, 30), 500, 550) // 50 under, within the counters' minute
	read(at(6, 21, 0), 640, 650)  // 10 under
	read(at(6, 22, 0), 700, 650)  // 50 over: drift 50
	read(at(6, 26, 0), 100, 0)    // 100 over a plaza emptied a minute ago

	r := s.buildReport()
	var tr *ZoneReport
	for i := range r.Zones {
		if r.Zones[i].Zone == "treasury" {
			tr = &r.Zones[i]
		}
	}
	if tr == nil || tr.Capacity != 600 || tr.HoldAt != 510 {
		t.Fatalf("treasury zone report = %+v, want capacity 600 and hold at 510 from the configuration", tr)
	}
	wantTruth := TruthReport{Peak: 650, PeakAt: at(6, 20, 30), MinutesOverHold: 15, MinutesOverCapacity: 5,
		Entered: 650, Left: 650, Inside: 0}
	if tr.Truth != wantTruth {
		t.Errorf("truth = %+v\nwant    %+v", tr.Truth, wantTruth)
	}
	// Readings per minute: 06:10 500, carried to 06:20; 06:21 640; 06:22
	// 700 carried to 06:25; 06:26 100 on.
	wantEst := FigureReport{Peak: 700, PeakAt: at(6, 22, 0), MinutesOverHold: 5, MinutesOverCapacity: 5,
		MaxError: 100, MaxErrorAt: at(6, 26, 0), ReadingsOff: 3, Readings: 4, MaxDrift: 100, MaxDriftAt: at(6, 26, 0)}
	if tr.Estimate != wantEst {
		t.Errorf("estimate = %+v\nwant       %+v", tr.Estimate, wantEst)
	}
	if tr.Figures["live"] != tr.Estimate {
		t.Errorf("the estimate is not the %q figure: %+v", EstimateField, tr.Figures)
	}
	in := tr.Figures["inside"]
	if in.Peak != 650 || in.MaxError != 0 || in.Readings != 4 || in.MinutesOverCapacity != 5 {
		t.Errorf("inside figure = %+v, want peak 650, no error, 4 readings, 5 minutes over capacity", in)
	}
	if sq := r.Zones[1]; sq.Zone != "siq" || sq.Truth.Peak != 0 || sq.Estimate.Readings != 4 || sq.Estimate.MaxError != 0 {
		t.Errorf("siq = %+v, want an empty zone read 4 times", sq)
	}
}

// TestReportJSONHasTheContractFields: `tafweej simulate --json` has
// zones[] with zone, capacity, truth {peak, minutes_over_hold,
// minutes_over_capacity} and estimate {peak, minutes_over_capacity,
// max_error}, and admitted, with the figures of the run.
func TestReportJSONHasTheContractFields(t *testing.T) {
	s := testSimulator(t, Options{})
	s.truth.enter(s.start.Add(time.Minute), "siq", 1300)
	s.readings = append(s.readings, reading{at: s.start.Add(2 * time.Minute), figures: map[string]map[string]int{"siq": {"live": 1250}}})
	s.st.Admitted = 1300
	var buf bytes.Buffer
	if err := printJSON(&buf, s.buildReport()); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["admitted"] != 1300.0 {
		t.Errorf("admitted = %v, want 1300", doc["admitted"])
	}
	zones, _ := doc["zones"].([]any)
	if len(zones) != len(s.cfg.Zones) {
		t.Fatalf("%d zones, want %d:\n%s", len(zones), len(s.cfg.Zones), buf.String())
	}
	var siq map[string]any
	for _, z := range zones {
		zm := z.(map[string]any)
		for _, k := range []string{"zone", "capacity", "truth", "estimate"} {
			if _, ok := zm[k]; !ok {
				t.Fatalf("zone %v has no %q", zm["zone"], k)
			}
		}
		if zm["zone"] == "siq" {
			siq = zm
		}
	}
	if siq == nil {
		t.Fatal("no siq zone")
	}
	truth, estimate := siq["truth"].(map[string]any), siq["estimate"].(map[string]any)
	want := map[string]float64{"peak": 1300, "minutes_over_hold": 599, "minutes_over_capacity": 599}
	for k, v := range want {
		if truth[k] != v {
			t.Errorf("siq truth.%s = %v, want %v", k, truth[k], v)
		}
	}
	// One reading over capacity, carried to the end of the run.
	want = map[string]float64{"peak": 1250, "minutes_over_capacity": 598, "max_error": 50}
	for k, v := range want {
		if estimate[k] != v {
			t.Errorf("siq estimate.%s = %v, want %v", k, estimate[k], v)
		}
	}
	if siq["capacity"] != 1200.0 {
		t.Errorf("siq capacity = %v, want 1200", siq["capacity"])
	}
	// The figures of the run are still there, at the top level.
	for _, k := range []string{"admitted_visitors", "scans", "bookings", "holds", "dwell_factor", "late_share"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("no %q in the JSON:\n%s", k, buf.String())
		}
	}
}

// TestReportHoldsAndTheAlertAtTheGates: held groups wait from their first
// "held" to their first admission, or to the end of the run; admissions
// after the flood warning count only on routes through the zones it
// closed, and one more than a second after it breaks "every gate rejects
// within 1 s".
func TestReportHoldsAndTheAlertAtTheGates(t *testing.T) {
	s := testSimulator(t, Options{})
	s.groups = []*simGroup{
		{size: 40, heldAt: s.start.Add(3 * time.Hour), firstAdmit: s.start.Add(3*time.Hour + 40*time.Minute), heldScans: 2},
		{size: 20, heldAt: s.start.Add(9 * time.Hour), heldScans: 1},
		{size: 30, firstAdmit: s.start.Add(time.Hour)},
	}
	sent := time.Now()
	s.alertRep = &AlertReport{At: s.start.Add(8 * time.Hour), Result: "closed"}
	s.alertSent = sent
	s.alertZones = map[string]bool{"monastery": true}
	s.postAlert = []admission{
		{route: "main", at: s.alertRep.At.Add(90 * time.Second), wall: sent.Add(1500 * time.Millisecond)},     // not through the Monastery
		{route: "monastery", at: s.alertRep.At.Add(20 * time.Second), wall: sent.Add(400 * time.Millisecond)}, // through it
	}
	r := s.buildReport()
	wantHolds := HoldReport{Groups: 2, Scans: 3, MinutesWaited: 100, MaxWait: 60, NeverAdmitted: 1, VisitorsHeld: 60}
	if r.Holds != wantHolds {
		t.Errorf("holds = %+v\nwant    %+v", r.Holds, wantHolds)
	}
	a := r.Alert
	if a.AdmissionsIntoClosed != 1 || a.LastAdmissionSeconds == nil || *a.LastAdmissionSeconds != 20 || !a.EveryGateRejectsWithin1s {
		t.Errorf("alert = %+v, want one admission into the closed Monastery 20 s after, within 1 s", a)
	}
	if strings.Join(a.ClosedZones, ",") != "monastery" {
		t.Errorf("closed zones = %v", a.ClosedZones)
	}
	s.postAlert = append(s.postAlert, admission{route: "back-trail", at: s.alertRep.At.Add(time.Minute), wall: sent.Add(1200 * time.Millisecond)})
	r = s.buildReport()
	if r.Alert.AdmissionsIntoClosed != 2 || r.Alert.EveryGateRejectsWithin1s {
		t.Errorf("alert = %+v, want two admissions into the closed Monastery, the last 1.2 s after: not within 1 s", r.Alert)
	}
}
