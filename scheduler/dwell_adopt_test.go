package scheduler

import "testing"

// TestAdoptDwellKeepsTheWalksBetweenStops: adopting a factor for a zone
// lengthens its stays and moves every later stop of each route by as
// much, keeping the walks between stops; the result equals the zone
// model's timing with the same factors.
func TestAdoptDwellKeepsTheWalksBetweenStops(t *testing.T) {
	cfg := petra(t)
	f := map[string]float64{"treasury": 1.3, "monastery": 1.25}
	changes := AdoptDwell(cfg, f)
	if len(changes) == 0 {
		t.Fatal("nothing changes")
	}
	got := map[string]map[int]StopChange{}
	for _, c := range changes {
		if got[c.Route] == nil {
			got[c.Route] = map[int]StopChange{}
		}
		got[c.Route][c.Stop] = c
	}
	for _, r := range cfg.Routes {
		spans := routeSpans(&r, f)
		for i, st := range r.Stops {
			c, ok := got[r.ID][i]
			if !ok {
				c = StopChange{NewArrive: st.Arrive, NewStay: st.Stay}
			}
			if d := float64(c.NewArrive) - spans[i].Arrive; d > 1 || d < -1 {
				// Whole minutes: within a minute of the model's (75 × 1.25 = 93.75 rounds to 94).
				t.Errorf("%s stop %d (%s): arrives at %d, the zone model says %.1f", r.ID, i, st.Zone, c.NewArrive, spans[i].Arrive)
			}
			if st.Zone == "treasury" && c.NewStay != int(float64(st.Stay)*1.3+0.5) {
				t.Errorf("%s stop %d: treasury stay %d, want %d", r.ID, i, c.NewStay, int(float64(st.Stay)*1.3+0.5))
			}
			if st.Zone == "siq" && c.NewStay != st.Stay {
				t.Errorf("%s stop %d: the Siq's stay changed to %d", r.ID, i, c.NewStay)
			}
		}
	}
	if c := got["main"][3]; c.Zone != "street-of-facades" || c.NewArrive != 105+9 {
		t.Errorf("main's Street of Facades after a 39-minute Treasury: %+v, want arrive 114", c)
	}
}
