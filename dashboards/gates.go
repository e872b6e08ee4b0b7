package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// gates is the gate supervisor's dashboard: who is let in where, who is
// turned away and why, how full the waves are, and how fast gates get an
// answer.
func gates() *dashboard.DashboardBuilder {
	return newDashboard("tafweej-gates", "Tafweej — gates",
		"Admissions, scan decisions by reason, waves per gate and scan latency.",
		"now-6h").
		WithVariable(varJob()).
		WithVariable(varSite()).
		WithVariable(varGate()).
		Annotation(annoHolds(sel)).
		Annotation(annoClosures(sel)).
		WithRow(dashboard.NewRowBuilder("Admissions — how many are let in, where")).
		WithPanel(newTimeseries("Visitors admitted per minute, by gate", 12, 8,
			"Visitors let in at each gate (a group admitted with one scan counts its party).").
			Targets(targets(
				ts(perMinute("tafweej_admitted_visitors_total", selGate, "gate"), "{{gate}}"),
			))).
		WithPanel(newBarGauge("Admitted in the time range, by gate", 6, 8,
			"Visitors admitted at each gate during the dashboard's time range.").
			NoValue("0").
			Thresholds(steps(base("blue"))).
			Targets(targets(
				instant(`sum by (gate) (increase(tafweej_admitted_visitors_total{`+selGate+`}[$__range]))`, "{{gate}}"),
			))).
		WithPanel(newStat("Scans rejected in the time range", 6, 8,
			"Share of scans answered reject during the time range. A sudden rise usually means a wave is held, a zone closed, or a gate device misconfigured.").
			Unit("percentunit").
			NoValue("0").
			Thresholds(steps(base("green"), at(0.1, "orange"), at(0.3, "red"))).
			Targets(targets(
				ts(`sum(increase(tafweej_scans_total{`+selGate+`, decision="reject"}[$__range])) / sum(increase(tafweej_scans_total{`+selGate+`}[$__range]))`, "rejected"),
			))).
		WithRow(dashboard.NewRowBuilder("Decisions — who is turned away, and why")).
		WithPanel(newTimeseries("Scan decisions per minute, by reason", 12, 9,
			"Gate scans by decision and reason. held and closed come from the capacity rules; too_early, too_late and rebooked from the group's slot; the others from the ticket itself.").
			Stacking(stacked()).FillOpacity(60).LineWidth(1).
			Targets(targets(
				ts(perMinute("tafweej_scans_total", selGate, "decision, reason"), "{{decision}} · {{reason}}"),
			))).
		WithPanel(newTable("Decisions in the time range", 12, 9,
			"Scans during the time range by gate, decision and reason.").
			Targets(targets(
				tableQ(`sum by (gate, decision, reason) (increase(tafweej_scans_total{` + selGate + `}[$__range]))`),
			)).
			Transformations(countsTable("scans"))).
		WithRow(dashboard.NewRowBuilder("Waves — booked, admitted and no-show per gate")).
		WithPanel(wavesChart("Waves at $gate", 12, 8,
			"Visitors booked into each wave of the gate (slot, site time, from 3 hours back to 6 ahead), admitted so far, "+
				"and no-shows once the late grace has passed.").
			Repeat("gate").RepeatDirection(dashboard.PanelRepeatDirectionH).MaxPerRow(3)).
		WithRow(dashboard.NewRowBuilder("Latency — how fast a gate gets its answer")).
		WithPanel(newTimeseries("Scan latency quantiles", 8, 8,
			"Time from a scan request arriving over NATS to its reply. The dashed line is the alert threshold on p99 (0.5 s).").
			Unit("s").
			Thresholds(steps(base("green"), at(0.5, "red"))).
			ThresholdsStyle(thresholdsStyle(common.GraphThresholdsStyleModeDashed)).
			Targets(targets(
				ts(quantile("0.5", "tafweej_scan_duration_seconds", sel, ""), "p50"),
				ts(quantile("0.9", "tafweej_scan_duration_seconds", sel, ""), "p90"),
				ts(quantile("0.99", "tafweej_scan_duration_seconds", sel, ""), "p99"),
			))).
		WithPanel(newTimeseries("Scan latency p99, by decision", 8, 8,
			"Admissions include a synced store commit, rejections usually not. "+
				"Decision none: scans left unanswered because the owner loop could not apply them.").
			Unit("s").
			Targets(targets(
				ts(quantile("0.99", "tafweej_scan_duration_seconds", sel, "decision"), "{{decision}}"),
			))).
		WithPanel(newHeatmap("Scan latency distribution", 8, 8, "s",
			"Scans per latency bucket over time.").
			Targets(targets(
				heatmapQ(`sum by (le) (increase(tafweej_scan_duration_seconds_bucket{`+sel+`}[$__rate_interval]))`, "{{le}}"),
			))).
		WithRow(dashboard.NewRowBuilder("Offline gates — scans uploaded after a link loss, and their conflicts")).
		WithPanel(newTimeseries("Offline scans uploaded per minute", 8, 8,
			"Scans a gate made from its manifest while it could not reach the service, counted when the gate uploads them "+
				"(POST /v1/scans/offline or NATS), not when they were made: a burst is a gate back from a link loss.").
			Targets(targets(
				ts(`sum(rate(tafweej_offline_scans_total{`+sel+`}[$__rate_interval])) * 60`, "uploaded"),
			))).
		WithPanel(newBarGauge("Offline conflicts in the time range, by kind", 8, 8,
			"Conflicts found reconciling offline scans: over_admission (more admitted than the party, e.g. one ticket at two gates), "+
				"cancelled_admitted (a ticket cancelled meanwhile) and closed_zone_entered (a route through a zone closed at the scan's time). "+
				"Each one is also a scan.conflict event, with the booking, gate and device.").
			NoValue("0").
			Thresholds(steps(base("green"), at(1, "red"))).
			Targets(targets(
				instant(`sum by (kind) (increase(tafweej_offline_conflicts_total{`+sel+`}[$__range]))`, "{{kind}}"),
			))).
		WithPanel(newTimeseries("Offline conflicts per minute, by kind", 8, 8,
			"Conflicts found per minute as offline scans are reconciled, by kind.").
			Targets(targets(
				ts(perMinute("tafweej_offline_conflicts_total", sel, "kind"), "{{kind}}"),
			)))
}
