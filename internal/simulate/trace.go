package simulate

import (
	"context"
	"encoding/json"
	"os"
	"time"
)

// A diagnostic trace for studying the closed loop (docs/closed-loop.md):
// with TAFWEEJ_SIM_TRACE=FILE set, every occupancy reading also reads
// GET /v1/forecast, and at the end FILE gets one JSON object per line:
// the readings with the forecast made at each, every party's walk, and
// the truth's changes. It is not part of the report or its contract.

const traceEnv = "TAFWEEJ_SIM_TRACE"

type traceForecast struct {
	at    time.Time
	zones map[string][]int
	held  int
	dwell map[string]float64
}

// traceForecastNow reads GET /v1/forecast when the trace is on.
func (s *simulator) traceForecastNow(ctx context.Context, at time.Time) {
	if os.Getenv(traceEnv) == "" {
		return
	}
	var fc struct {
		Zones []struct {
			Zone     string `json:"zone"`
			Visitors []int  `json:"visitors"`
		} `json:"zones"`
		Held  []json.RawMessage `json:"held"`
		Dwell []struct {
			Zone   string  `json:"zone"`
			Factor float64 `json:"factor"`
			Model  float64 `json:"model_factor"`
		} `json:"dwell"`
	}
	if err := s.doRetry(ctx, s.ops, "GET", "/v1/forecast", nil, &fc); err != nil {
		return
	}
	tf := traceForecast{at: at, zones: map[string][]int{}, held: len(fc.Held), dwell: map[string]float64{}}
	for _, d := range fc.Dwell {
		tf.dwell[d.Zone] = d.Factor
		tf.dwell["model"] = d.Model
	}
	for _, z := range fc.Zones {
		tf.zones[z.Zone] = z.Visitors
	}
	s.traceFc = append(s.traceFc, tf)
}

// writeTrace writes the trace file, if asked for.
func (s *simulator) writeTrace() {
	name := os.Getenv(traceEnv)
	if name == "" {
		return
	}
	f, err := os.Create(name)
	if err != nil {
		return
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	for _, rd := range s.readings {
		enc.Encode(map[string]any{"kind": "reading", "at": rd.at, "figures": rd.figures})
	}
	for _, fc := range s.traceFc {
		enc.Encode(map[string]any{"kind": "forecast", "at": fc.at, "zones": fc.zones, "held": fc.held, "dwell": fc.dwell})
	}
	for _, p := range s.parties {
		var stops []map[string]any
		for _, st := range p.stops {
			stops = append(stops, map[string]any{"zone": st.zone, "in": st.in, "out": st.out, "entered": st.entered, "skipped": st.skipped})
		}
		enc.Encode(map[string]any{"kind": "party", "group": p.gr.index, "route": p.gr.route, "n": p.n, "offset_min": p.gr.offset.Minutes(), "slot": slotOf(p.gr), "held_scans": p.gr.heldScans, "stops": stops})
	}
	for _, c := range s.truth.sorted() {
		enc.Encode(map[string]any{"kind": "change", "at": c.at, "zone": c.zone, "delta": c.delta})
	}
}

func slotOf(gr *simGroup) any {
	if gr.booking == nil {
		return nil
	}
	return gr.booking.Slot
}
