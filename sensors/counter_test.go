package sensors

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tafweej/tafweej/internal/subjects"
	"github.com/tafweej/tafweej/scheduler"
)

func (h *harness) counter(sensor, zone, boot string) *Counter {
	c := NewCounter(h.js, "petra", sensor, zone, boot)
	c.Now = h.clock.Now
	return c
}

func publish(t testing.TB, c *Counter) {
	t.Helper()
	if err := c.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// waitSensor waits until the sensor's checkpoint is at boot and seq.
func (h *harness) waitSensor(sensor, boot string, seq uint64) scheduler.SensorState {
	h.t.Helper()
	var st scheduler.SensorState
	checkFor(h.t, 10*time.Second, 5*time.Millisecond, func() error {
		st = h.sensor(sensor)
		if st.Boot != boot || st.Seq != seq {
			return fmt.Errorf("sensor %s at %s:%d, want %s:%d", sensor, st.Boot, st.Seq, boot, seq)
		}
		return nil
	})
	return st
}

// waitApplied waits until the engine has counted n readings with result.
func (h *harness) waitCount(result string, n float64) {
	h.t.Helper()
	checkFor(h.t, 10*time.Second, 5*time.Millisecond, func() error {
		if v := h.metric("tafweej_sensor_messages_total", "result", result); v != n {
			return fmt.Errorf("%s readings: %v, want %v", result, v, n)
		}
		return nil
	})
}

func TestCounterDuplicatesLossAndReboot(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.at("07:00")
	c := h.counter("siq-n1", "siq", "b1")
	c.Add(100, 20)
	publish(t, c)
	h.waitSensor("siq-n1", "b1", 1)
	if live := h.occupancy("siq").Live; live != 80 {
		t.Fatalf("live %d, want 80", live)
	}

	// A device that missed the ack sends the same message again: the
	// stream drops it (same Nats-Msg-Id within the duplicate window).
	dup, err := c.Resend(context.Background())
	if err != nil || !dup {
		t.Fatalf("resend: duplicate %v, err %v", dup, err)
	}
	// The same message after the window (no header to match): the
	// sensor's checkpoint recognises it.
	if _, err := h.js.PublishMsg(context.Background(), &nats.Msg{Subject: c.subject, Data: c.last.Data}); err != nil {
		t.Fatal(err)
	}
	h.waitCount("duplicate", 1)

	// Lost messages: the totals are cumulative, nothing is lost.
	c.Add(10, 0)
	c.Lose()
	c.Add(5, 0)
	c.Lose()
	c.Add(5, 10)
	publish(t, c)
	h.waitSensor("siq-n1", "b1", 4)
	if live := h.occupancy("siq").Live; live != 90 {
		t.Fatalf("live %d after lost messages, want 90", live)
	}

	// A reboot: new totals from zero, the old boot's folded into the base.
	c.Reboot("b2")
	c.Add(7, 2)
	publish(t, c)
	st := h.waitSensor("siq-n1", "b2", 1)
	if st.BaseIn != 120 || st.BaseOut != 30 {
		t.Errorf("base %d/%d, want 120/30", st.BaseIn, st.BaseOut)
	}
	if live := h.occupancy("siq").Live; live != 95 {
		t.Fatalf("live %d after the reboot, want 95", live)
	}
	// A late message of the old boot (seq 3 was lost, then arrives): stale.
	late := NewCounter(h.js, "petra", "siq-n1", "siq", "b1")
	late.Now = func() time.Time { return h.clock.Now().Add(-time.Minute) }
	late.Add(115, 20)
	late.seq = 2
	publish(t, late)
	h.waitCount("duplicate", 2)
	if live := h.occupancy("siq").Live; live != 95 {
		t.Fatalf("live %d after a stale message, want 95", live)
	}
	h.waitCount("applied", 3)
	if v := h.metric("tafweej_sensor_invalid_messages_total"); v != 0 {
		t.Errorf("%v invalid messages", v)
	}
	if v := h.metric("tafweej_sensor_consumer_pending_messages"); v != 0 {
		t.Errorf("%v messages pending once caught up", v)
	}
}

func TestCounterInvalidMessages(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.at("07:00")
	dl := h.watchDeadLetters("counter")
	c := h.counter("siq-n1", "siq", "b1")
	c.Add(50, 0)
	publish(t, c)
	h.waitSensor("siq-n1", "b1", 1)

	at := `"at":"2026-12-01T07:00:00+03:00"`
	body := func(sensor, zone string, seq, in, out int) string {
		return fmt.Sprintf(`{"sensor":%q,"zone":%q,"boot":"b1","seq":%d,"in_total":%d,"out_total":%d,%s}`, sensor, zone, seq, in, out, at)
	}
	cases := []struct {
		name, subject, msgID, body, reason string
	}{
		{"bad JSON", "tafweej.petra.counter.siq.siq-n1", "", `{"sensor":"siq-n1",`, reasonBadJSON},
		{"unknown field", "tafweej.petra.counter.siq.siq-n1", "", `{"sensor":"siq-n1","zone":"siq","boot":"b1","seq":9,"in_total":1,"out_total":0,"temp":3,` + at + `}`, reasonUnknownField},
		{"missing seq", "tafweej.petra.counter.siq.siq-n1", "", `{"sensor":"siq-n1","zone":"siq","boot":"b1","in_total":1,"out_total":0,` + at + `}`, reasonMissingField},
		{"negative total", "tafweej.petra.counter.siq.siq-n1", "", body("siq-n1", "siq", 9, -1, 0), reasonOutOfRange},
		{"seq a string", "tafweej.petra.counter.siq.siq-n1", "", `{"sensor":"siq-n1","zone":"siq","boot":"b1","seq":"9","in_total":1,"out_total":0,` + at + `}`, reasonWrongType},
		{"bad time", "tafweej.petra.counter.siq.siq-n1", "", `{"sensor":"siq-n1","zone":"siq","boot":"b1","seq":9,"in_total":1,"out_total":0,"at":"yesterday"}`, reasonBadTime},
		{"unknown sensor", "tafweej.petra.counter.siq.siq-x9", "", body("siq-x9", "siq", 9, 100, 0), reasonUnknownSensor},
		{"unknown zone", "tafweej.petra.counter.souq.siq-n1", "", body("siq-n1", "souq", 9, 100, 0), reasonUnknownZone},
		{"wrong zone", "tafweej.petra.counter.treasury.siq-n1", "", body("siq-n1", "treasury", 9, 100, 0), reasonWrongZone},
		{"subject mismatch", "tafweej.petra.counter.siq.siq-n1", "", body("siq-m1", "siq", 9, 100, 0), reasonSubjectMismatch},
		{"short subject", "tafweej.petra.counter.siq", "", body("siq-n1", "siq", 9, 100, 0), reasonBadSubject},
		{"long subject", "tafweej.petra.counter.siq.siq-n1.x", "", body("siq-n1", "siq", 9, 100, 0), reasonBadSubject},
		{"msg id mismatch", "tafweej.petra.counter.siq.siq-n1", "siq-n1:b1:10", body("siq-n1", "siq", 9, 100, 0), reasonMsgIDMismatch},
		{"totals going down", "tafweej.petra.counter.siq.siq-n1", "siq-n1:b1:9", body("siq-n1", "siq", 9, 40, 0), reasonImplausible},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := &nats.Msg{Subject: c.subject, Data: []byte(c.body), Header: nats.Header{}}
			if c.msgID != "" {
				m.Header.Set(jetstream.MsgIDHeader, c.msgID)
			}
			if _, err := h.js.PublishMsg(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			d := dl.wait(t, c.reason, c.subject)
			if d.Header.Get(subjects.HeaderSubject) != c.subject || d.Header.Get(subjects.HeaderError) == "" || string(d.Data) != c.body {
				t.Errorf("dead letter: headers %v, data %s", d.Header, d.Data)
			}
			if v := h.metric("tafweej_deadletter_messages_total", "kind", "counter"); v != float64(i+1) {
				t.Errorf("dead letters counted %v, want %d", v, i+1)
			}
			if v := h.metric("tafweej_sensor_invalid_messages_total", "kind", "counter", "reason", c.reason); v < 1 {
				t.Errorf("invalid{reason=%s} = %v", c.reason, v)
			}
		})
	}
	// Nothing changed, and the consumer goes on.
	if live := h.occupancy("siq").Live; live != 50 {
		t.Errorf("live %d after invalid messages, want 50", live)
	}
	c.Add(10, 5)
	publish(t, c)
	h.waitSensor("siq-n1", "b1", 2)
	if live := h.occupancy("siq").Live; live != 55 {
		t.Errorf("live %d, want 55", live)
	}
	// The dead letters are kept in their stream for inspection.
	checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		s, err := h.js.Stream(context.Background(), "TAFWEEJ_PETRA_DEADLETTER")
		if err != nil {
			return err
		}
		info, err := s.Info(context.Background())
		if err != nil {
			return err
		}
		if info.State.Msgs != uint64(len(cases)) {
			return fmt.Errorf("%d dead letters stored, want %d", info.State.Msgs, len(cases))
		}
		return nil
	})
}

