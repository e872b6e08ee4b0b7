package dashboards

import "github.com/grafana/grafana-foundation-sdk/go/dashboard"

// The template variables shared by the dashboards. Each query's metric is
// one the service always exports (the zone gauges are there from the first
// scrape), so the variables fill in before any visitor arrives.
func varJob() *dashboard.QueryVariableBuilder {
	return queryVar("job", "Job", `label_values(tafweej_zone_capacity_visitors, job)`, false)
}

// varSite is the label configs/prometheus.yml puts on the target; without
// it the variable is empty and site=~"" matches every series.
func varSite() *dashboard.QueryVariableBuilder {
	return queryVar("site", "Site", `label_values(tafweej_zone_capacity_visitors{job=~"$job"}, site)`, false)
}

func varZone() *dashboard.QueryVariableBuilder {
	return queryVar("zone", "Zone", `label_values(tafweej_zone_capacity_visitors{job=~"$job", site=~"$site"}, zone)`, true)
}

// varGate: no gauge carries every configured gate, so the gates are those
// with waves in the window or with scans since the service started.
func varGate() *dashboard.QueryVariableBuilder {
	return queryVar("gate", "Gate", `label_values({__name__=~"tafweej_wave_booked_visitors|tafweej_scans_total", job=~"$job", site=~"$site"}, gate)`, true)
}

// Annotations for holds and closures: a region on every time series while
// waves to a zone are held or a zone is closed. matchers filter the zones.
func annoHolds(matchers string) *dashboard.AnnotationQueryBuilder {
	return annotation("Holds", "orange", `max by (zone) (tafweej_zone_held{`+matchers+`}) == 1`,
		"Hold: {{zone}}", "Waves whose route reaches {{zone}} are held")
}

func annoClosures(matchers string) *dashboard.AnnotationQueryBuilder {
	return annotation("Closures", "red", `max by (zone) (tafweej_zone_closed{`+matchers+`}) == 1`,
		"Closed: {{zone}}", "{{zone}} is closed: no admissions to it")
}

// Value mappings of the 0/1 gauges.
var (
	heldMap = valueMap("0", "flowing", "green", "1", "held", "orange")
	closMap = valueMap("0", "open", "green", "1", "closed", "red")
	natsMap = valueMap("0", "disconnected", "red", "1", "connected", "green")
	upMap   = valueMap("0", "down", "red", "1", "up", "green")
	// storageMap names tafweej_storage_level as the platform dashboard
	// folds it: 0 ok, 1 low, 2 critical.
	storageMap = valueMap("0", "ok", "green", "1", "low", "orange", "2", "critical", "red")
	// suspectMap names tafweej_sensor_suspect.
	suspectMap = valueMap("0", "trusted", "green", "1", "suspect", "red")
)

// Thresholds: hold_at is about 85% of capacity and release_at about 70% in
// configs/petra.yaml; the per-zone panels draw each zone's exact values.
func occupancySteps() *dashboard.ThresholdsConfigBuilder {
	return steps(base("green"), at(70, "yellow"), at(85, "orange"), at(100, "red"))
}

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
func wavesTransforms(byGate bool) []dashboard.DataTransformerConfig {
	order := map[string]any{"slot": 1, "booked": 2, "admitted": 3, "no-show": 4}
	if byGate {
		order["gate"] = 0
	}
	return []dashboard.DataTransformerConfig{
		{Id: "merge", Options: map[string]any{}},
		organize(map[string]any{"Value #A": "booked", "Value #B": "admitted", "Value #C": "no-show"}, order),
		sortBy("slot", false),
	}
}
