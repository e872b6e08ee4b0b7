package webhooks

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	deliveries *prometheus.CounterVec // outcome: delivered, failed
	attempts   *prometheus.CounterVec // outcome: delivered, retried, failed
	pending    prometheus.Gauge
	endpoints  prometheus.Gauge
	latency    prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tafweej_webhook_deliveries_total",
			Help: "Webhook deliveries that reached their end, by outcome: delivered (answered 2xx) or failed (retried for the whole retry period).",
		}, []string{"outcome"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tafweej_webhook_attempts_total",
			Help: "Webhook delivery attempts, by outcome: delivered, retried (to be tried again) or failed (the last one).",
		}, []string{"outcome"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tafweej_webhook_outbox_pending",
			Help: "Webhook deliveries in the outbox waiting for an attempt or being attempted.",
		}),
		endpoints: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tafweej_webhook_endpoints",
			Help: "Registered webhook endpoints.",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tafweej_webhook_delivery_latency_seconds",
			Help:    "Time from an event to its webhook's delivery (retries included).",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400},
		}),
	}
	for _, o := range []string{"delivered", "failed"} {
		m.deliveries.WithLabelValues(o)
	}
	for _, o := range []string{"delivered", "retried", "failed"} {
		m.attempts.WithLabelValues(o)
	}
	if reg != nil {
		reg.MustRegister(m.deliveries, m.attempts, m.pending, m.endpoints, m.latency)
	}
	return m
}