// The service is restarted (engine, store and consumer) while two counters
// publish, one of them rebooting: nothing is lost, nothing counted twice.
func TestCounterRestartMidStream(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.at("09:00")
	const n = 400
	siq := h.counter("siq-n1", "siq", "boot-a")
	tre := h.counter("treasury-1", "treasury", "t1")
	rng := rand.New(rand.NewPCG(1, 2))
	var wantSiq, wantTre int64
	published := 2 // the final two below
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			in, out := rng.IntN(10), 0
			if i%2 == 1 {
				out = rng.IntN(in + 1)
			}
			c, want := siq, &wantSiq
			if i%3 == 0 {
				c, want = tre, &wantTre
			}
			if c == siq && i == n/2 {
				siq.Reboot("boot-b")
			}
			c.Add(in, out)
			*want += int64(in - out)
			if i%17 == 5 {
				c.Lose()
				continue
			}
			if err := c.Publish(context.Background()); err != nil {
				t.Error(err)
				return
			}
			published++
			if i%50 == 0 {
				time.Sleep(5 * time.Millisecond) // let the consumer keep up a little
			}
		}
	}()
	checkFor(t, 10*time.Second, time.Millisecond, func() error {
		if st := h.sensor("siq-n1"); st.Seq < 30 {
			return fmt.Errorf("siq-n1 at seq %d", st.Seq)
		}
		return nil
	})
	h.stop()
	applied1 := h.metric("tafweej_sensor_messages_total", "result", "applied") // the first run's registry
	h.start(true)
	wg.Wait()
	if t.Failed() {
		return
	}
	// Messages published last may be lost ones; publish a final one each.
	publish(t, siq)
	publish(t, tre)
	h.waitSensor("siq-n1", "boot-b", siq.Seq())
	h.waitSensor("treasury-1", "t1", tre.Seq())
	if live := h.occupancy("siq").Live; int64(live) != wantSiq {
		t.Errorf("siq live %d, want %d", live, wantSiq)
	}
	if live := h.occupancy("treasury").Live; int64(live) != wantTre {
		t.Errorf("treasury live %d, want %d", live, wantTre)
	}
	applied2 := h.metric("tafweej_sensor_messages_total", "result", "applied")
	dup2 := h.metric("tafweej_sensor_messages_total", "result", "duplicate")
	t.Logf("%d messages published; applied %v before the restart, %v after, with %v redeliveries recognised as duplicates",
		published, applied1, applied2, dup2)
	if applied1 < 1 || applied2 < 1 {
		t.Errorf("the restart was not in the middle of the stream: applied %v before, %v after", applied1, applied2)
	}
	if applied1+applied2 > float64(published) {
		t.Errorf("applied %v + %v readings of %d published: some twice", applied1, applied2, published)
	}
	if applied1+applied2+dup2 < float64(published) {
		t.Errorf("applied %v + %v and %v duplicates of %d published: some never seen", applied1, applied2, dup2, published)
	}
	if v := h.metric("tafweej_sensor_invalid_messages_total"); v != 0 {
		t.Errorf("%v invalid messages", v)
	}
}

