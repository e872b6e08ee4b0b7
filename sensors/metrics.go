package sensors

import (
	"errors"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the NATS adapters'. The owner loop counts the outcome of
// every command it applies (tafweej_scans_total, tafweej_sensor_messages_total,
// ...); these count what never reaches it and how the NATS side is doing.
type metrics struct {
	invalid    *prometheus.CounterVec // kind, reason
	deadLetter *prometheus.CounterVec // kind
	scanDur    *prometheus.HistogramVec
	pending    prometheus.Gauge
}

// scanBuckets fit a gate's request/reply latency: a synced Badger commit
// takes about a millisecond, a device times out after about two seconds.
var scanBuckets = []float64{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2}

func newMetrics(reg prometheus.Registerer, nc *nats.Conn) *metrics {
	m := &metrics{
		invalid: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tafweej_sensor_invalid_messages_total",
			Help: "Invalid messages from gates, counters and alert sources, by kind (scan, counter, alert) and reason; each is answered bad_request or dead-lettered and changes nothing."},
			[]string{"kind", "reason"}),
		deadLetter: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tafweej_deadletter_messages_total",
			Help: "Messages copied to tafweej.<site>.deadletter.<kind>, by kind."},
			[]string{"kind"}),
		scanDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tafweej_scan_duration_seconds",
			Help:    "Time from receiving a gate scan over NATS to sending its reply (including the synced commit of an admission), by decision; decision \"none\" is a scan left unanswered because the owner loop could not apply it.",
			Buckets: scanBuckets},
			[]string{"decision"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tafweej_sensor_consumer_pending_messages",
			Help: "Counter messages in the JetStream stream not yet delivered to the service (the durable consumer's num_pending, as of the last message fetched)."}),
	}
	connected := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tafweej_nats_connected",
		Help: "1 while the service is connected to NATS."}, func() float64 {
		if nc.IsConnected() {
			return 1
		}
		return 0
	})
	if reg != nil {
		m.invalid = register(reg, m.invalid)
		m.deadLetter = register(reg, m.deadLetter)
		m.scanDur = register(reg, m.scanDur)
		m.pending = register(reg, m.pending)
		register(reg, connected)
	}
	return m
}

// register registers c, or returns the collector already registered under
// its name (a service restarted in the same process keeps its counters).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if old, ok := are.ExistingCollector.(C); ok {
				return old
			}
		}
		panic(err)
	}
	return c
}
