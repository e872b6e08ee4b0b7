package dashboards

// platform is the on-call engineer's dashboard: the service, its HTTP API,
// the store, NATS and the Go runtime.
func platform() dashboard {
	return dashboard{
		uid:         "tafweej-platform",
		title:       "Tafweej — platform",
		description: "The service process, the HTTP API, the Badger store, NATS and the Go runtime.",
		vars:        []variable{varJob, varSite},
		rows: []row{
			{title: "Service — is it up, which version?", panels: []panel{
				{kind: "stat", title: "Scrape", w: 4, h: 4, mappings: upMap, steps: []step{base("red"), at(1, "green")},
					desc:    "Whether Prometheus can scrape /metrics.",
					targets: []target{ts(`min(up{`+sel+`})`, "up")}},
				{kind: "stat", title: "NATS", w: 4, h: 4, mappings: natsMap, steps: []step{base("red"), at(1, "green")},
					desc:    "Whether the service is connected to NATS.",
					targets: []target{ts(`min(tafweej_nats_connected{`+sel+`})`, "NATS")}},
				{kind: "stat", title: "Version", w: 6, h: 4, steps: []step{base("blue")},
					desc:    "The main module's version of the running binary (go_build_info).",
					options: map[string]any{"textMode": "name", "colorMode": "none"},
					targets: []target{ts(`max by (version) (go_build_info{`+sel+`})`, "{{version}}")}},
				{kind: "stat", title: "Uptime", w: 5, h: 4, unit: "s", steps: []step{base("orange"), at(600, "green")},
					desc:    "Time since the process started; orange for the first 10 minutes after a restart.",
					targets: []target{ts(`time() - max(process_start_time_seconds{`+sel+`})`, "uptime")}},
				{kind: "stat", title: "Store write errors in the time range", w: 5, h: 4, noValue: "0",
					steps:   []step{base("green"), at(1, "red")},
					desc:    "Failed store commits during the time range; any is an alert.",
					targets: []target{ts(`sum(increase(tafweej_store_write_errors_total{`+sel+`}[$__range]))`, "errors")}},
			}},
			{title: "HTTP API — load, errors and latency", panels: []panel{
				{kind: "timeseries", title: "Requests per second, by status code", w: 8, h: 8, unit: "reqps", stack: true,
					desc:    "All HTTP requests (API, metrics, health) by status code.",
					targets: []target{ts(`sum by (code) (rate(tafweej_http_requests_total{`+sel+`}[$__rate_interval]))`, "{{code}}")}},
				{kind: "timeseries", title: "Error share", w: 8, h: 8, unit: "percentunit", min: f(0),
					desc:  "Share of requests answered 5xx (a fault of the service) and 4xx (refused input, unknown keys, rate limits).",
					steps: []step{base("green"), at(0.01, "red")}, thresholds: "dashed",
					targets: []target{
						ts(`1 - sum(rate(tafweej_http_requests_total{`+sel+`, code!~"5.."}[$__rate_interval])) / sum(rate(tafweej_http_requests_total{`+sel+`}[$__rate_interval]))`, "5xx"),
						ts(`1 - sum(rate(tafweej_http_requests_total{`+sel+`, code!~"4.."}[$__rate_interval])) / sum(rate(tafweej_http_requests_total{`+sel+`}[$__rate_interval]))`, "4xx"),
					}},
				{kind: "timeseries", title: "Latency p99, by route", w: 8, h: 8, unit: "s",
					desc:    "99th percentile of the time to answer, by route pattern.",
					targets: []target{ts(quantile("0.99", "tafweej_http_request_duration_seconds", sel, "route"), "{{route}}")}},
				{kind: "table", title: "Requests in the time range, by route, method and code", w: 24, h: 8,
					desc:    "Which endpoints are used and how they answer.",
					steps:   []step{base("transparent")},
					targets: []target{table(`sum by (route, method, code) (increase(tafweej_http_requests_total{` + sel + `}[$__range]))`)},
					transforms: []map[string]any{
						{"id": "organize", "options": map[string]any{"excludeByName": map[string]any{"Time": true},
							"renameByName": map[string]any{"Value": "requests"}}},
						{"id": "sortBy", "options": map[string]any{"fields": map[string]any{}, "sort": []any{map[string]any{"field": "requests", "desc": true}}}},
					}},
			}},
			{title: "Store — how long commits take, how big they are", panels: []panel{
				{kind: "timeseries", title: "Commit latency", w: 8, h: 8, unit: "s",
					desc: "Time of one synced Badger commit (one per owner-loop turn). Every acknowledged booking and admission waits for one; " +
						"gate latency follows this line.",
					targets: []target{
						ts(quantile("0.5", "tafweej_store_write_duration_seconds", sel, ""), "p50"),
						ts(quantile("0.99", "tafweej_store_write_duration_seconds", sel, ""), "p99"),
					}},
				{kind: "timeseries", title: "Commits per second and records per commit", w: 8, h: 8,
					desc: "Group commit at work: under load the owner loop writes more records per commit rather than more commits.",
					targets: []target{
						ts(`sum(rate(tafweej_store_write_duration_seconds_count{`+sel+`}[$__rate_interval]))`, "commits/s"),
						ts(`sum(rate(tafweej_store_batch_records_sum{`+sel+`}[$__rate_interval])) / sum(rate(tafweej_store_batch_records_count{`+sel+`}[$__rate_interval]))`, "records per commit"),
					}},
				{kind: "timeseries", title: "Write errors", w: 8, h: 8, bars: true,
					desc:  "Failed commits; each failed turn was rolled back and its callers got an error.",
					steps: []step{base("green"), at(1, "red")}, thresholds: "area",
					targets: []target{ts(`sum(increase(tafweej_store_write_errors_total{`+sel+`}[$__rate_interval]))`, "errors")}},
			}},
			{title: "Disk reserve — free space under --data, refusals", panels: []panel{
				{kind: "stat", title: "Storage level", w: 4, h: 7, mappings: storageMap,
					steps: []step{base("green"), at(1, "orange"), at(2, "red")},
					desc: "ok; low: under the --min-free reserve, new bookings and requests are refused (507); " +
						"critical: under a quarter of it, scans and counter readings wait too.",
					targets: []target{ts(`max(sum without (level) (tafweej_storage_level{`+sel+`, level="low"}) + 2 * sum without (level) (tafweej_storage_level{`+sel+`, level="critical"}))`, "level")}},
				{kind: "timeseries", title: "Free space against the reserve", w: 10, h: 7, unit: "bytes", min: f(0),
					desc: "Free space of each data directory's filesystem, the reserve (--min-free) and the reserve plus the room Badger needs " +
						"to flush its write-ahead log: under the dashed lines writes are refused.",
					targets: []target{
						ts(`min by (dir) (tafweej_storage_free_bytes{`+sel+`})`, "free {{dir}}"),
						ts(`max(tafweej_storage_reserve_bytes{`+sel+`})`, "reserve"),
						ts(`max(tafweej_storage_reserve_bytes{`+sel+`} + tafweej_storage_flush_debt_bytes{`+sel+`})`, "reserve + flush room"),
					},
					overrides: []override{{name: "reserve", props: dashed("orange")}, {name: "reserve + flush room", props: dashed("red")}}},
				{kind: "timeseries", title: "Commands refused for want of disk, per minute", w: 10, h: 7, bars: true,
					desc:    "Bookings, requests, scans and counter readings refused or deferred because the disk is nearly full, by command.",
					targets: []target{ts(perMinute("tafweej_storage_refused_total", sel, "command"), "{{command}}")}},
			}},
			{title: "NATS — connection, backlog and dead letters", panels: []panel{
				{kind: "state-timeline", title: "Connection", w: 8, h: 7, mappings: natsMap, steps: []step{base("red"), at(1, "green")},
					desc:    "Whether the service was connected to NATS (embedded or external).",
					targets: []target{ts(`min(tafweej_nats_connected{`+sel+`})`, "NATS")}},
				{kind: "timeseries", title: "Counter messages waiting in JetStream", w: 8, h: 7,
					desc:    "The durable counter consumer's pending messages.",
					targets: []target{ts(`max(tafweej_sensor_consumer_pending_messages{`+sel+`})`, "pending")}},
				{kind: "timeseries", title: "Dead-lettered messages per minute, by kind", w: 8, h: 7,
					desc:    "Messages set aside on tafweej.<site>.deadletter.<kind>.",
					targets: []target{ts(perMinute("tafweej_deadletter_messages_total", sel, "kind"), "{{kind}}")}},
			}},
			{title: "Go runtime and process", collapsed: true, panels: []panel{
				{kind: "timeseries", title: "CPU", w: 6, h: 7, unit: "short",
					desc:    "CPU seconds used per second (1 = one core busy).",
					targets: []target{ts(`sum(rate(process_cpu_seconds_total{`+sel+`}[$__rate_interval]))`, "cores")}},
				{kind: "timeseries", title: "Memory", w: 6, h: 7, unit: "bytes",
					desc: "Resident memory of the process and the Go heap in use (Badger's caches are outside the Go heap in part).",
					targets: []target{
						ts(`sum(process_resident_memory_bytes{`+sel+`})`, "resident"),
						ts(`sum(go_memstats_heap_inuse_bytes{`+sel+`})`, "Go heap in use"),
					}},
				{kind: "timeseries", title: "Goroutines and threads", w: 6, h: 7,
					desc: "A count that keeps growing is a leak.",
					targets: []target{
						ts(`sum(go_goroutines{`+sel+`})`, "goroutines"),
						ts(`sum(go_threads{`+sel+`})`, "threads"),
					}},
				{kind: "timeseries", title: "GC pauses and file descriptors", w: 6, h: 7, unit: "percentunit",
					desc: "Share of time spent in GC stop-the-world pauses, and open file descriptors as a share of the limit.",
					targets: []target{
						ts(`sum(rate(go_gc_duration_seconds_sum{`+sel+`}[$__rate_interval]))`, "GC pauses"),
						ts(`max(process_open_fds{`+sel+`} / process_max_fds{`+sel+`})`, "open fds / limit"),
					}},
			}},
		},
	}
}
