package dashboards

// sensors is the dashboard of the people counters: whether they report,
// whether their messages are sound, and whether what they count agrees with
// the plan.
func sensors() dashboard {
	return dashboard{
		uid:         "tafweej-sensors",
		title:       "Tafweej — people counters",
		description: "Counter readings by result, invalid and dead-lettered messages, silent counters, the JetStream backlog, and live occupancy against the plan.",
		vars:        []variable{varJob, varSite, varZone},
		annotations: []annotation{annoHolds(selZone), annoClosures(selZone)},
		rows: []row{
			{title: "Silence — is every counter reporting?", panels: []panel{
				{kind: "bargauge", title: "Time since the last reading, per counter", w: 12, h: 12, unit: "s",
					desc: "Seconds since each counter's last applied reading (by the reading's own time). " +
						"Red after 5 minutes: the silent-counter alert fires while the site is open. Counters that never reported since the service started are missing here.",
					steps:   []step{base("green"), at(120, "orange"), at(300, "red")},
					options: map[string]any{"displayMode": "basic"},
					targets: []target{ts(`time() - max by (sensor) (tafweej_sensor_last_reading_timestamp_seconds{`+sel+`})`, "{{sensor}}")}},
				{kind: "timeseries", title: "Time since the last reading, over time", w: 12, h: 12, unit: "s",
					desc:  "A saw-tooth per counter: it climbs between readings and drops at each one. A line that keeps climbing is a silent counter.",
					steps: []step{base("green"), at(300, "red")}, thresholds: "dashed",
					targets: []target{ts(`time() - max by (sensor) (tafweej_sensor_last_reading_timestamp_seconds{`+sel+`})`, "{{sensor}}")}},
			}},
			{title: "Messages — are the readings sound?", panels: []panel{
				{kind: "timeseries", title: "Counter readings per minute, by result", w: 8, h: 8,
					desc:    "Applied; duplicate (a sequence number at or below the last seen, e.g. a redelivery); invalid (unknown sensor, wrong zone, totals going down).",
					targets: []target{ts(perMinute("tafweej_sensor_messages_total", sel, "result"), "{{result}}")},
					overrides: []override{
						{name: "applied", props: solid("green")},
						{name: "duplicate", props: solid("yellow")},
						{name: "invalid", props: solid("red")},
					}},
				{kind: "stat", title: "Duplicates in the time range", w: 4, h: 8, unit: "percentunit", noValue: "0",
					desc:    "Share of readings dropped as duplicates. A few are normal after reconnections; many mean a counter resends old sequence numbers.",
					steps:   []step{base("green"), at(0.05, "orange"), at(0.2, "red")},
					targets: []target{ts(`sum(increase(tafweej_sensor_messages_total{`+sel+`, result="duplicate"}[$__range])) / sum(increase(tafweej_sensor_messages_total{`+sel+`}[$__range]))`, "duplicates")}},
				{kind: "timeseries", title: "Invalid messages per minute, by kind and reason", w: 6, h: 8,
					desc:    "Messages that could not be decoded or validated (bad JSON, unknown fields, subject and body disagreeing, ...), by kind: scan, counter or alert.",
					targets: []target{ts(perMinute("tafweej_sensor_invalid_messages_total", sel, "kind, reason"), "{{kind}} · {{reason}}")}},
				{kind: "timeseries", title: "Dead-lettered messages per minute, by kind", w: 6, h: 8,
					desc:    "Messages copied to tafweej.<site>.deadletter.<kind> for inspection.",
					targets: []target{ts(perMinute("tafweej_deadletter_messages_total", sel, "kind"), "{{kind}}")}},
			}},
			{title: "Backlog — is the service keeping up?", panels: []panel{
				{kind: "timeseries", title: "Counter messages waiting in JetStream", w: 12, h: 7,
					desc:    "Messages in the counter stream not yet delivered to the service (the durable consumer's pending count).",
					targets: []target{ts(`max(tafweej_sensor_consumer_pending_messages{`+sel+`})`, "pending")}},
				{kind: "timeseries", title: "Readings applied per minute, total", w: 12, h: 7,
					desc:    "All counters together: the rate the scheduler takes readings in.",
					targets: []target{ts(`sum(rate(tafweej_sensor_messages_total{`+sel+`, result="applied"}[$__rate_interval])) * 60`, "applied")}},
			}},
			{title: "Counted against planned — do the counters agree with the plan?", panels: []panel{
				{kind: "timeseries", title: "Live occupancy, by zone", w: 12, h: 9,
					desc:    "Visitors in each zone by the counters' in and out totals.",
					targets: []target{ts(`sum by (zone) (tafweej_zone_live_occupancy_visitors{`+selZone+`})`, "{{zone}}")}},
				{kind: "timeseries", title: "Live minus planned, by zone", w: 12, h: 9,
					desc: "Positive: more people counted than the plan puts there (walk-ins, groups staying longer, a counter counting double); " +
						"negative: fewer (groups late or faster, a counter missing people).",
					targets: []target{ts(`sum by (zone) (tafweej_zone_live_occupancy_visitors{`+selZone+`}) - sum by (zone) (tafweej_zone_planned_occupancy_visitors{`+selZone+`})`, "{{zone}}")}},
			}},
		},
	}
}
