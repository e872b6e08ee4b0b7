package sensors

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tafweej/tafweej/internal/subjects"
)

// Counter is a simulated people counter, for `tafweej simulate` and tests.
// It keeps cumulative in/out totals since its boot and publishes them to
// JetStream on tafweej.<site>.counter.<zone>.<sensor> with the header
// Nats-Msg-Id: <sensor>:<boot>:<seq>, as a real device does (docs/wire-contract.md
// "People counters").
type Counter struct {
	js           jetstream.JetStream
	subj         subjects.Site
	sensor, zone string
	subject      string
	// Now stamps the messages' "at"; nil means time.Now. Set it to the
	// simulated clock in a simulation.
	Now func() time.Time

	mu      sync.Mutex // guards the fields below
	boot    string
	seq     uint64
	in, out int64
	last    *nats.Msg // the last message published, for Resend
}

// NewCounter returns a counter of zone with totals at zero in boot.
func NewCounter(js jetstream.JetStream, site, sensor, zone, boot string) *Counter {
	subj := subjects.For(site)
	return &Counter{js: js, subj: subj, sensor: sensor, zone: zone, subject: subj.Counter(zone, sensor), boot: boot}
}

// Add counts people passing in and out.
func (c *Counter) Add(in, out int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.in += int64(in)
	c.out += int64(out)
}

// Totals are the counter's cumulative totals in its current boot.
func (c *Counter) Totals() (in, out int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.in, c.out
}

// Seq is the sequence number of the last message made.
func (c *Counter) Seq() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seq
}

// Reboot restarts the device: a new boot id, totals and sequence from zero.
func (c *Counter) Reboot(boot string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.boot, c.seq, c.in, c.out, c.last = boot, 0, 0, 0, nil
}

// Lose makes a message and drops it, as a network would: the next
// message's seq skips one, its totals still include everything.
func (c *Counter) Lose() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
}

// Publish sends the current totals as the next message and waits for
// JetStream's acknowledgement.
func (c *Counter) Publish(ctx context.Context) error {
	m, seq := c.next()
	if _, err := c.js.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("sensors: counter %s: publish seq %d: %w", c.sensor, seq, err)
	}
	return nil
}

// next makes the next message.
func (c *Counter) next() (*nats.Msg, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	data, _ := json.Marshal(counterJSON{Sensor: c.sensor, Zone: c.zone, Boot: c.boot, Seq: c.seq,
		InTotal: c.in, OutTotal: c.out, At: now.Format(time.RFC3339Nano)})
	m := &nats.Msg{Subject: c.subject, Data: data, Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, counterMsgID(c.sensor, c.boot, c.seq))
	c.last = m
	return m, c.seq
}

// counterJSON is a counter message as docs/wire-contract.md has it.
type counterJSON struct {
	Sensor   string `json:"sensor"`
	Zone     string `json:"zone"`
	Boot     string `json:"boot"`
	Seq      uint64 `json:"seq"`
	InTotal  int64  `json:"in_total"`
	OutTotal int64  `json:"out_total"`
	At       string `json:"at"`
}

// Resend publishes the last message again, byte for byte with the same
// Nats-Msg-Id, as a device that missed the acknowledgement does. duplicate
// says whether JetStream dropped it as a duplicate.
func (c *Counter) Resend(ctx context.Context) (duplicate bool, err error) {
	c.mu.Lock()
	m := c.last
	c.mu.Unlock()
	if m == nil {
		return false, fmt.Errorf("sensors: counter %s: nothing to resend", c.sensor)
	}
	ack, err := c.js.PublishMsg(ctx, &nats.Msg{Subject: m.Subject, Data: m.Data, Header: m.Header})
	if err != nil {
		return false, err
	}
	return ack.Duplicate, nil
}
