package scheduler

import "testing"

// TestSpreadCheckBindsAtMinuteZeroWithoutCounters: a zone whose counters
// have not reported has no gap to fade; its projection at minute 0 must
// still bind the check. The faded gap there was 0·exp(−0/0) = NaN, and
// every comparison with NaN is false: a group was let into such a zone
// already full at the minute it would enter.
func TestSpreadCheckBindsAtMinuteZeroWithoutCounters(t *testing.T) {
	const h = 40
	mean, vari := make([]float64, h), make([]float64, h)
	mean[0] = 590 // the zone is all but full now, empty a minute later
	c := &spreadCache{mean: map[string][]float64{"z": mean}, vari: map[string][]float64{"z": vari}}
	sp := []spreadStop{{Zone: "z", Arrive: 0, Leave: 30, SdArr: 1, SdLeave: 1, Stay: 30}}
	r, _ := newSpreadRoute(sp, c, map[string]float64{}, map[string]float64{}, map[string]float64{"z": 600}, 20, nil)
	zone, minute, ok := r.check(0)
	if ok || zone != "z" || minute != 0 {
		t.Errorf("20 visitors entering a zone of 600 holding 590 now: check = (%q, %d, %v), want (\"z\", 0, false)", zone, minute, ok)
	}
	// Five minutes from now the zone is empty: they fit.
	if _, _, ok := r.check(5); !ok {
		t.Errorf("20 visitors entering an empty zone of 600 five minutes from now were refused")
	}
}