// Counters push the Siq over its hold threshold and back under its release
// threshold: waves are held with hysteresis and released.
func TestHoldAndReleaseByCounters(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	first := h.book("op-wadi", "main", "", 10, "08:00", "08:15")
	second := h.book("op-wadi", "main", "", 10, "08:00", "08:15")
	h.at("08:02")
	siq := h.cfg.Zones[1]
	if siq.ID != "siq" || siq.HoldAt != 1020 || siq.ReleaseAt != 840 {
		t.Fatalf("the test expects the Siq's thresholds 1020/840: %+v", siq)
	}
	c := h.counter("siq-n1", "siq", "b1")
	step := func(in, out int, wantLive int, wantHeld bool) {
		t.Helper()
		c.Add(in, out)
		publish(t, c)
		h.waitSensor("siq-n1", "b1", c.Seq())
		o := h.occupancy("siq")
		if o.Live != wantLive || o.Held != wantHeld {
			t.Fatalf("after +%d/-%d: live %d held %v, want %d and %v", in, out, o.Live, o.Held, wantLive, wantHeld)
		}
	}
	step(1019, 0, 1019, false)
	step(1, 0, 1020, true)
	ev := h.waitEvent(scheduler.EventWaveHeld, `"zone":"siq"`)
	var he scheduler.HoldEvent
	if err := json.Unmarshal(ev.Data.(json.RawMessage), &he); err != nil || he.Live != 1020 || len(he.Gates) == 0 {
		t.Errorf("wave.held event: %+v (%v)", he, err)
	}
	r := h.scan("visitor-centre", scheduler.ScanRequest{Ticket: h.signer.Code(first), Count: 10, ScanID: "a1"})
	if r.Reason != "held" || r.RetryAt == nil || r.Admitted != 0 {
		t.Fatalf("scan while held: %+v", r)
	}
	step(0, 100, 920, true) // under the hold threshold, over the release one: still held
	step(0, 79, 841, true)
	if r := h.scan("visitor-centre", scheduler.ScanRequest{Ticket: h.signer.Code(second), Count: 10, ScanID: "a2"}); r.Reason != "held" {
		t.Fatalf("scan at 841: %+v", r)
	}
	step(0, 1, 840, false)
	h.waitEvent(scheduler.EventWaveReleased, `"zone":"siq"`)
	// The first group was moved to a later wave when it was held; the
	// second too. At the time of that wave they are admitted.
	moved := h.booking(first.ID)
	if moved.Status != scheduler.StatusRescheduled || !moved.Slot.After(first.Slot) {
		t.Fatalf("held group: %s at %s", moved.Status, moved.Slot)
	}
	h.clock.Set(moved.Slot)
	if r := h.scan("visitor-centre", scheduler.ScanRequest{Ticket: h.signer.Code(moved), Count: 10, ScanID: "a3"}); r.Decision != "admit" || r.Admitted != 10 {
		t.Fatalf("after the release: %+v", r)
	}
	step(100, 0, 940, false) // up again but under the hold threshold
}
