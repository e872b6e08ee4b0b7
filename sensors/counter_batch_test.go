package sensors

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// TestCounterBacklogSharesSyncedWrites: readings that wait in the stream
// (the service was down while the counters published) are applied with
// few synced writes, many readings each, and in each sensor's order (none
// is taken for a duplicate of a later one); every one is applied and
// acked.
func TestCounterBacklogSharesSyncedWrites(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.at("09:00")
	h.stop() // the NATS server and the streams stay
	const per = 25
	var msgs []*nats.Msg
	var counters []*Counter
	for _, s := range h.cfg.Sensors {
		c := h.counter(s.ID, s.Zone, "b1")
		counters = append(counters, c)
	}
	for range per {
		for _, c := range counters {
			c.Add(1, 1)
			m, _ := c.next()
			msgs = append(msgs, m)
		}
	}
	for _, m := range msgs {
		if _, err := h.js.PublishMsgAsync(m); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-h.js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		t.Fatal("publish acknowledgements not received within 30 s")
	}
	h.start(true)
	for _, c := range counters {
		h.waitSensor(c.sensor, "b1", per)
	}
	n := float64(len(msgs))
	h.waitCount("applied", n)
	if v := h.metric("tafweej_sensor_messages_total", "result", "duplicate"); v != 0 {
		t.Errorf("%v readings taken for duplicates: a sensor's readings were applied out of order", v)
	}
	// Acked: nothing is left for the consumer.
	checkFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		ci, err := h.js.Consumer(t.Context(), "TAFWEEJ_PETRA_COUNTERS", counterDurable)
		if err != nil {
			return err
		}
		if info := ci.CachedInfo(); info.NumPending != 0 || info.NumAckPending != 0 {
			return fmt.Errorf("counter consumer: %d pending, %d unacknowledged", info.NumPending, info.NumAckPending)
		}
		return nil
	})
	writes := h.metric("tafweej_store_write_duration_seconds") // since the restart
	t.Logf("%v readings applied in %v synced writes", n, writes)
	if writes > n/32 {
		t.Errorf("%v readings applied in %v synced writes, want at most %v (32 readings a write)", n, writes, n/32)
	}
}

// TestCounterReadingNakkedWhenTheEngineFails: a reading the owner loop
// could not apply (here: it stopped) is nakked with a delay, not left to
// the 30 s ack wait: it is delivered again within seconds, and applied
// once the owner loop runs again.
func TestCounterReadingNakkedWhenTheEngineFails(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.at("09:00")
	h.engCancel() // the owner loop stops; the consumer goes on
	err := <-h.engDone
	h.engDone <- err // for h.stop
	c := h.counter("siq-n1", "siq", "b1")
	c.Add(4, 1)
	publish(t, c)
	// Nakked with nakDelay (2 s), it is delivered again long before the
	// ack wait (30 s) would have it redelivered.
	checkFor(t, ackWait/2, 10*time.Millisecond, func() error {
		ci, err := h.js.Consumer(t.Context(), "TAFWEEJ_PETRA_COUNTERS", counterDurable)
		if err != nil {
			return err
		}
		if info := ci.CachedInfo(); info.NumRedelivered == 0 {
			return fmt.Errorf("not redelivered yet (%d unacknowledged)", info.NumAckPending)
		}
		return nil
	})
	h.stop()
	h.start(true)
	h.waitSensor("siq-n1", "b1", 1)
}
