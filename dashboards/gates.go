package dashboards

// gates is the gate supervisor's dashboard: who is let in where, who is
// turned away and why, how full the waves are, and how fast gates get an
// answer.
func gates() dashboard {
	return dashboard{
		uid:         "tafweej-gates",
		title:       "Tafweej — gates",
		description: "Admissions, scan decisions by reason, waves per gate and scan latency.",
		vars:        []variable{varJob, varSite, varGate},
		annotations: []annotation{annoHolds(sel), annoClosures(sel)},
		rows: []row{
			{title: "Admissions — how many are let in, where", panels: []panel{
				{kind: "timeseries", title: "Visitors admitted per minute, by gate", w: 12, h: 8,
					desc:    "Visitors let in at each gate (a group admitted with one scan counts its party).",
					targets: []target{ts(perMinute("tafweej_admitted_visitors_total", selGate, "gate"), "{{gate}}")}},
				{kind: "bargauge", title: "Admitted in the time range, by gate", w: 6, h: 8, noValue: "0",
					desc:    "Visitors admitted at each gate during the dashboard's time range.",
					steps:   []step{base("blue")},
					targets: []target{instant(`sum by (gate) (increase(tafweej_admitted_visitors_total{`+selGate+`}[$__range]))`, "{{gate}}")}},
				{kind: "stat", title: "Scans rejected in the time range", w: 6, h: 8, unit: "percentunit", noValue: "0",
					desc:    "Share of scans answered reject during the time range. A sudden rise usually means a wave is held, a zone closed, or a gate device misconfigured.",
					steps:   []step{base("green"), at(0.1, "orange"), at(0.3, "red")},
					targets: []target{ts(`sum(increase(tafweej_scans_total{`+selGate+`, decision="reject"}[$__range])) / sum(increase(tafweej_scans_total{`+selGate+`}[$__range]))`, "rejected")}},
			}},
			{title: "Decisions — who is turned away, and why", panels: []panel{
				{kind: "timeseries", title: "Scan decisions per minute, by reason", w: 12, h: 9, stack: true,
					desc:    "Gate scans by decision and reason. held and closed come from the capacity rules; too_early, too_late and rebooked from the group's slot; the others from the ticket itself.",
					targets: []target{ts(perMinute("tafweej_scans_total", selGate, "decision, reason"), "{{decision}} · {{reason}}")}},
				{kind: "table", title: "Decisions in the time range", w: 12, h: 9,
					desc:    "Scans during the time range by gate, decision and reason.",
					steps:   []step{base("transparent")},
					targets: []target{table(`sum by (gate, decision, reason) (increase(tafweej_scans_total{` + selGate + `}[$__range]))`)},
					transforms: []map[string]any{
						{"id": "organize", "options": map[string]any{"excludeByName": map[string]any{"Time": true},
							"renameByName": map[string]any{"Value": "scans"}}},
						{"id": "sortBy", "options": map[string]any{"fields": map[string]any{}, "sort": []any{map[string]any{"field": "scans", "desc": true}}}},
					}},
			}},
			{title: "Waves — booked, admitted and no-show per gate", panels: []panel{
				{kind: "barchart", title: "Waves at $gate", w: 12, h: 8, repeat: "gate",
					desc: "Visitors booked into each wave of the gate (slot, site time, from 3 hours back to 6 ahead), admitted so far, " +
						"and no-shows once the late grace has passed.",
					targets: []target{
						table(`sum by (slot) (tafweej_wave_booked_visitors{` + selGate + `})`),
						table(`sum by (slot) (tafweej_wave_admitted_visitors{` + selGate + `})`),
						table(`sum by (slot) (tafweej_wave_no_show_visitors{` + selGate + `})`),
					},
					transforms: wavesTransforms(false),
					options:    map[string]any{"xField": "slot"},
					overrides: []override{
						{name: "booked", props: solid("blue")},
						{name: "admitted", props: solid("green")},
						{name: "no-show", props: solid("orange")},
					}},
			}},
			{title: "Latency — how fast a gate gets its answer", panels: []panel{
				{kind: "timeseries", title: "Scan latency quantiles", w: 8, h: 8, unit: "s",
					desc:  "Time from a scan request arriving over NATS to its reply. The dashed line is the alert threshold on p99 (0.5 s).",
					steps: []step{base("green"), at(0.5, "red")}, thresholds: "dashed",
					targets: []target{
						ts(quantile("0.5", "tafweej_scan_duration_seconds", sel, ""), "p50"),
						ts(quantile("0.9", "tafweej_scan_duration_seconds", sel, ""), "p90"),
						ts(quantile("0.99", "tafweej_scan_duration_seconds", sel, ""), "p99"),
					}},
				{kind: "timeseries", title: "Scan latency p99, by decision", w: 8, h: 8, unit: "s",
					desc: "Admissions include a synced store commit, rejections usually not. " +
						"Decision none: scans left unanswered because the owner loop could not apply them.",
					targets: []target{ts(quantile("0.99", "tafweej_scan_duration_seconds", sel, "decision"), "{{decision}}")}},
				{kind: "heatmap", title: "Scan latency distribution", w: 8, h: 8, unit: "s",
					desc:    "Scans per latency bucket over time.",
					targets: []target{{expr: `sum by (le) (increase(tafweej_scan_duration_seconds_bucket{` + sel + `}[$__rate_interval]))`, legend: "{{le}}", format: "heatmap"}}},
			}},
		},
	}
}
