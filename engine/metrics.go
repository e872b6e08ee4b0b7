package engine

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tafweej/tafweej/scheduler"
)

// metrics are the owner loop's: results of commands, store writes and the
// live picture of zones and waves.
type metrics struct {
	bookings    *prometheus.CounterVec // result
	scans       *prometheus.CounterVec // gate, decision, reason
	admitted    *prometheus.CounterVec // gate
	sensorMsgs  *prometheus.CounterVec // result
	writeDur    prometheus.Histogram   // seconds per synced commit
	storeErrors prometheus.Counter     // failed commits
	batchSize   prometheus.Histogram   // records per commit
	lastReading *prometheus.GaugeVec   // sensor: unix seconds of last applied reading
	requests    *prometheus.CounterVec // result: submitted, withdrawn, allotted, not_placed, or the refusal code
	planDur     prometheus.Histogram   // seconds per planner run of a planned day
	applyDur    prometheus.Histogram   // seconds to apply one turn's commands
	inflight    prometheus.Gauge       // turns applied, not yet finished (pipeline.go)
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		bookings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tafweej_bookings_total", Help: "Booking commands by result (confirmed, modified, cancelled, replayed, or the refusal code)."},
			[]string{"result"}),
		scans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tafweej_scans_total", Help: "Gate scan decisions by gate, decision and reason."},
			[]string{"gate", "decision", "reason"}),
		admitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tafweej_admitted_visitors_total", Help: "Visitors admitted at each gate."},
			[]string{"gate"}),
		sensorMsgs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tafweej_sensor_messages_total", Help: "Counter readings by result (applied, duplicate, invalid)."},
			[]string{"result"}),
		writeDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tafweej_store_write_duration_seconds", Help: "Time of one synced store commit (one per owner-loop turn).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tafweej_store_write_errors_total", Help: "Store commits that failed; the turn was rolled back."}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tafweej_store_batch_records", Help: "Records written per synced commit (group commit size).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 12)}),
		lastReading: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tafweej_sensor_last_reading_timestamp_seconds", Help: "Time of the last applied reading of each people counter."}, []string{"sensor"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tafweej_requests_total", Help: "Requests of planned days by result (submitted, replayed, withdrawn, allotted, not_placed, or the refusal code)."},
			[]string{"result"}),
		planDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tafweej_planner_duration_seconds", Help: "Time the day planner took to plan a planned day's requests.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)}),
		applyDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tafweej_engine_turn_apply_duration_seconds", Help: "Time the owner loop took to apply one turn's commands, before the turn is written.",
			Buckets: prometheus.ExponentialBuckets(0.00001, 2, 18)}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tafweej_engine_turns_in_flight", Help: "Owner-loop turns applied and not yet durable and answered (at most --pipeline)."}),
	}
	if reg != nil {
		reg.MustRegister(m.bookings, m.scans, m.admitted, m.sensorMsgs, m.writeDur, m.storeErrors, m.batchSize,
			m.lastReading, m.requests, m.planDur, m.applyDur, m.inflight)
	}
	return m
}

func (m *metrics) storeWrite(d time.Duration, n int, err error) {
	if err != nil {
		m.storeErrors.Inc()
		return
	}
	m.writeDur.Observe(d.Seconds())
	m.batchSize.Observe(float64(n))
}

func (m *metrics) observeResult(cmd scheduler.Command, res scheduler.Result) {
	code := "ok"
	var se *scheduler.Error
	if errors.As(res.Err, &se) {
		code = se.Code
	}
	switch c := cmd.(type) {
	case scheduler.Book:
		switch {
		case res.Replayed:
			m.bookings.WithLabelValues("replayed").Inc()
		case res.Err != nil:
			m.bookings.WithLabelValues(code).Inc()
		default:
			m.bookings.WithLabelValues("confirmed").Inc()
		}
	case scheduler.Modify:
		if res.Err != nil {
			m.bookings.WithLabelValues(code).Inc()
		} else {
			m.bookings.WithLabelValues("modified").Inc()
		}
	case scheduler.Cancel:
		if res.Err != nil {
			m.bookings.WithLabelValues(code).Inc()
		} else {
			m.bookings.WithLabelValues("cancelled").Inc()
		}
	case scheduler.Scan:
		if res.Scan != nil {
			m.scans.WithLabelValues(c.Gate, res.Scan.Decision, res.Scan.Reason).Inc()
			if res.Scan.Admitted > 0 {
				m.admitted.WithLabelValues(c.Gate).Add(float64(res.Scan.Admitted))
			}
		}
	case scheduler.SubmitRequest, scheduler.WithdrawRequest:
		switch {
		case res.Replayed:
			m.requests.WithLabelValues("replayed").Inc()
		case res.Err != nil:
			m.requests.WithLabelValues(code).Inc()
		case res.Request != nil && res.Request.Status == scheduler.RequestPending:
			m.requests.WithLabelValues("submitted").Inc()
		case res.Request != nil:
			m.requests.WithLabelValues("withdrawn").Inc()
		}
	case scheduler.AllotRequests:
		if a := res.Allotted; a != nil {
			m.requests.WithLabelValues("allotted").Add(float64(a.Allotted))
			m.requests.WithLabelValues("not_placed").Add(float64(a.NotPlaced))
		}
	case scheduler.CounterReading:
		m.sensorMsgs.WithLabelValues(string(res.Counter)).Inc()
		if res.Counter == scheduler.CounterApplied {
			m.lastReading.WithLabelValues(c.Sensor).Set(float64(c.At.Unix()))
		}
	}
}
