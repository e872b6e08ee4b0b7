package main

import (
	"testing"
	"time"
)

// TestAvailabilityPrintsWhatLimitsAWave: the availability command's
// LIMITED BY column names the gate, the zone and when, or the operator's
// share.
func TestAvailabilityPrintsWhatLimitsAWave(t *testing.T) {
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.FixedZone("+03", 3*3600))
	for _, c := range []struct {
		l    *limitJS
		want string
	}{
		{&limitJS{Kind: "zone", ID: "siq", At: at, Rule: "capacity"}, "zone siq at 08:00"},
		{&limitJS{Kind: "zone", ID: "treasury", At: at.Add(75 * time.Minute), Rule: "closed"}, "zone treasury at 09:15 (closed)"},
		{&limitJS{Kind: "zone", ID: "siq", At: at, Rule: "walk_in_share"}, "zone siq at 08:00 (walk-in share kept)"},
		{&limitJS{Kind: "gate", ID: "visitor-centre", At: at, Rule: "capacity"}, "gate visitor-centre"},
		{&limitJS{Kind: "operator", ID: "wadi-tours", At: at, Rule: "operator_wave_share"}, "your share of the wave"},
		{nil, ""},
	} {
		if got := c.l.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.l, got, c.want)
		}
	}
}
