package api

import (
	"context"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/scheduler"
)

// GET /v1/sensors shows a suspect sensor with its rule and latest totals;
// POST /v1/sensors/{id}/trust clears it without moving live occupancy.
func TestSensorsSuspectAndTrust(t *testing.T) {
	h := newHarness(t, nil)
	now := h.clock.Now()
	for _, r := range []scheduler.CounterReading{
		{Sensor: "siq-n1", Zone: "siq", Boot: "b1", Seq: 1, In: 300, Out: 20, At: now},
		{Sensor: "siq-n1", Zone: "siq", Boot: "b1", Seq: 2, In: 300, Out: 999999999, At: now},
	} {
		if _, err := h.eng.Do(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	var l SensorList
	r := h.do("GET", "/v1/sensors", h.opsKey, nil)
	r.decode(t, &l)
	if r.code != 200 || len(l.Sensors) != len(h.cfg.Sensors) {
		t.Fatalf("GET /v1/sensors: %d %s", r.code, r.body)
	}
	var n1 SensorStatus
	for _, s := range l.Sensors {
		if s.Sensor == "siq-n1" {
			n1 = s
		}
	}
	if !n1.Suspect || n1.SuspectRule != scheduler.RuleRate || n1.In != 300 || n1.Out != 20 || n1.Pending == nil || n1.Pending.Out != 999999999 {
		t.Errorf("siq-n1: %+v", n1)
	}
	if r := h.do("GET", "/v1/sensors", h.key(auth.RoleOperator, "op-wadi", nil), nil); r.code != 403 {
		t.Errorf("an operator listed the sensors: %d", r.code)
	}
	if r := h.do("POST", "/v1/sensors/siq-m1/trust", h.opsKey, nil); r.code != 409 {
		t.Errorf("trust a sensor that is not suspect: %d %s", r.code, r.body)
	}
	if r := h.do("POST", "/v1/sensors/siq-x9/trust", h.opsKey, nil); r.code != 400 || r.errorBody(t).Field != "sensor" {
		t.Errorf("trust an unknown sensor: %d %s", r.code, r.body)
	}
	if r := h.do("POST", "/v1/sensors/siq-n1/trust", h.opsKey, nil); r.code != 204 {
		t.Fatalf("trust: %d %s", r.code, r.body)
	}
	r = h.do("GET", "/v1/sensors", h.opsKey, nil)
	r.decode(t, &l)
	for _, s := range l.Sensors {
		if s.Sensor == "siq-n1" && (s.Suspect || s.Out != 999999999) {
			t.Errorf("after trust: %+v", s)
		}
	}
	var live int
	if err := h.eng.Read(context.Background(), func(s *scheduler.State, _ time.Time) { live = s.Live("siq") }); err != nil {
		t.Fatal(err)
	}
	if live != 280 {
		t.Errorf("live %d after trust, want 280", live)
	}
}
