package api

import (
	"net/http"
	"time"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/scheduler"
)

// SensorStatus is a people counter as GET /v1/sensors shows it: its last
// applied totals and whether it is suspect (a reading no crowd can produce;
// scheduler/plausible.go).
type SensorStatus struct {
	Sensor       string                   `json:"sensor"`
	Zone         string                   `json:"zone"`
	Boot         string                   `json:"boot,omitempty"`
	Seq          uint64                   `json:"seq"`
	In           int64                    `json:"in_total"`
	Out          int64                    `json:"out_total"`
	At           *time.Time               `json:"at,omitempty"`
	Suspect      bool                     `json:"suspect"`
	SuspectRule  string                   `json:"suspect_rule,omitempty"`
	SuspectSince *time.Time               `json:"suspect_since,omitempty"`
	Pending      *scheduler.SensorReading `json:"pending,omitempty"`
}

// SensorList is the answer of GET /v1/sensors: every configured sensor.
type SensorList struct {
	Sensors []SensorStatus `json:"sensors"`
}

func (s *Server) sensorRoutes() []route {
	ops := []string{auth.RoleOps}
	return []route{
		{"GET", "/v1/sensors", ops, s.listSensors},
		{"POST", "/v1/sensors/{id}/trust", ops, s.trustSensor},
	}
}

// listSensors: GET /v1/sensors.
func (s *Server) listSensors(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	var states []scheduler.SensorState
	if err := s.eng.Read(r.Context(), func(st *scheduler.State, _ time.Time) { states = st.Sensors() }); err != nil {
		return engineError(err)
	}
	byID := map[string]scheduler.SensorState{}
	for _, st := range states {
		byID[st.Sensor] = st
	}
	out := SensorList{Sensors: make([]SensorStatus, 0, len(s.cfg.Sensors))}
	for _, sc := range s.cfg.Sensors {
		st := byID[sc.ID]
		ss := SensorStatus{Sensor: sc.ID, Zone: sc.Zone, Boot: st.Boot, Seq: st.Seq, In: st.In, Out: st.Out,
			Suspect: st.Suspect, SuspectRule: st.SuspectRule, Pending: st.Pending}
		if !st.At.IsZero() {
			at := st.At.In(s.loc)
			ss.At = &at
		}
		if !st.SuspectSince.IsZero() {
			since := st.SuspectSince.In(s.loc)
			ss.SuspectSince = &since
		}
		out.Sensors = append(out.Sensors, ss)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// trustSensor: POST /v1/sensors/{id}/trust.
func (s *Server) trustSensor(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	res, err := s.eng.Do(r.Context(), scheduler.TrustSensor{Sensor: r.PathValue("id")})
	if e := fromEngine(res, err); e != nil {
		return e
	}
	s.log.Info("sensor trusted: its current totals are its new baseline", "sensor", r.PathValue("id"))
	w.WriteHeader(http.StatusNoContent)
	return nil
}
