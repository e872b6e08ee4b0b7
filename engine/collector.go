package engine

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tafweej/tafweej/scheduler"
)

// stateCollector reads the live picture from the owner loop at scrape time,
// so the hot path pays nothing for gauges.
type stateCollector struct{ e *Engine }

var (
	descLive = prometheus.NewDesc("tafweej_zone_live_occupancy_visitors",
		"Visitors in the zone now: the best estimate, from the people counters and the zone model (GET /v1/occupancy live).", []string{"zone"}, nil)
	descCounted = prometheus.NewDesc("tafweej_zone_counted_occupancy_visitors",
		"Visitors in the zone now by its people counters alone (GET /v1/occupancy counted).", []string{"zone"}, nil)
	descModel = prometheus.NewDesc("tafweej_zone_model_occupancy_visitors",
		"Visitors in the zone now by the zone model: admissions along their routes by the time since admission, with the learned dwell (GET /v1/occupancy model).", []string{"zone"}, nil)
	descDisagree = prometheus.NewDesc("tafweej_zone_counters_disagree",
		"1 while the zone's counters and the zone model disagree by more than the counters' drift explains.", []string{"zone"}, nil)
	descForecast = prometheus.NewDesc("tafweej_zone_forecast_visitors",
		"Visitors forecast in the zone minutes_ahead minutes from now (0 to 60, every 5), with the groups still to come (GET /v1/forecast).", []string{"zone", "minutes_ahead"}, nil)
	descForecastPeak = prometheus.NewDesc("tafweej_zone_forecast_peak_visitors",
		"The most visitors forecast in the zone over the next hour.", []string{"zone"}, nil)
	descHeldBack = prometheus.NewDesc("tafweej_zone_held_back_groups",
		"Groups held back at their gates because their arrival would take this zone over its hold threshold.", []string{"zone"}, nil)
	descHeldBackVisitors = prometheus.NewDesc("tafweej_zone_held_back_visitors",
		"Visitors of the groups held back at their gates because of this zone.", []string{"zone"}, nil)
	descDwell = prometheus.NewDesc("tafweej_zone_dwell_seconds",
		"Mean stay in the zone: configured (the routes' stops), learned (from the zone's own counters; absent until learned) and model (the stay the zone model, the forecast and metering use).", []string{"zone", "source"}, nil)
	descDwellFactor = prometheus.NewDesc("tafweej_zone_dwell_factor",
		"Stay learned from the zone's own counters over the configured one (1 until learned); the zone model uses the stay of tafweej_zone_dwell_seconds{source=\"model\"}.", []string{"zone"}, nil)
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
		descCuts, descPending, descSensorSuspect, descCounted, descModel, descDisagree, descForecast, descForecastPeak,
		descHeldBack, descHeldBackVisitors, descDwell, descDwellFactor} {
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
	var fc scheduler.Forecast
	var dwell []scheduler.ZoneDwell
	err := c.e.Read(ctx, func(s *scheduler.State, now time.Time) {
		at = now
		fc = s.Forecast(now)
		dwell = s.Dwell(now)
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
		ch <- prometheus.MustNewConstMetric(descCounted, prometheus.GaugeValue, float64(o.Counted), o.Zone)
		ch <- prometheus.MustNewConstMetric(descModel, prometheus.GaugeValue, float64(o.Model), o.Zone)
		ch <- prometheus.MustNewConstMetric(descDisagree, prometheus.GaugeValue, b(o.CountersDisagree), o.Zone)
	}
	heldGroups, heldVisitors := map[string]int{}, map[string]int{}
	for _, h := range fc.Held {
		heldGroups[h.Zone]++
		heldVisitors[h.Zone] += h.Visitors
	}
	for _, z := range fc.Zones {
		for k := 0; k < len(z.Visitors); k += 5 {
			ch <- prometheus.MustNewConstMetric(descForecast, prometheus.GaugeValue, float64(z.Visitors[k]), z.Zone, strconv.Itoa(k))
		}
		ch <- prometheus.MustNewConstMetric(descForecastPeak, prometheus.GaugeValue, float64(z.Peak), z.Zone)
		ch <- prometheus.MustNewConstMetric(descHeldBack, prometheus.GaugeValue, float64(heldGroups[z.Zone]), z.Zone)
		ch <- prometheus.MustNewConstMetric(descHeldBackVisitors, prometheus.GaugeValue, float64(heldVisitors[z.Zone]), z.Zone)
	}
	for _, d := range dwell {
		ch <- prometheus.MustNewConstMetric(descDwell, prometheus.GaugeValue, 60*d.ConfiguredMinutes, d.Zone, "configured")
		if d.Learned {
			ch <- prometheus.MustNewConstMetric(descDwell, prometheus.GaugeValue, 60*d.LearnedMinutes, d.Zone, "learned")
		}
		ch <- prometheus.MustNewConstMetric(descDwell, prometheus.GaugeValue, 60*d.ConfiguredMinutes*d.ModelFactor, d.Zone, "model")
		ch <- prometheus.MustNewConstMetric(descDwellFactor, prometheus.GaugeValue, d.Factor, d.Zone)
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
