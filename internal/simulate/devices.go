package simulate

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tafweej/tafweej/internal/subjects"
	"github.com/tafweej/tafweej/scheduler"
)

// devices are the simulation's NATS devices: one per gate, one per people
// counter and one alert source, each connected through Options.Connect so
// that each has only its own permissions.
type devices struct {
	gates   map[string]*nats.Conn
	sensors map[string]*nats.Conn
	alerts  *nats.Conn
	closers []func()
}

func (d *devices) connect(ctx context.Context, o Options, cfg *scheduler.Config) error {
	d.gates, d.sensors = map[string]*nats.Conn{}, map[string]*nats.Conn{}
	connect := o.Connect
	if connect == nil {
		connect = func(_ context.Context, kind, target string) (*nats.Conn, func(), error) {
			nc, err := nats.Connect(o.NATSURL, nats.Name("tafweej-simulate-"+target), nats.Timeout(5*time.Second))
			if err != nil {
				return nil, nil, fmt.Errorf("connect to NATS at %s: %w\n  hint: 'tafweej serve' starts an embedded server on 127.0.0.1:4222; pass --nats otherwise", o.NATSURL, err)
			}
			return nc, nc.Close, nil
		}
	}
	add := func(kind, target string) (*nats.Conn, error) {
		nc, done, err := connect(ctx, kind, target)
		if err != nil {
			return nil, err
		}
		d.closers = append(d.closers, done)
		return nc, nil
	}
	var err error
	for _, g := range cfg.Gates {
		if d.gates[g.ID], err = add("gate", g.ID); err != nil {
			return err
		}
	}
	for _, sc := range cfg.Sensors {
		if d.sensors[sc.ID], err = add("sensor", sc.ID); err != nil {
			return err
		}
	}
	d.alerts, err = add("alerts", "tafweej-simulate")
	return err
}

// gateFor is the device of the gate of a scan subject
// (tafweej.<site>.gate.<gate>.scan).
func (d *devices) gateFor(site, subject string) *nats.Conn {
	gate := subjects.For(site).GateOf(subject)
	return d.gates[gate]
}

// close disconnects (and, for the tool's short-lived devices, revokes)
// every device.
func (d *devices) close() {
	for _, done := range d.closers {
		done()
	}
}
