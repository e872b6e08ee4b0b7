package bench

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tafweej/tafweej/sensors"
	"github.com/tafweej/tafweej/store"
)

// The cost of trust: the counter and gate scan rows again, with every
// counter and every gate device connected as a registered device (its own
// NKey, permissions checked by the server on every message, replies on its
// own inbox prefix) instead of the one connection of the service's user,
// which the server checks nothing for. Same server, same run.

// benchTrust holds the registered devices' connections.
type benchTrust struct {
	conns   []*nats.Conn
	sensors map[string]jetstream.JetStream
	gates   []*nats.Conn
}

// boot names the counters' boot and the raw messages' ids of a run, so
// that the second run is not taken for duplicates of the first.
func (e *benchEnv) boot() string {
	if e.trust != nil {
		return "bench-trust"
	}
	return "bench"
}

// counterJS is the JetStream a sensor publishes with: shared (the service
// user's connection) or its own registered device's.
func (e *benchEnv) counterJS(shared jetstream.JetStream, sensor string) (jetstream.JetStream, error) {
	if e.trust == nil {
		return shared, nil
	}
	if js, ok := e.trust.sensors[sensor]; ok {
		return js, nil
	}
	nc, err := e.trust.connect(e, store.DeviceSensor, sensor)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	e.trust.sensors[sensor] = js
	return js, nil
}

// scanConn is the connection of the w-th gate device.
func (e *benchEnv) scanConn(w int) *nats.Conn {
	if e.trust == nil {
		return e.client
	}
	return e.trust.gates[w%len(e.trust.gates)]
}

// connect registers a device with the service's registry (as `tafweej
// devices add` does) and connects with its seed over the network.
func (t *benchTrust) connect(e *benchEnv, kind, target string) (*nats.Conn, error) {
	d, seed, err := e.svc.Devices().Add(kind, target, "tafweej bench", 0)
	if err != nil {
		return nil, err
	}
	opts, err := sensors.DeviceOptions(seed, d.InboxPrefix())
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(e.svc.NATSURL(), append(opts, nats.Name("tafweej-bench-"+d.ID))...)
	if err != nil {
		return nil, fmt.Errorf("bench: connect as %s device %s: %w", kind, target, err)
	}
	t.conns = append(t.conns, nc)
	return nc, nil
}

// benchTrusted runs the counter row and the 1- and 10-gate scan rows with
// registered devices.
func benchTrusted(ctx context.Context, env *benchEnv, sz Sizes, reps int, logf func(string, ...any)) ([]Row, error) {
	defer env.registerDevices()()
	logf("the same rows with every counter and gate a registered device")
	var rows []Row
	row, err := benchCounters(ctx, env, sz.Counters, reps, logf)
	if err != nil {
		return nil, err
	}
	row.Name += ", registered devices"
	rows = append(rows, row)
	for i, gates := range []int{1, 10} {
		for len(env.trust.gates) < gates {
			nc, err := env.trust.connect(env, store.DeviceGate, "visitor-centre")
			if err != nil {
				return nil, err
			}
			env.trust.gates = append(env.trust.gates, nc)
		}
		row, err := benchScans(ctx, env, gates, sz.Scans[i], reps, 3+i, logf)
		if err != nil {
			return nil, err
		}
		row.Name += ", registered devices"
		rows = append(rows, row)
	}
	return rows, nil
}

// registerDevices makes every counter and gate of the rows that follow a
// registered device, each on a connection of its own, and returns the
// function that closes those connections and goes back to the service
// user's.
func (env *benchEnv) registerDevices() func() {
	env.trust = &benchTrust{sensors: map[string]jetstream.JetStream{}}
	return func() {
		for _, nc := range env.trust.conns {
			nc.Close()
		}
		env.trust = nil
	}
}
