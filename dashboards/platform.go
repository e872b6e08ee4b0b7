package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// platform is the on-call engineer's dashboard: the service, its HTTP API,
// the store, NATS and the Go runtime.
func platform() *dashboard.DashboardBuilder {
	return newDashboard("tafweej-platform", "Tafweej — platform",
		"The service process, the HTTP API, the Badger store, NATS and the Go runtime.",
		"now-6h").
		WithVariable(varJob()).
		WithVariable(varSite()).
		WithRow(dashboard.NewRowBuilder("Service — is it up, which version?")).
		WithPanel(newStat("Scrape", 4, 4,
			"Whether Prometheus can scrape /metrics.").
			Mappings(upMap).
			Thresholds(steps(base("red"), at(1, "green"))).
			Targets(targets(
				ts(`min(up{`+sel+`})`, "up"),
			))).
		WithPanel(newStat("NATS", 4, 4,
			"Whether the service is connected to NATS.").
			Mappings(natsMap).
			Thresholds(steps(base("red"), at(1, "green"))).
			Targets(targets(
				ts(`min(tafweej_nats_connected{`+sel+`})`, "NATS"),
			))).
		WithPanel(newStat("Version", 6, 4,
			"The main module's version of the running binary (go_build_info).").
			Thresholds(steps(base("blue"))).
			TextMode(common.BigValueTextModeName).ColorMode(common.BigValueColorModeNone).
			Targets(targets(
				ts(`max by (version) (go_build_info{`+sel+`})`, "{{version}}"),
			))).
		WithPanel(newStat("Uptime", 5, 4,
			"Time since the process started; orange for the first 10 minutes after a restart.").
			Unit("s").
			Thresholds(steps(base("orange"), at(600, "green"))).
			Targets(targets(
				ts(`time() - max(process_start_time_seconds{`+sel+`})`, "uptime"),
			))).
		WithPanel(newStat("Store write errors in the time range", 5, 4,
			"Failed store commits during the time range; any is an alert.").
			NoValue("0").
			Thresholds(steps(base("green"), at(1, "red"))).
			Targets(targets(
				ts(`sum(increase(tafweej_store_write_errors_total{`+sel+`}[$__range]))`, "errors"),
			))).
		WithRow(dashboard.NewRowBuilder("HTTP API — load, errors and latency")).
		WithPanel(newTimeseries("Requests per second, by status code", 8, 8,
			"All HTTP requests (API, metrics, health) by status code.").
			Unit("reqps").
			Stacking(stacked()).FillOpacity(60).LineWidth(1).
			Targets(targets(
				ts(`sum by (code) (rate(tafweej_http_requests_total{`+sel+`}[$__rate_interval]))`, "{{code}}"),
			))).
		WithPanel(newTimeseries("Error share", 8, 8,
			"Share of requests answered 5xx (a fault of the service) and 4xx (refused input, unknown keys, rate limits).").
			Unit("percentunit").
			Min(0).
			Thresholds(steps(base("green"), at(0.01, "red"))).
			ThresholdsStyle(thresholdsStyle(common.GraphThresholdsStyleModeDashed)).
			Targets(targets(
				ts(`1 - sum(rate(tafweej_http_requests_total{`+sel+`, code!~"5.."}[$__rate_interval])) / sum(rate(tafweej_http_requests_total{`+sel+`}[$__rate_interval]))`, "5xx"),
				ts(`1 - sum(rate(tafweej_http_requests_total{`+sel+`, code!~"4.."}[$__rate_interval])) / sum(rate(tafweej_http_requests_total{`+sel+`}[$__rate_interval]))`, "4xx"),
			))).
		WithPanel(newTimeseries("Latency p99, by route", 8, 8,
			"99th percentile of the time to answer, by route pattern.").
			Unit("s").
			Targets(targets(
				ts(quantile("0.99", "tafweej_http_request_duration_seconds", sel, "route"), "{{route}}"),
			))).
		WithPanel(newTable("Requests in the time range, by route, method and code", 24, 8,
			"Which endpoints are used and how they answer.").
			Targets(targets(
				tableQ(`sum by (route, method, code) (increase(tafweej_http_requests_total{` + sel + `}[$__range]))`),
			)).
			Transformations(countsTable("requests"))).
		WithRow(dashboard.NewRowBuilder("Store — how long commits take, how big they are")).
		WithPanel(newTimeseries("Commit latency", 8, 8,
			"Time of one synced Badger commit (one per owner-loop turn). Every acknowledged booking and admission waits for one; "+
				"gate latency follows this line.").
			Unit("s").
			Targets(targets(
				ts(quantile("0.5", "tafweej_store_write_duration_seconds", sel, ""), "p50"),
				ts(quantile("0.99", "tafweej_store_write_duration_seconds", sel, ""), "p99"),
			))).
		WithPanel(newTimeseries("Commits per second and records per commit", 8, 8,
			"Group commit at work: under load the owner loop writes more records per commit rather than more commits.").
			Targets(targets(
				ts(`sum(rate(tafweej_store_write_duration_seconds_count{`+sel+`}[$__rate_interval]))`, "commits/s"),
				ts(`sum(rate(tafweej_store_batch_records_sum{`+sel+`}[$__rate_interval])) / sum(rate(tafweej_store_batch_records_count{`+sel+`}[$__rate_interval]))`, "records per commit"),
			))).
		WithPanel(newTimeseries("Write errors", 8, 8,
			"Failed commits; each failed turn was rolled back and its callers got an error.").
			DrawStyle(common.GraphDrawStyleBars).FillOpacity(80).
			Thresholds(steps(base("green"), at(1, "red"))).
			ThresholdsStyle(thresholdsStyle(common.GraphThresholdsStyleModeLineAndArea)).
			Targets(targets(
				ts(`sum(increase(tafweej_store_write_errors_total{`+sel+`}[$__rate_interval]))`, "errors"),
			))).
		WithPanel(newTimeseries("Owner-loop pipeline", 12, 7,
			"Turns applied and not yet durable (at most serve --pipeline: the next turn is applied while the last ones are written), "+
				"and the time to apply one turn's commands.").
			Targets(targets(
				ts(`max(tafweej_engine_turns_in_flight{`+sel+`})`, "turns in flight"),
				ts(`1000 * sum(rate(tafweej_engine_turn_apply_duration_seconds_sum{`+sel+`}[$__rate_interval])) / sum(rate(tafweej_engine_turn_apply_duration_seconds_count{`+sel+`}[$__rate_interval]))`, "ms to apply a turn"),
			))).
		WithPanel(newTimeseries("Replicated site: role, log and lease", 12, 7,
			"With --replicas (docs/cluster.md): 1 on the instance's role (owner, standby; single when run alone), the log sequence its store has applied, "+
				"the log append latency (p99, ms), the appends in flight, lease renewal failures and takeovers in the interval.").
			Targets(targets(
				ts(`max by (instance, role) (tafweej_cluster_role{`+sel+`}) == 1`, "{{instance}} {{role}}"),
				ts(`max by (instance) (tafweej_cluster_log_applied{`+sel+`})`, "{{instance}} log applied"),
				ts(`1000 * `+quantile("0.99", "tafweej_cluster_append_duration_seconds", sel, ""), "append p99 (ms)"),
				ts(`sum(tafweej_cluster_appends_in_flight{`+sel+`})`, "appends in flight"),
				ts(`sum(increase(tafweej_cluster_lease_renewal_failures_total{`+sel+`}[$__rate_interval]))`, "lease renewal failures"),
				ts(`sum(increase(tafweej_cluster_lease_renewals_total{`+sel+`}[$__rate_interval]))`, "lease renewals"),
				ts(`sum(increase(tafweej_cluster_takeovers_total{`+sel+`}[$__rate_interval]))`, "takeovers"),
			))).
		WithRow(dashboard.NewRowBuilder("Disk reserve — free space under --data, refusals")).
		WithPanel(newStat("Storage level", 4, 7,
			"ok; low: under the --min-free reserve, new bookings and requests are refused (507); "+
				"critical: under a quarter of it, scans and counter readings wait too.").
			Mappings(storageMap).
			Thresholds(steps(base("green"), at(1, "orange"), at(2, "red"))).
			Targets(targets(
				ts(`max(sum without (level) (tafweej_storage_level{`+sel+`, level="low"}) + 2 * sum without (level) (tafweej_storage_level{`+sel+`, level="critical"}))`, "level"),
			))).
		WithPanel(newTimeseries("Free space against the reserve", 10, 7,
			"Free space of each data directory's filesystem, the reserve (--min-free) and the reserve plus the room Badger needs "+
				"to flush its write-ahead log: under the dashed lines writes are refused.").
			Unit("bytes").
			Min(0).
			Targets(targets(
				ts(`min by (dir) (tafweej_storage_free_bytes{`+sel+`})`, "free {{dir}}"),
				ts(`max(tafweej_storage_reserve_bytes{`+sel+`})`, "reserve"),
				ts(`max(tafweej_storage_reserve_bytes{`+sel+`} + tafweej_storage_flush_debt_bytes{`+sel+`})`, "reserve + flush room"),
			)).
			OverrideByName("reserve", dashed("orange")).
			OverrideByName("reserve + flush room", dashed("red"))).
		WithPanel(newTimeseries("Commands refused for want of disk, per minute", 10, 7,
			"Bookings, requests, scans and counter readings refused or deferred because the disk is nearly full, by command.").
			DrawStyle(common.GraphDrawStyleBars).FillOpacity(80).
			Targets(targets(
				ts(perMinute("tafweej_storage_refused_total", sel, "command"), "{{command}}"),
			))).
		WithRow(dashboard.NewRowBuilder("NATS — connection, backlog and dead letters")).
		WithPanel(newStateTimeline("Connection", 8, 7,
			"Whether the service was connected to NATS (embedded or external).").
			Mappings(natsMap).
			Thresholds(steps(base("red"), at(1, "green"))).
			Targets(targets(
				ts(`min(tafweej_nats_connected{`+sel+`})`, "NATS"),
			))).
		WithPanel(newTimeseries("Counter messages waiting in JetStream", 8, 7,
			"The durable counter consumer's pending messages.").
			Targets(targets(
				ts(`max(tafweej_sensor_consumer_pending_messages{`+sel+`})`, "pending"),
			))).
		WithPanel(newTimeseries("Dead-lettered messages per minute, by kind", 8, 7,
			"Messages set aside on tafweej.<site>.deadletter.<kind>.").
			Targets(targets(
				ts(perMinute("tafweej_deadletter_messages_total", sel, "kind"), "{{kind}}"),
			))).
		WithRow(dashboard.NewRowBuilder("Webhooks — are operators told?")).
		WithPanel(newStat("Endpoints", 4, 8,
			"Webhook endpoints operators have registered (POST /v1/webhooks, tafweej webhooks add).").
			Thresholds(steps(base("blue"))).
			Targets(targets(
				ts(`sum(tafweej_webhook_endpoints{`+sel+`})`, "endpoints"),
			))).
		WithPanel(newStat("Deliveries waiting", 4, 8,
			"Deliveries in the durable outbox waiting for an attempt or being attempted. "+
				"A number that keeps growing means endpoints are down or slow: they get the events later, with backoff.").
			Thresholds(steps(base("green"), at(50, "orange"), at(500, "red"))).
			Targets(targets(
				ts(`sum(tafweej_webhook_outbox_pending{`+sel+`})`, "waiting"),
			))).
		WithPanel(newStat("Deliveries given up in the time range", 4, 8,
			"Deliveries that failed for the whole retry period; the operator can replay them (tafweej webhooks deliveries, then replay).").
			NoValue("0").
			Thresholds(steps(base("green"), at(1, "red"))).
			Targets(targets(
				ts(`sum(increase(tafweej_webhook_deliveries_total{`+sel+`, outcome="failed"}[$__range]))`, "failed"),
			))).
		WithPanel(newTimeseries("Delivery attempts per minute, by outcome", 12, 8,
			"Each attempt to deliver an event: delivered (the endpoint answered 2xx), retried (to be tried again with backoff) "+
				"or failed (the last attempt of a delivery given up).").
			Stacking(stacked()).FillOpacity(60).LineWidth(1).
			Targets(targets(
				ts(perMinute("tafweej_webhook_attempts_total", sel, "outcome"), "{{outcome}}"),
			)).
			OverrideByName("delivered", solid("green")).
			OverrideByName("retried", solid("orange")).
			OverrideByName("failed", solid("red"))).
		WithPanel(newTimeseries("Time from event to delivery", 12, 7,
			"From an event (a booking moved, a group admitted, ...) to its delivery, retries included: "+
				"a p99 in minutes or hours means endpoints that were down.").
			Unit("s").
			Targets(targets(
				ts(quantile("0.5", "tafweej_webhook_delivery_latency_seconds", sel, ""), "p50"),
				ts(quantile("0.99", "tafweej_webhook_delivery_latency_seconds", sel, ""), "p99"),
			))).
		WithPanel(newTimeseries("Outbox over time", 12, 7,
			"Deliveries waiting in the outbox, and the endpoints registered.").
			Targets(targets(
				ts(`sum(tafweej_webhook_outbox_pending{`+sel+`})`, "waiting"),
				ts(`sum(tafweej_webhook_endpoints{`+sel+`})`, "endpoints"),
			))).
		WithRow(dashboard.NewRowBuilder("Panics — did a fault stop a command?")).
		WithPanel(newStat("Panics recovered in the time range", 6, 7,
			"Panics the service recovered from: each command that hit one was answered with an internal error, "+
				"nothing of it was applied, and the stack is in the log. Any is a bug to report.").
			NoValue("0").
			Thresholds(steps(base("green"), at(1, "red"))).
			Targets(targets(
				ts(`sum(increase(tafweej_panics_total{`+sel+`}[$__range]))`, "panics"),
			))).
		WithPanel(newTimeseries("Panics recovered per minute, by where", 18, 7,
			"Where the panic was recovered: engine (owner loop), read, planner, publish, allot, http, nats_scan, nats_alert or nats_counter.").
			DrawStyle(common.GraphDrawStyleBars).FillOpacity(80).
			Thresholds(steps(base("green"), at(1, "red"))).
			ThresholdsStyle(thresholdsStyle(common.GraphThresholdsStyleModeLineAndArea)).
			Targets(targets(
				ts(perMinute("tafweej_panics_total", sel, "where"), "{{where}}"),
			))).
		WithRow(dashboard.NewRowBuilder("Go runtime and process").Collapsed(true).
			WithPanel(newTimeseries("CPU", 6, 7,
				"CPU seconds used per second (1 = one core busy).").
				Unit("short").
				Targets(targets(
					ts(`sum(rate(process_cpu_seconds_total{`+sel+`}[$__rate_interval]))`, "cores"),
				))).
			WithPanel(newTimeseries("Memory", 6, 7,
				"Resident memory of the process and the Go heap in use (Badger's caches are outside the Go heap in part).").
				Unit("bytes").
				Targets(targets(
					ts(`sum(process_resident_memory_bytes{`+sel+`})`, "resident"),
					ts(`sum(go_memstats_heap_inuse_bytes{`+sel+`})`, "Go heap in use"),
				))).
			WithPanel(newTimeseries("Goroutines and threads", 6, 7,
				"A count that keeps growing is a leak.").
				Targets(targets(
					ts(`sum(go_goroutines{`+sel+`})`, "goroutines"),
					ts(`sum(go_threads{`+sel+`})`, "threads"),
				))).
			WithPanel(newTimeseries("GC pauses and file descriptors", 6, 7,
				"Share of time spent in GC stop-the-world pauses, and open file descriptors as a share of the limit.").
				Unit("percentunit").
				Targets(targets(
					ts(`sum(rate(go_gc_duration_seconds_sum{`+sel+`}[$__rate_interval]))`, "GC pauses"),
					ts(`max(process_open_fds{`+sel+`} / process_max_fds{`+sel+`})`, "open fds / limit"),
				))))
}
