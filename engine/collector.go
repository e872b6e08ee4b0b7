package engine

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tafweej/tafweej/scheduler"
)

// stateCollector reads the live picture from the owner loop at scrape time,
// so the hot path pays nothing for gauges.
type stateCollector struct{ e *Engine }

var (
	descLive = prometheus.NewDesc("tafweej_zone_live_occupancy_visitors",
		"Visitors in the zone now, from the people counters.", []string{"zone"}, nil)
	descPlanned = prometheus.NewDesc("tafweej_zone_planned_occupancy_visitors",
		"Visitors the plan puts in the zone now.", []string{"zone"}, nil)
	descCapacity = prometheus.NewDesc("tafweej_zone_capacity_visitors",
		"Safe simultaneous capacity of the zone (lower while a capacity cut is in force).", []string{"zone"}, nil)
	descHoldAt = prometheus.NewDesc("tafweej_zone_hold_threshold_visitors",
		"Live occupancy at which waves to the zone are held.", []string{"zone"}, nil)
	descReleaseAt = prometheus.NewDesc("tafweej_zone_release_threshold_visitors",
		"Live occupancy at or below which a hold ends.", []string{"zone"}, nil)
	descHeld = prometheus.NewDesc("tafweej_zone_held",
		"1 while waves to the zone are held.", []string{"zone"}, nil)
	descClosed = prometheus.NewDesc("tafweej_zone_closed",
		"1 while the zone is closed.", []string{"zone"}, nil)
	descClosures = prometheus.NewDesc("tafweej_closures_active",
		"Closures in force.", nil, nil)
	descWaveBooked = prometheus.NewDesc("tafweej_wave_booked_visitors",
		"Visitors booked into the waves of the coming hours, by gate and slot (HH:MM, site time).", []string{"gate", "slot"}, nil)
	descWaveAdmitted = prometheus.NewDesc("tafweej_wave_admitted_visitors",
		"Visitors admitted from the waves of the coming hours, by gate and slot (HH:MM, site time).", []string{"gate", "slot"}, nil)
	descSiteOpen = prometheus.NewDesc("tafweej_site_open",
		"1 while the site is open to visitors (opening hours or an evening event), by the service's clock.", nil, nil)
	descSensorAge = prometheus.NewDesc("tafweej_sensor_last_reading_age_seconds",
		"Seconds since the service applied the last reading of each people counter, by the service's clock.", []string{"sensor", "zone"}, nil)
	descGateCapacity = prometheus.NewDesc("tafweej_gate_wave_capacity_visitors",
		"Visitors a gate may let in per wave.", []string{"gate"}, nil)
	descCuts = prometheus.NewDesc("tafweej_capacity_cuts_active",
		"Capacity cuts in force (a zone's capacity or a gate's wave capacity lowered for a while).", nil, nil)
	descPending = prometheus.NewDesc("tafweej_requests_pending",
		"Requests of planned days waiting for their cut-off and the day planner.", nil, nil)
	descSensorSuspect = prometheus.NewDesc("tafweej_sensor_suspect",
		"1 while a people counter is suspect (it sent a reading no crowd can produce) until operations trust it, by sensor.", []string{"sensor", "zone"}, nil)
	descWaveNoShow = prometheus.NewDesc("tafweej_wave_no_show_visitors",
		"Visitors of waves past their late grace who were not admitted, by gate and slot (HH:MM, site time).", []string{"gate", "slot"}, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLive, descPlanned, descCapacity, descHoldAt, descReleaseAt, descHeld, descClosed,
		descClosures, descWaveBooked, descWaveAdmitted, descWaveNoShow, descSiteOpen, descSensorAge, descGateCapacity,
		descCuts, descPending, descSensorSuspect} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var occ []scheduler.ZoneOccupancy
	var waves []scheduler.Wave
	var closures, cuts, pending int
	var loc *time.Location
	var open bool
	var sensors []scheduler.SensorState
	var at time.Time
	err := c.e.Read(ctx, func(s *scheduler.State, now time.Time) {
		at = now
		open = s.Open(now)
		sensors = s.Sensors()
		occ = s.Occupancy(now)
		loc = s.Config().Location()
		// Today's waves from 3 hours back to 6 hours ahead: a bounded window
		// of slots (at most 36 per gate with 15-minute slots).
		waves = s.Waves(now, now.Add(-3*time.Hour), now.Add(6*time.Hour))
		for _, cl := range s.Closures(now) {
			if cl.Active(now) {
				closures++
			}
		}
		for _, cu := range s.Cuts(now) {
			if cu.Active(now) {
				cuts++
			}
		}
		pending = s.PendingRequests()
	})
	if err != nil {
		return
	}
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	for _, o := range occ {
		ch <- prometheus.MustNewConstMetric(descLive, prometheus.GaugeValue, float64(o.Live), o.Zone)
		ch <- prometheus.MustNewConstMetric(descPlanned, prometheus.GaugeValue, float64(o.Planned), o.Zone)
		ch <- prometheus.MustNewConstMetric(descCapacity, prometheus.GaugeValue, float64(o.Capacity), o.Zone)
		ch <- prometheus.MustNewConstMetric(descHoldAt, prometheus.GaugeValue, float64(o.HoldAt), o.Zone)
		ch <- prometheus.MustNewConstMetric(descReleaseAt, prometheus.GaugeValue, float64(o.ReleaseAt), o.Zone)
		ch <- prometheus.MustNewConstMetric(descHeld, prometheus.GaugeValue, b(o.Held), o.Zone)
		ch <- prometheus.MustNewConstMetric(descClosed, prometheus.GaugeValue, b(o.Closed), o.Zone)
	}
	ch <- prometheus.MustNewConstMetric(descClosures, prometheus.GaugeValue, float64(closures))
	ch <- prometheus.MustNewConstMetric(descCuts, prometheus.GaugeValue, float64(cuts))
	ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(pending))
	ch <- prometheus.MustNewConstMetric(descSiteOpen, prometheus.GaugeValue, b(open))
	for _, st := range sensors {
		ch <- prometheus.MustNewConstMetric(descSensorSuspect, prometheus.GaugeValue, b(st.Suspect), st.Sensor, st.Zone)
		if !st.Applied.IsZero() {
			ch <- prometheus.MustNewConstMetric(descSensorAge, prometheus.GaugeValue, at.Sub(st.Applied).Seconds(), st.Sensor, st.Zone)
		}
	}
	for _, g := range c.e.cfg.Gates {
		ch <- prometheus.MustNewConstMetric(descGateCapacity, prometheus.GaugeValue, float64(g.WaveCapacity), g.ID)
	}
	for _, w := range waves {
		slot := w.Slot.In(loc).Format("15:04")
		ch <- prometheus.MustNewConstMetric(descWaveBooked, prometheus.GaugeValue, float64(w.Booked), w.Gate, slot)
		ch <- prometheus.MustNewConstMetric(descWaveAdmitted, prometheus.GaugeValue, float64(w.Admitted), w.Gate, slot)
		ch <- prometheus.MustNewConstMetric(descWaveNoShow, prometheus.GaugeValue, float64(w.NoShow), w.Gate, slot)
	}
}
