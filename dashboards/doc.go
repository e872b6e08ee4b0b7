// Package dashboards holds the Grafana dashboards of Tafweej and the code
// that writes them.
//
// The JSON files beside this file are generated with Grafana's
// dashboards-as-code SDK (github.com/grafana/grafana-foundation-sdk/go):
// edit the definitions in overview.go, gates.go, sensors.go and
// platform.go, then run
//
//	go run ./dashboards/gen
//
// from the repository root. The tests check that the files are up to date,
// that every metric they reference is one the service exports, and (with a
// real Prometheus on PATH) that every panel's query returns data while the
// service runs a simulated day.
package dashboards
