package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// overview is the control room's dashboard: one screen that says whether the
// reserve is within its safe limits and whether the system watching it works.
func overview() *dashboard.DashboardBuilder {
	return newDashboard("tafweej-overview", "Tafweej — control room",
		"Live versus planned occupancy of every zone, holds and closures, the waves of the coming hours, "+
			"the gates, the people counters, bookings, and the health of the store and NATS.",
		"now-3h").
		WithVariable(varJob()).
		WithVariable(varSite()).
		WithVariable(varZone()).
		WithVariable(varGate()).
		Annotation(annoHolds(selZone)).
		Annotation(annoClosures(selZone)).
		WithRow(dashboard.NewRowBuilder("Now — is the reserve within its safe limits?")).
		WithPanel(newStat("Visitors in the reserve", 3, 4,
			"Sum of the live occupancy of every zone, from the people counters.").
			Targets(targets(
				ts(`sum(tafweej_zone_live_occupancy_visitors{`+sel+`})`, "live"),
			))).
		WithPanel(newStat("Planned now", 3, 4,
			"Visitors the plan puts in the reserve now (admitted and booked groups on their routes).").
			Thresholds(steps(base("blue"))).
			Targets(targets(
				ts(`sum(tafweej_zone_planned_occupancy_visitors{`+sel+`})`, "planned"),
			))).
		WithPanel(newStat("Zones at hold threshold", 3, 4,
			"Zones whose live occupancy is at or above their hold threshold.").
			Thresholds(steps(base("green"), at(1, "orange"))).
			Targets(targets(
				ts(`sum(tafweej_zone_live_occupancy_visitors{`+sel+`} >= bool tafweej_zone_hold_threshold_visitors{`+sel+`})`, "zones"),
			))).
		WithPanel(newStat("Zones held", 3, 4,
			"Zones whose incoming waves are held (gates answer held until occupancy falls to the release threshold).").
			Thresholds(steps(base("green"), at(1, "orange"))).
			Targets(targets(
				ts(`sum(tafweej_zone_held{`+sel+`})`, "held"),
			))).
		WithPanel(newStat("Zones closed", 3, 4,
			"Zones closed by operations or an alert (e.g. a flood warning closes the Siq).").
			Thresholds(steps(base("green"), at(1, "red"))).
			Targets(targets(
				ts(`sum(tafweej_zone_closed{`+sel+`})`, "closed"),
			))).
		WithPanel(newStat("Closures in force", 3, 4,
			"Closures in force (one closure may close several zones, or the whole site).").
			Thresholds(steps(base("green"), at(1, "red"))).
			Targets(targets(
				ts(`sum(tafweej_closures_active{`+sel+`})`, "closures"),
			))).
		WithPanel(newStat("Service", 3, 4,
			"Whether Prometheus can scrape the service; when it is down every other panel is stale.").
			Mappings(upMap).
			Thresholds(steps(base("red"), at(1, "green"))).
			Targets(targets(
				ts(`min(up{`+sel+`})`, "up"),
			))).
		WithPanel(newStat("NATS", 3, 4,
			"Whether the service is connected to NATS (gate scans, counters and alerts arrive over NATS).").
			Mappings(natsMap).
			Thresholds(steps(base("red"), at(1, "green"))).
			Targets(targets(
				ts(`min(tafweej_nats_connected{`+sel+`})`, "connected"),
			))).
		WithRow(dashboard.NewRowBuilder("Occupancy — live, planned and capacity per zone")).
		WithPanel(newBarGauge("Live occupancy, % of capacity", 12, 9,
			"Live occupancy of each zone as a share of its safe capacity. Yellow from 70% (about the release threshold), "+
				"orange from 85% (about the hold threshold), red at capacity.").
			Unit("percent").
			Min(0).
			Max(120).
			Thresholds(occupancySteps()).
			Targets(targets(
				ts(`100 * tafweej_zone_live_occupancy_visitors{`+selZone+`} / tafweej_zone_capacity_visitors{`+selZone+`}`, "{{zone}}"),
			))).
		WithPanel(newBarGauge("Headroom before hold (visitors)", 12, 9,
			"How many more visitors each zone can take before its waves are held: hold threshold minus live occupancy. "+
				"Zero or less: the zone is at its hold threshold.").
			Thresholds(steps(base("red"), at(1, "orange"), at(100, "green"))).
			Targets(targets(
				ts(`tafweej_zone_hold_threshold_visitors{`+selZone+`} - tafweej_zone_live_occupancy_visitors{`+selZone+`}`, "{{zone}}"),
			))).
		WithPanel(newTimeseries("$zone", 8, 8,
			"Live occupancy (counters) against the plan, the hold threshold and the capacity of the zone. "+
				"Live above planned means more people than booked groups explain (walk-ins, groups staying longer, or a miscounting counter).").
			Repeat("zone").RepeatDirection(dashboard.PanelRepeatDirectionH).MaxPerRow(3).
			Targets(targets(
				ts(`sum(tafweej_zone_live_occupancy_visitors{`+selZone+`})`, "live"),
				ts(`sum(tafweej_zone_planned_occupancy_visitors{`+selZone+`})`, "planned"),
				ts(`sum(tafweej_zone_hold_threshold_visitors{`+selZone+`})`, "hold at"),
				ts(`sum(tafweej_zone_capacity_visitors{`+selZone+`})`, "capacity"),
			)).
			OverrideByName("live", solid("green")).
			OverrideByName("planned", solid("blue")).
			OverrideByName("hold at", dashed("orange")).
			OverrideByName("capacity", dashed("red"))).
		WithRow(dashboard.NewRowBuilder("Forecast — the next hour against capacity, and the groups held back")).
		WithPanel(newBarGauge("Forecast peak of the next hour, % of capacity", 8, 9,
			"The most visitors forecast in each zone over the next hour (visitors inside moving along their routes, groups admitted "+
				"and not yet there, groups still to come), as a share of its capacity. Orange from 85% (about the hold threshold): "+
				"the gates hold back the groups whose arrival would take a zone past it.").
			Unit("percent").
			Min(0).
			Max(120).
			Thresholds(occupancySteps()).
			Targets(targets(
				ts(`100 * tafweej_zone_forecast_peak_visitors{`+selZone+`} / tafweej_zone_capacity_visitors{`+selZone+`}`, "{{zone}}"),
			))).
		WithPanel(newTimeseries("Forecast in 30 minutes against capacity ($zone)", 8, 9,
			"Visitors forecast 30 and 60 minutes ahead (each point is the forecast made then) against the hold threshold and the capacity. "+
				"The learned dwell is in the forecast.").
			Targets(targets(
				ts(`sum(tafweej_zone_forecast_visitors{minutes_ahead="30",`+selZone+`})`, "in 30 min"),
				ts(`sum(tafweej_zone_forecast_visitors{minutes_ahead="60",`+selZone+`})`, "in 60 min"),
				ts(`sum(tafweej_zone_hold_threshold_visitors{`+selZone+`})`, "hold at"),
				ts(`sum(tafweej_zone_capacity_visitors{`+selZone+`})`, "capacity"),
			)).
			OverrideByName("in 30 min", solid("purple")).
			OverrideByName("in 60 min", dashed("purple")).
			OverrideByName("hold at", dashed("orange")).
			OverrideByName("capacity", dashed("red"))).
		WithPanel(newTimeseries("Groups held back at the gates, by the zone they would overfill", 8, 9,
			"Groups told to come back later because their arrival would take this zone over its hold threshold at the time they "+
				"would reach it (GET /v1/forecast lists each group, when and why).").
			Targets(targets(
				ts(`sum by (zone) (tafweej_zone_held_back_groups{`+selZone+`})`, "{{zone}}"),
			))).
		WithPanel(newBarGauge("Dwell: learned over configured", 12, 7,
			"How long visitors really stay in each zone (learned from the counters) over the configured stays: 1 until learned. "+
				"Above 1, visitors stay longer than the plan assumes (`tafweej dwell` shows the figures and the stays to adopt).").
			Min(0.5).
			Max(2).
			Decimals(2).
			Thresholds(steps(base("blue"), at(0.9, "green"), at(1.15, "orange"), at(1.4, "red"))).
			Targets(targets(
				ts(`tafweej_zone_dwell_factor{`+selZone+`}`, "{{zone}}"),
			))).
		WithPanel(newBarGauge("Counters against the zone model", 12, 7,
			"Counted occupancy less the zone model's, per zone: the live figure fuses the two; a zone whose counters disagree "+
				"with everything else is marked (tafweej_zone_counters_disagree).").
			Thresholds(steps(base("green"))).
			Targets(targets(
				ts(`tafweej_zone_counted_occupancy_visitors{`+selZone+`} - tafweej_zone_model_occupancy_visitors{`+selZone+`}`, "{{zone}}"),
			))).
		WithRow(dashboard.NewRowBuilder("Holds and closures — where is the flow stopped?")).
		WithPanel(newStateTimeline("Waves held, by zone", 12, 8,
			"When waves whose route reaches a zone were held because its live occupancy passed the hold threshold.").
			Mappings(heldMap).
			Thresholds(steps(base("green"), at(1, "orange"))).
			Targets(targets(
				ts(`max by (zone) (tafweej_zone_held{`+selZone+`})`, "{{zone}}"),
			))).
		WithPanel(newStateTimeline("Zones closed", 12, 8,
			"When zones were closed (by operations or by an alert such as a flood warning).").
			Mappings(closMap).
			Thresholds(steps(base("green"), at(1, "red"))).
			Targets(targets(
				ts(`max by (zone) (tafweej_zone_closed{`+selZone+`})`, "{{zone}}"),
			))).
		WithRow(dashboard.NewRowBuilder("Waves — booked, admitted and no-show, 3 hours back to 6 ahead")).
		WithPanel(wavesChart("Waves of the selected gates", 14, 9,
			"Visitors booked into each wave (slot, site time), admitted so far, and no-shows (not admitted once the late grace has passed). "+
				"Sums over the selected gates.")).
		WithPanel(newTable("Waves by gate", 10, 9,
			"The same waves, one line per gate and slot.").
			Targets(targets(
				tableQ(`sum by (gate, slot) (tafweej_wave_booked_visitors{`+selGate+`})`),
				tableQ(`sum by (gate, slot) (tafweej_wave_admitted_visitors{`+selGate+`})`),
				tableQ(`sum by (gate, slot) (tafweej_wave_no_show_visitors{`+selGate+`})`),
			)).
			Transformations(wavesTransforms(true))).
		WithRow(dashboard.NewRowBuilder("Gates — who is let in, who is turned away, how fast")).
		WithPanel(newTimeseries("Visitors admitted per minute, by gate", 8, 8,
			"Visitors let in at each gate (a group of 12 admitted with one scan counts 12).").
			Targets(targets(
				ts(perMinute("tafweej_admitted_visitors_total", selGate, "gate"), "{{gate}}"),
			))).
		WithPanel(newTimeseries("Scan decisions per minute, by reason", 8, 8,
			"Gate scans by decision (admit, partial, reject) and reason (ok, too_early, held, closed, already_used, ...).").
			Stacking(stacked()).FillOpacity(60).LineWidth(1).
			Targets(targets(
				ts(perMinute("tafweej_scans_total", selGate, "decision, reason"), "{{decision}} · {{reason}}"),
			))).
		WithPanel(newTimeseries("Scan latency (gate request to reply)", 8, 8,
			"Time from a gate's scan request arriving over NATS to the reply, including the synced commit of an admission. "+
				"The dashed line is the alert threshold (p99 above 0.5 s for 5 minutes).").
			Unit("s").
			Thresholds(steps(base("green"), at(0.5, "red"))).
			ThresholdsStyle(thresholdsStyle(common.GraphThresholdsStyleModeDashed)).
			Targets(targets(
				ts(quantile("0.5", "tafweej_scan_duration_seconds", sel, ""), "p50"),
				ts(quantile("0.99", "tafweej_scan_duration_seconds", sel, ""), "p99"),
			))).
		WithRow(dashboard.NewRowBuilder("People counters — are they reporting, and soundly?")).
		WithPanel(newTimeseries("Counter readings per minute, by result", 8, 9,
			"Readings applied, dropped as duplicates (sequence at or below the last one seen) and refused as invalid by the scheduler.").
			Targets(targets(
				ts(perMinute("tafweej_sensor_messages_total", sel, "result"), "{{result}}"),
			)).
			OverrideByName("applied", solid("green")).
			OverrideByName("duplicate", solid("yellow")).
			OverrideByName("invalid", solid("red"))).
		WithPanel(newTimeseries("Invalid messages per minute, by kind and reason", 8, 9,
			"Messages from gates, counters and alert sources that could not be decoded or validated; each is answered bad_request or dead-lettered and changes nothing.").
			Targets(targets(
				ts(perMinute("tafweej_sensor_invalid_messages_total", sel, "kind, reason"), "{{kind}} · {{reason}}"),
			))).
		WithPanel(newBarGauge("Time since the last reading, per counter", 8, 9,
			"Seconds since each people counter's last applied reading (by the reading's own time). "+
				"Orange after 2 minutes; red after 5, when the silent-counter alert fires while the site is open.").
			Unit("s").
			Thresholds(steps(base("green"), at(120, "orange"), at(300, "red"))).
			DisplayMode(common.BarGaugeDisplayModeBasic).
			Targets(targets(
				ts(`time() - max by (sensor) (tafweej_sensor_last_reading_timestamp_seconds{`+sel+`})`, "{{sensor}}"),
			))).
		WithRow(dashboard.NewRowBuilder("Bookings — are operators getting places?")).
		WithPanel(newTimeseries("Booking commands per minute, by result", 12, 8,
			"Bookings confirmed, modified, cancelled or replayed (same Idempotency-Key), and refusals by code (no_capacity, ...).").
			Stacking(stacked()).FillOpacity(60).LineWidth(1).
			Targets(targets(
				ts(perMinute("tafweej_bookings_total", sel, "result"), "{{result}}"),
			))).
		WithPanel(newStat("Confirmed in the time range", 6, 8,
			"Bookings confirmed during the dashboard's time range.").
			NoValue("0").
			Thresholds(steps(base("blue"))).
			Targets(targets(
				ts(`sum(increase(tafweej_bookings_total{`+sel+`, result="confirmed"}[$__range]))`, "confirmed"),
			))).
		WithPanel(newStat("Refused in the time range", 6, 8,
			"Booking, change and cancel commands refused (no capacity, outside the booking window, ...) during the time range.").
			NoValue("0").
			Thresholds(steps(base("green"), at(1, "orange"))).
			Targets(targets(
				ts(`sum(increase(tafweej_bookings_total{`+sel+`, result!~"confirmed|modified|cancelled|replayed"}[$__range]))`, "refused"),
			))).
		WithRow(dashboard.NewRowBuilder("Planned days and capacity cuts")).
		WithPanel(newStat("Requests waiting for the planner", 6, 8,
			"Requests of planned days (the config's request window) submitted and not yet allotted: they wait for their date's cut-off, "+
				"when the day planner places them all at once.").
			NoValue("0").
			Thresholds(steps(base("blue"))).
			Targets(targets(
				ts(`sum(tafweej_requests_pending{`+sel+`})`, "pending"),
			))).
		WithPanel(newStat("Capacity cuts in force", 6, 8,
			"Zones or gates running at a lowered capacity (tafweej cut); the bookings over it were moved or cancelled.").
			NoValue("0").
			Thresholds(steps(base("green"), at(1, "orange"))).
			Targets(targets(
				ts(`sum(tafweej_capacity_cuts_active{`+sel+`})`, "cuts"),
			))).
		WithPanel(newTimeseries("Zone capacity in force", 12, 8,
			"Each zone's safe capacity; a dip is a capacity cut (rain, works), a return to the configured figure its end.").
			Targets(targets(
				ts(`max by (zone) (tafweej_zone_capacity_visitors{`+sel+`})`, "{{zone}}"),
			))).
		WithRow(dashboard.NewRowBuilder("Over capacity — bookings above a lowered configuration")).
		WithPanel(newStat("Waves booked over capacity", 6, 7,
			"Waves, from now on, with more visitors booked than the gate's wave capacity now configured "+
				"(a restart with a lower figure keeps the stored bookings). Fix each date with tafweej replan --date D.").
			NoValue("0").
			Thresholds(steps(base("green"), at(1, "red"))).
			Targets(targets(
				ts(`max(tafweej_overbooked_waves{`+sel+`})`, "waves"),
			))).
		WithPanel(newStat("Zone-days over capacity", 6, 7,
			"Zone-days, from today on, whose plan goes over the zone's capacity now configured. Fix each date with tafweej replan --date D.").
			NoValue("0").
			Thresholds(steps(base("green"), at(1, "red"))).
			Targets(targets(
				ts(`max(tafweej_overbooked_zone_dates{`+sel+`})`, "zone-days"),
			))).
		WithPanel(newTimeseries("Over capacity over time", 12, 7,
			"Waves and zone-days over the capacity in force: a step up after a restart with a lowered configuration, "+
				"back to zero once the dates are re-planned.").
			Targets(targets(
				ts(`max(tafweej_overbooked_waves{`+sel+`})`, "waves"),
				ts(`max(tafweej_overbooked_zone_dates{`+sel+`})`, "zone-days"),
			))).
		WithRow(dashboard.NewRowBuilder("Store and NATS — can the service record and listen?")).
		WithPanel(newTimeseries("Store commit latency", 6, 8,
			"Time of one synced Badger commit (one per owner-loop turn, grouping every command of the turn).").
			Unit("s").
			Targets(targets(
				ts(quantile("0.5", "tafweej_store_write_duration_seconds", sel, ""), "p50"),
				ts(quantile("0.99", "tafweej_store_write_duration_seconds", sel, ""), "p99"),
			))).
		WithPanel(newTimeseries("Store write errors", 6, 8,
			"Failed store commits; each turn that failed was rolled back and its callers got an error. Any is an alert.").
			DrawStyle(common.GraphDrawStyleBars).FillOpacity(80).
			Thresholds(steps(base("green"), at(1, "red"))).
			ThresholdsStyle(thresholdsStyle(common.GraphThresholdsStyleModeLineAndArea)).
			Targets(targets(
				ts(`sum(increase(tafweej_store_write_errors_total{`+sel+`}[$__rate_interval]))`, "errors"),
			))).
		WithPanel(newStateTimeline("NATS connection", 6, 8,
			"Whether the service was connected to NATS.").
			Mappings(natsMap).
			Thresholds(steps(base("red"), at(1, "green"))).
			Targets(targets(
				ts(`min(tafweej_nats_connected{`+sel+`})`, "NATS"),
			))).
		WithPanel(newTimeseries("Counter messages waiting in JetStream", 6, 8,
			"Counter messages in the stream not yet delivered to the service. A growing backlog means the service falls behind the counters.").
			Targets(targets(
				ts(`max(tafweej_sensor_consumer_pending_messages{`+sel+`})`, "pending"),
			)))
}
