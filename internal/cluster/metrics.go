package cluster

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are an instance's cluster metrics (docs/cluster.md, "Metrics").
// They live as long as the process, across its terms as owner and
// standby; a process that runs alone (no --replicas) registers them too,
// with the role "single", so that every instance exposes the same
// families.
type Metrics struct {
	role       *prometheus.GaugeVec
	renewals   prometheus.Counter
	renewFails prometheus.Counter
	takeovers  prometheus.Counter
	appendDur  prometheus.Histogram
	inflight   prometheus.Gauge
	applied    atomic.Pointer[func() uint64]
}

// Roles an instance reports in tafweej_cluster_role.
var roles = []string{"owner", "standby", "single"}

// NewMetrics makes the cluster metrics and registers them on reg (none
// if reg is nil). The role starts as "standby".
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		role: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tafweej_cluster_role",
			Help: "1 for this instance's role in its site's cluster: owner, standby, or single (a process run alone, without --replicas); 0 for the others."}, []string{"role"}),
		renewals: prometheus.NewCounter(prometheus.CounterOpts{Name: "tafweej_cluster_lease_renewals_total",
			Help: "Renewals of the owner's lease that the cluster accepted."}),
		renewFails: prometheus.NewCounter(prometheus.CounterOpts{Name: "tafweej_cluster_lease_renewal_failures_total",
			Help: "Renewals of the owner's lease that failed (a NATS node lost, a timeout, or the lease taken by another instance)."}),
		takeovers: prometheus.NewCounter(prometheus.CounterOpts{Name: "tafweej_cluster_takeovers_total",
			Help: "Times this instance took the site over (took the lease, applied the log and appended its takeover record)."}),
		appendDur: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tafweej_cluster_append_duration_seconds",
			Help:    "Time from sending a record to the site's log to its acknowledgement by the log's replicas (or its failure).",
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2}}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tafweej_cluster_appends_in_flight",
			Help: "Records sent to the site's log and not yet acknowledged (the owner loop's turns being written)."}),
	}
	applied := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tafweej_cluster_log_applied",
		Help: "The last sequence of the site's log this instance's store has applied (0 for a process run alone: it has no log)."},
		func() float64 {
			if f := m.applied.Load(); f != nil {
				return float64((*f)())
			}
			return 0
		})
	m.SetRole("standby")
	if reg != nil {
		reg.MustRegister(m.role, m.renewals, m.renewFails, m.takeovers, m.appendDur, m.inflight, applied)
	}
	return m
}

// SetRole sets the instance's role: "owner", "standby" or "single".
func (m *Metrics) SetRole(role string) {
	for _, r := range roles {
		v := 0.0
		if r == role {
			v = 1
		}
		m.role.WithLabelValues(r).Set(v)
	}
}

// appliedFrom makes tafweej_cluster_log_applied report f.
func (m *Metrics) appliedFrom(f func() uint64) { m.applied.Store(&f) }

func (m *Metrics) renewed(err error) {
	if err != nil {
		m.renewFails.Inc()
	} else {
		m.renewals.Inc()
	}
}

func (m *Metrics) appended(d time.Duration) { m.appendDur.Observe(d.Seconds()) }
