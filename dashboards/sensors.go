package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// sensors is the dashboard of the people counters: whether they report,
// whether their messages are sound, and whether what they count agrees with
// the plan.
func sensors() *dashboard.DashboardBuilder {
	return newDashboard("tafweej-sensors", "Tafweej — people counters",
		"Counter readings by result, invalid and dead-lettered messages, silent counters, the JetStream backlog, and live occupancy against the plan.",
		"now-6h").
		WithVariable(varJob()).
		WithVariable(varSite()).
		WithVariable(varZone()).
		Annotation(annoHolds(selZone)).
		Annotation(annoClosures(selZone)).
		WithRow(dashboard.NewRowBuilder("Silence — is every counter reporting?")).
		WithPanel(newBarGauge("Time since the last reading, per counter", 12, 12,
			"Seconds since each counter's last applied reading (by the reading's own time). "+
				"Red after 5 minutes: the silent-counter alert fires while the site is open. Counters that never reported since the service started are missing here.").
			Unit("s").
			Thresholds(steps(base("green"), at(120, "orange"), at(300, "red"))).
			DisplayMode(common.BarGaugeDisplayModeBasic).
			Targets(targets(
				ts(`time() - max by (sensor) (tafweej_sensor_last_reading_timestamp_seconds{`+sel+`})`, "{{sensor}}"),
			))).
		WithPanel(newTimeseries("Time since the last reading, over time", 12, 12,
			"A saw-tooth per counter: it climbs between readings and drops at each one. A line that keeps climbing is a silent counter.").
			Unit("s").
			Thresholds(steps(base("green"), at(300, "red"))).
			ThresholdsStyle(thresholdsStyle(common.GraphThresholdsStyleModeDashed)).
			Targets(targets(
				ts(`time() - max by (sensor) (tafweej_sensor_last_reading_timestamp_seconds{`+sel+`})`, "{{sensor}}"),
			))).
		WithRow(dashboard.NewRowBuilder("Suspect counters — readings no crowd can produce")).
		WithPanel(newStat("Counters suspect", 6, 8,
			"Counters that sent a reading no crowd can produce (a clock far off, totals going down, more people a minute than the counter's limit, "+
				"a new boot with a high sequence, more out than in): their readings are set aside until operations trust them again (tafweej sensors trust SENSOR).").
			Thresholds(steps(base("green"), at(1, "red"))).
			Targets(targets(
				ts(`sum(tafweej_sensor_suspect{`+selZone+`})`, "suspect"),
			))).
		WithPanel(newStateTimeline("Suspect, per counter", 18, 8,
			"When each counter was suspect, from the reading that made it so until operations trusted it.").
			Mappings(suspectMap).
			Thresholds(steps(base("green"), at(1, "red"))).
			Targets(targets(
				ts(`max by (sensor) (tafweej_sensor_suspect{`+selZone+`})`, "{{sensor}}"),
			))).
		WithRow(dashboard.NewRowBuilder("Messages — are the readings sound?")).
		WithPanel(newTimeseries("Counter readings per minute, by result", 8, 8,
			"Applied; duplicate (a sequence number at or below the last seen, e.g. a redelivery); invalid (unknown sensor, wrong zone, totals going down).").
			Targets(targets(
				ts(perMinute("tafweej_sensor_messages_total", sel, "result"), "{{result}}"),
			)).
			OverrideByName("applied", solid("green")).
			OverrideByName("duplicate", solid("yellow")).
			OverrideByName("invalid", solid("red"))).
		WithPanel(newStat("Duplicates in the time range", 4, 8,
			"Share of readings dropped as duplicates. A few are normal after reconnections; many mean a counter resends old sequence numbers.").
			Unit("percentunit").
			NoValue("0").
			Thresholds(steps(base("green"), at(0.05, "orange"), at(0.2, "red"))).
			Targets(targets(
				ts(`sum(increase(tafweej_sensor_messages_total{`+sel+`, result="duplicate"}[$__range])) / sum(increase(tafweej_sensor_messages_total{`+sel+`}[$__range]))`, "duplicates"),
			))).
		WithPanel(newTimeseries("Invalid messages per minute, by kind and reason", 6, 8,
			"Messages that could not be decoded or validated (bad JSON, unknown fields, subject and body disagreeing, ...), by kind: scan, counter or alert.").
			Targets(targets(
				ts(perMinute("tafweej_sensor_invalid_messages_total", sel, "kind, reason"), "{{kind}} · {{reason}}"),
			))).
		WithPanel(newTimeseries("Dead-lettered messages per minute, by kind", 6, 8,
			"Messages copied to tafweej.<site>.deadletter.<kind> for inspection.").
			Targets(targets(
				ts(perMinute("tafweej_deadletter_messages_total", sel, "kind"), "{{kind}}"),
			))).
		WithRow(dashboard.NewRowBuilder("Backlog — is the service keeping up?")).
		WithPanel(newTimeseries("Counter messages waiting in JetStream", 12, 7,
			"Messages in the counter stream not yet delivered to the service (the durable consumer's pending count).").
			Targets(targets(
				ts(`max(tafweej_sensor_consumer_pending_messages{`+sel+`})`, "pending"),
			))).
		WithPanel(newTimeseries("Readings applied per minute, total", 12, 7,
			"All counters together: the rate the scheduler takes readings in.").
			Targets(targets(
				ts(`sum(rate(tafweej_sensor_messages_total{`+sel+`, result="applied"}[$__rate_interval])) * 60`, "applied"),
			))).
		WithRow(dashboard.NewRowBuilder("Counted against planned — do the counters agree with the plan?")).
		WithPanel(newTimeseries("Live occupancy, by zone", 12, 9,
			"Visitors in each zone by the counters' in and out totals.").
			Targets(targets(
				ts(`sum by (zone) (tafweej_zone_live_occupancy_visitors{`+selZone+`})`, "{{zone}}"),
			))).
		WithPanel(newTimeseries("Live minus planned, by zone", 12, 9,
			"Positive: more people counted than the plan puts there (walk-ins, groups staying longer, a counter counting double); "+
				"negative: fewer (groups late or faster, a counter missing people).").
			Targets(targets(
				ts(`sum by (zone) (tafweej_zone_live_occupancy_visitors{`+selZone+`}) - sum by (zone) (tafweej_zone_planned_occupancy_visitors{`+selZone+`})`, "{{zone}}"),
			)))
}
