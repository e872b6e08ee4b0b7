package engine

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tafweej/tafweej/scheduler"
)

// Over capacity after a configuration change: the stored bookings are
// placed as they are (scheduler.Restore), so a restart with lower
// capacities can leave dates over them. The engine says so in its log at
// start, one warning a date, and exports the counts as gauges; the fix is
// a Replan of each date (tafweej replan --date D).

// reportOverCapacity logs one warning for each date with bookings over the
// capacity now configured. It runs in New, before the owner loop starts.
func (e *Engine) reportOverCapacity() {
	byDate := scheduler.OverageByDate(e.state.OverCapacity(e.clock.Now()))
	for _, d := range byDate {
		var zones, gates []string
		for _, z := range d.Zones {
			zones = append(zones, z.Zone)
		}
		for _, g := range d.Gates {
			gates = append(gates, g.Gate)
		}
		e.log.Warn("bookings over the capacity now configured", "date", d.Date, "waves", d.Waves, "zone_days", d.ZoneDays,
			"zones", strings.Join(zones, ","), "gates", strings.Join(gates, ","), "fix", d.Fix)
	}
	if len(byDate) > 0 {
		e.log.Warn("dates over the capacity now configured; re-plan each with tafweej replan --date D", "dates", len(byDate))
	}
}

var (
	descOverWaves = prometheus.NewDesc("tafweej_overbooked_waves",
		"Waves, from now on, booked over the gate's wave capacity in force (after the configuration lowered it); fix with tafweej replan --date D.", nil, nil)
	descOverZoneDays = prometheus.NewDesc("tafweej_overbooked_zone_dates",
		"Zone-days, from today on, whose plan goes over the zone's capacity in force (after the configuration lowered it); fix with tafweej replan --date D.", nil, nil)
)

// overCollector exports the over-capacity counts, computed at scrape time
// on the owner goroutine.
type overCollector struct{ e *Engine }

func (c *overCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descOverWaves
	ch <- descOverZoneDays
}

func (c *overCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var waves, zoneDays int
	err := c.e.Read(ctx, func(s *scheduler.State, now time.Time) {
		for _, o := range s.OverCapacity(now) {
			if o.Zone != "" {
				zoneDays++
			} else {
				waves++
			}
		}
	})
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(descOverWaves, prometheus.GaugeValue, float64(waves))
	ch <- prometheus.MustNewConstMetric(descOverZoneDays, prometheus.GaugeValue, float64(zoneDays))
}
