package dashboards

// The template variables shared by the dashboards. Each query's metric is
// one the service always exports (the zone gauges are there from the first
// scrape), so the variables fill in before any visitor arrives.
var (
	varJob = variable{name: "job", label: "Job",
		query: `label_values(tafweej_zone_capacity_visitors, job)`}
	// site is the label configs/prometheus.yml puts on the target; without
	// it the variable is empty and site=~"" matches every series.
	varSite = variable{name: "site", label: "Site",
		query: `label_values(tafweej_zone_capacity_visitors{job=~"$job"}, site)`}
	varZone = variable{name: "zone", label: "Zone", multi: true,
		query: `label_values(tafweej_zone_capacity_visitors{job=~"$job", site=~"$site"}, zone)`}
	// gate: no gauge carries every configured gate, so the gates are those
	// with waves in the window or with scans since the service started.
	varGate = variable{name: "gate", label: "Gate", multi: true,
		query: `label_values({__name__=~"tafweej_wave_booked_visitors|tafweej_scans_total", job=~"$job", site=~"$site"}, gate)`}
)

// Annotations for holds and closures: a region on every time series while
// waves to a zone are held or a zone is closed. matchers filter the zones.
func annoHolds(matchers string) annotation {
	return annotation{name: "Holds", color: "orange",
		expr:  `max by (zone) (tafweej_zone_held{` + matchers + `}) == 1`,
		title: "Hold: {{zone}}", text: "Waves whose route reaches {{zone}} are held"}
}

func annoClosures(matchers string) annotation {
	return annotation{name: "Closures", color: "red",
		expr:  `max by (zone) (tafweej_zone_closed{` + matchers + `}) == 1`,
		title: "Closed: {{zone}}", text: "{{zone}} is closed: no admissions to it"}
}

// Value mappings of the 0/1 gauges.
var (
	heldMap = []mapping{{"0", "flowing", "green"}, {"1", "held", "orange"}}
	closMap = []mapping{{"0", "open", "green"}, {"1", "closed", "red"}}
	natsMap = []mapping{{"0", "disconnected", "red"}, {"1", "connected", "green"}}
	upMap   = []mapping{{"0", "down", "red"}, {"1", "up", "green"}}
	// storageMap names tafweej_storage_level as the platform dashboard
	// folds it: 0 ok, 1 low, 2 critical.
	storageMap = []mapping{{"0", "ok", "green"}, {"1", "low", "orange"}, {"2", "critical", "red"}}
)

// Thresholds: hold_at is about 85% of capacity and release_at about 70% in
// configs/petra.yaml; the per-zone panels draw each zone's exact values.
var occupancySteps = []step{base("green"), at(70, "yellow"), at(85, "orange"), at(100, "red")}

// quantile is the q-quantile of a histogram, aggregated over everything but
// the extra grouping labels.
func quantile(q, metric, matchers, by string) string {
	group := "le"
	if by != "" {
		group = by + ", le"
	}
	return `histogram_quantile(` + q + `, sum by (` + group + `) (rate(` + metric + `_bucket{` + matchers + `}[$__rate_interval])))`
}

// perMinute is a counter's rate per minute, summed by the labels in by.
func perMinute(metric, matchers, by string) string {
	return `sum by (` + by + `) (rate(` + metric + `{` + matchers + `}[$__rate_interval])) * 60`
}

// wavesTransforms join booked, admitted and no-show (queries A, B, C, one
// table each) into one row per slot (and gate), sorted by slot.
func wavesTransforms(byGate bool) []map[string]any {
	exclude := map[string]any{"Time": true}
	order := map[string]any{"slot": 1, "booked": 2, "admitted": 3, "no-show": 4}
	if byGate {
		order = map[string]any{"gate": 0, "slot": 1, "booked": 2, "admitted": 3, "no-show": 4}
	}
	return []map[string]any{
		{"id": "merge", "options": map[string]any{}},
		{"id": "organize", "options": map[string]any{
			"excludeByName": exclude,
			"renameByName":  map[string]any{"Value #A": "booked", "Value #B": "admitted", "Value #C": "no-show"},
			"indexByName":   order,
		}},
		{"id": "sortBy", "options": map[string]any{"fields": map[string]any{}, "sort": []any{map[string]any{"field": "slot", "desc": false}}}},
	}
}
