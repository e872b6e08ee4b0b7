package scheduler

import "math"

// StopChange is one stop of a route as the learned dwell would have it.
type StopChange struct {
	Route string `json:"route"`
	// Stop is the stop's index in the route.
	Stop      int    `json:"stop"`
	Zone      string `json:"zone"`
	Arrive    int    `json:"arrive"`
	Stay      int    `json:"stay"`
	NewArrive int    `json:"new_arrive"`
	NewStay   int    `json:"new_stay"`
}

// AdoptDwell is what the routes' stops become when the learned dwell
// factors are adopted into the configuration's figures, for planning:
// each stay in a zone with a factor becomes stay × factor (whole minutes,
// at least 1), and every later stop of the route arrives that much later
// (the walks between the stops stay as configured) — the zone model's
// timing (zonemodel.go) written back as figures. Only the stops that
// change are listed, route by route in configuration order.
func AdoptDwell(cfg *Config, factor map[string]float64) []StopChange {
	var out []StopChange
	for _, r := range cfg.Routes {
		shift := 0
		for i, st := range r.Stops {
			stay := st.Stay
			if f, ok := factor[st.Zone]; ok && f > 0 {
				stay = max(int(math.Round(float64(st.Stay)*f)), 1)
			}
			c := StopChange{Route: r.ID, Stop: i, Zone: st.Zone, Arrive: st.Arrive, Stay: st.Stay,
				NewArrive: st.Arrive + shift, NewStay: stay}
			shift += stay - st.Stay
			if c.NewArrive != c.Arrive || c.NewStay != c.Stay {
				out = append(out, c)
			}
		}
	}
	return out
}
