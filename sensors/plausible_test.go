package sensors

import (
	"testing"

	"github.com/tafweej/tafweej/internal/subjects"
	"github.com/tafweej/tafweej/scheduler"
)

// The attack of issue 14: with 1,200 people in the Siq (held), one forged
// out_total=999999999 took it to 0 and released it. Now the reading is
// dead-lettered as implausible (rule named), the sensor is suspect (event,
// metric), the Siq stays at 1,200 and held, and the sensor's next real
// reading is applied. Operations then trust it.
func TestForgedOutTotalDoesNotEmptyTheSiq(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.at("08:00")
	dl := h.watchDeadLetters("counter")
	n1 := h.counter("siq-n1", "siq", "b1")
	n1.Add(1200, 0)
	publish(t, n1)
	h.waitSensor("siq-n1", "b1", 1)
	if o := h.occupancy("siq"); o.Live != 1200 || !o.Held {
		t.Fatalf("Siq %+v, want 1200 and held", o)
	}

	// The forger numbers its message as the device's next (seq 2).
	forged := h.counter("siq-n1", "siq", "b1")
	forged.Add(1200, 999999999)
	h.at("08:01")
	publish(t, forged) // seq 1: a duplicate id, dropped by JetStream
	publish(t, forged) // seq 2
	d := dl.wait(t, reasonImplausible, "tafweej.petra.counter.siq.siq-n1")
	if rule := d.Header.Get(subjects.HeaderRule); rule != scheduler.RuleRate {
		t.Errorf("dead letter rule %q, want %q (error %q)", rule, scheduler.RuleRate, d.Header.Get(subjects.HeaderError))
	}
	h.waitEvent(scheduler.EventSensorSuspect, `"sensor":"siq-n1"`)
	if o := h.occupancy("siq"); o.Live != 1200 || !o.Held {
		t.Errorf("after the forged reading the Siq is %+v, want 1200 and held", o)
	}
	if v := h.metric("tafweej_sensor_suspect", "sensor", "siq-n1"); v != 1 {
		t.Errorf("tafweej_sensor_suspect{sensor=siq-n1} = %v, want 1", v)
	}
	if v := h.metric("tafweej_sensor_messages_total", "result", "implausible"); v != 1 {
		t.Errorf("implausible readings counted %v, want 1", v)
	}

	// The real device's next readings: 30 more in, 10 out. Its seq 2 has
	// the forged message's id and is dropped by JetStream; seq 3 counts.
	n1.Add(30, 10)
	publish(t, n1)
	publish(t, n1)
	h.waitSensor("siq-n1", "b1", n1.Seq())
	if o := h.occupancy("siq"); o.Live != 1220 {
		t.Errorf("after the real reading live %d, want 1220", o.Live)
	}
	res := h.do(scheduler.TrustSensor{Sensor: "siq-n1"})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if v := h.metric("tafweej_sensor_suspect", "sensor", "siq-n1"); v != 0 {
		t.Errorf("tafweej_sensor_suspect after trust = %v", v)
	}
}
