package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// query is one PromQL expression found in a dashboard or an alert rule.
type query struct {
	where      string // "tafweej-overview.json: panel 11 \"Live occupancy, % of capacity\" target A"
	expr       string // as written, with Grafana variables
	needData   bool   // panels, variables and annotations must return data in the end-to-end test
	annotation bool   // an annotation query (shown for every zone in the end-to-end test)
}

// dashboardFile is a dashboard JSON file as read from disk.
type dashboardFile struct {
	name string
	raw  []byte
	doc  map[string]any
}

// readDashboards reads every *.json file of the package directory.
func readDashboards(t *testing.T) []dashboardFile {
	t.Helper()
	paths, err := filepath.Glob("*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no dashboards (*.json) in dashboards/")
	}
	sort.Strings(paths)
	var out []dashboardFile
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: not valid JSON: %v", p, err)
		}
		out = append(out, dashboardFile{name: p, raw: raw, doc: doc})
	}
	return out
}

// panelsOf lists every panel of a dashboard, rows' nested panels included,
// in order.
func panelsOf(doc map[string]any) []map[string]any {
	var out []map[string]any
	for _, p := range asSlice(doc["panels"]) {
		pm, _ := p.(map[string]any)
		out = append(out, pm)
		for _, q := range asSlice(pm["panels"]) {
			qm, _ := q.(map[string]any)
			out = append(out, qm)
		}
	}
	return out
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func str(v any) string { s, _ := v.(string); return s }

// labelValuesRe reads a Grafana label_values(selector, label) query.
var labelValuesRe = regexp.MustCompile(`^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

// dashboardQueries lists every PromQL expression of a dashboard: panel
// targets, template variable queries (label_values(sel, l) becomes
// count by (l) (sel)) and annotation queries.
func dashboardQueries(t *testing.T, d dashboardFile) []query {
	t.Helper()
	var out []query
	for _, p := range panelsOf(d.doc) {
		for _, tg := range asSlice(p["targets"]) {
			tm, _ := tg.(map[string]any)
			out = append(out, query{
				where:    fmt.Sprintf("%s: panel %v %q target %s", d.name, p["id"], str(p["title"]), str(tm["refId"])),
				expr:     str(tm["expr"]),
				needData: true,
			})
		}
	}
	templ, _ := d.doc["templating"].(map[string]any)
	for _, v := range asSlice(templ["list"]) {
		vm, _ := v.(map[string]any)
		if str(vm["type"]) != "query" {
			continue
		}
		q := str(vm["query"])
		if qm, ok := vm["query"].(map[string]any); ok {
			q = str(qm["query"])
		}
		m := labelValuesRe.FindStringSubmatch(q)
		if m == nil {
			t.Errorf("%s: variable %q: query %q is not label_values(selector, label)", d.name, str(vm["name"]), q)
			continue
		}
		out = append(out, query{
			where:    fmt.Sprintf("%s: variable %q", d.name, str(vm["name"])),
			expr:     fmt.Sprintf("count by (%s) (%s)", m[2], m[1]),
			needData: true,
		})
	}
	annos, _ := d.doc["annotations"].(map[string]any)
	for _, a := range asSlice(annos["list"]) {
		am, _ := a.(map[string]any)
		if e := str(am["expr"]); e != "" {
			out = append(out, query{where: fmt.Sprintf("%s: annotation %q", d.name, str(am["name"])), expr: e, needData: true, annotation: true})
		}
	}
	return out
}

// alertRules is configs/alerts.yml.
type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func readAlerts(t *testing.T) alertRules {
	t.Helper()
	raw, err := os.ReadFile("../configs/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var r alertRules
	if err := yaml.Unmarshal(raw, &r); err != nil {
		t.Fatalf("configs/alerts.yml: %v", err)
	}
	return r
}

// alertQueries lists the alert rules' expressions. They need not return
// data (an alert that is not firing returns nothing), only parse.
func alertQueries(t *testing.T) []query {
	var out []query
	for _, g := range readAlerts(t).Groups {
		for _, r := range g.Rules {
			out = append(out, query{where: fmt.Sprintf("configs/alerts.yml: group %q alert %q", g.Name, r.Alert+r.Record), expr: r.Expr})
		}
	}
	return out
}

// builtinVars are Grafana's own variables.
var builtinVars = []string{"__rate_interval", "__interval", "__range", "__range_s", "__interval_ms"}

// varRe matches a Grafana variable reference: $name, ${name}, ${name:format}
// or [[name]].
var varRe = regexp.MustCompile(`\$\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-z]+)?\}|\[\[([a-zA-Z_][a-zA-Z0-9_]*)\]\]|\$([a-zA-Z_][a-zA-Z0-9_]*)`)

// expand replaces Grafana variables with values, and reports the ones it
// has no value for.
func expand(expr string, vals map[string]string) (string, []string) {
	var missing []string
	out := varRe.ReplaceAllStringFunc(expr, func(m string) string {
		sm := varRe.FindStringSubmatch(m)
		name := sm[1] + sm[2] + sm[3]
		if v, ok := vals[name]; ok {
			return v
		}
		missing = append(missing, name)
		return m
	})
	return out, missing
}

// metricNameRe finds the metric names of the service, the Go and process
// collectors and Prometheus's up in an expression.
var metricNameRe = regexp.MustCompile(`\b(?:tafweej|go|process)_[a-z0-9_]+\b|\bup\b`)

// metricNames lists the metric names an expression references (label
// values such as "go_build_info" in a regex are included too).
func metricNames(expr string) []string {
	// Drop quoted strings: label values are not metric names, except in
	// __name__ matchers, which are split on '|'.
	var names []string
	for _, m := range regexp.MustCompile(`__name__=~?"([^"]*)"`).FindAllStringSubmatch(expr, -1) {
		names = append(names, strings.Split(m[1], "|")...)
	}
	bare := regexp.MustCompile(`"[^"]*"`).ReplaceAllString(expr, `""`)
	// by (...) / on (...) lists are label names.
	bare = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`).ReplaceAllString(bare, "")
	names = append(names, metricNameRe.FindAllString(bare, -1)...)
	slices.Sort(names)
	return slices.Compact(names)
}
