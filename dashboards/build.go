package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// File is one rendered dashboard.
type File struct {
	Name string // file name in dashboards/, e.g. "tafweej-overview.json"
	JSON []byte
}

// All renders every dashboard, in a stable order. The output is
// deterministic: the same definitions give the same bytes.
func All() ([]File, error) {
	var out []File
	for _, d := range []dashboard{overview(), gates(), sensors(), platform()} {
		b, err := d.render()
		if err != nil {
			return nil, fmt.Errorf("dashboard %q: %w", d.uid, err)
		}
		out = append(out, File{Name: d.uid + ".json", JSON: b})
	}
	return out, nil
}

// The model below covers the part of Grafana's dashboard JSON (schema
// version 39) that these dashboards use.

// schemaVersion is Grafana's dashboard schema version (Grafana 10.4 / 11).
const schemaVersion = 39

// ds is the panels' data source: always the ${datasource} variable.
var ds = map[string]any{"type": "prometheus", "uid": "${datasource}"}

// Common label matchers. Every query filters on job and site, so one
// Grafana can show several Tafweej services (or sites) side by side.
const (
	sel     = `job=~"$job", site=~"$site"`
	selZone = sel + `, zone=~"$zone"`
	selGate = sel + `, gate=~"$gate"`
)

type dashboard struct {
	uid, title, description string
	vars                    []variable // after the data source
	annotations             []annotation
	rows                    []row
	from                    string // time range start, e.g. "now-6h"
}

type row struct {
	title     string
	collapsed bool
	panels    []panel
}

type panel struct {
	kind        string // timeseries, stat, bargauge, state-timeline, barchart, table, heatmap
	title, desc string
	w, h        int
	targets     []target
	unit        string
	min, max    *float64
	steps       []step // thresholds; the first is the base (no value)
	mappings    []mapping
	noValue     string // shown when a query returns nothing (e.g. "0")
	repeat      string // variable to repeat the panel over
	stack       bool   // timeseries: stack the series
	bars        bool   // timeseries: draw bars
	thresholds  string // timeseries: how to draw thresholds ("line", "dashed", "area"); empty: not drawn
	overrides   []override
	transforms  []map[string]any
	options     map[string]any // merged over the kind's default options
}

type target struct {
	expr, legend string
	instant      bool   // one value at the end of the range
	format       string // "time_series" (default), "table" or "heatmap"
}

type step struct {
	color string
	value *float64 // nil for the base step
}

type mapping struct {
	value, text, color string
}

// override sets properties on the series whose display name matches.
type override struct {
	name  string // display name (legend)
	props map[string]any
}

type variable struct {
	name, label, query string
	multi              bool // several values, with "All" (.*)
	hide               bool
}

type annotation struct {
	name, expr, color, title, text string
}

func f(v float64) *float64 { return &v }

func base(color string) step             { return step{color: color} }
func at(v float64, color string) step    { return step{color: color, value: f(v)} }
func ts(expr, legend string) target      { return target{expr: expr, legend: legend} }
func instant(expr, legend string) target { return target{expr: expr, legend: legend, instant: true} }
func table(expr string) target           { return target{expr: expr, instant: true, format: "table"} }
func dashed(color string) map[string]any {
	return map[string]any{"color": map[string]any{"mode": "fixed", "fixedColor": color},
		"custom.lineStyle": map[string]any{"fill": "dash", "dash": []int{10, 10}}, "custom.fillOpacity": 0}
}
func solid(color string) map[string]any {
	return map[string]any{"color": map[string]any{"mode": "fixed", "fixedColor": color}}
}

// render writes the dashboard as indented JSON.
func (d dashboard) render() ([]byte, error) {
	ids := 0
	next := func() int { ids++; return ids }
	var panels []any
	y := 0
	for _, r := range d.rows {
		rowPanel := map[string]any{
			"type": "row", "id": next(), "title": r.title, "collapsed": r.collapsed,
			"gridPos": grid(0, y, 24, 1), "panels": []any{},
		}
		y++
		var inner []any
		x, rowH := 0, 0
		for _, p := range r.panels {
			if p.w <= 0 || p.w > 24 || p.h <= 0 {
				return nil, fmt.Errorf("panel %q: width %d must be 1 to 24 and height %d above 0", p.title, p.w, p.h)
			}
			if x+p.w > 24 {
				x, y, rowH = 0, y+rowH, 0
			}
			inner = append(inner, p.render(next(), grid(x, y, p.w, p.h)))
			x += p.w
			rowH = max(rowH, p.h)
		}
		y += rowH
		if r.collapsed {
			rowPanel["panels"] = inner
			y -= rowH // a collapsed row takes one line; its panels keep their places for when it opens
			panels = append(panels, rowPanel)
			continue
		}
		panels = append(panels, rowPanel)
		panels = append(panels, inner...)
	}

	vars := []any{map[string]any{
		"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
		"current": map[string]any{}, "hide": 0, "includeAll": false, "multi": false, "options": []any{},
		"refresh": 1, "regex": "", "skipUrlSync": false,
	}}
	for _, v := range d.vars {
		vars = append(vars, v.render())
	}
	annos := []any{map[string]any{
		"builtIn": 1, "datasource": map[string]any{"type": "grafana", "uid": "-- Grafana --"},
		"enable": true, "hide": true, "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard",
	}}
	for _, a := range d.annotations {
		annos = append(annos, map[string]any{
			"datasource": ds, "enable": true, "expr": a.expr, "iconColor": a.color, "name": a.name,
			"step": "1m", "titleFormat": a.title, "textFormat": a.text, "tagKeys": "zone", "useValueForTime": false,
		})
	}
	from := d.from
	if from == "" {
		from = "now-6h"
	}
	out := map[string]any{
		"uid": d.uid, "title": d.title, "description": d.description,
		"tags": []string{"tafweej"}, "timezone": "browser", "editable": true, "graphTooltip": 1,
		"schemaVersion": schemaVersion, "version": 1, "refresh": "30s", "liveNow": false, "fiscalYearStartMonth": 0,
		"time":        map[string]any{"from": from, "to": "now"},
		"timepicker":  map[string]any{},
		"templating":  map[string]any{"list": vars},
		"annotations": map[string]any{"list": annos},
		"links": []any{map[string]any{
			"title": "Tafweej dashboards", "type": "dashboards", "tags": []string{"tafweej"},
			"asDropdown": true, "includeVars": true, "keepTime": true, "icon": "external link", "targetBlank": false,
		}},
		"panels": panels,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func grid(x, y, w, h int) map[string]any { return map[string]any{"x": x, "y": y, "w": w, "h": h} }

func (v variable) render() map[string]any {
	m := map[string]any{
		"name": v.name, "label": v.label, "type": "query", "datasource": ds,
		"query": v.query, "definition": v.query, "refresh": 2, "regex": "", "sort": 1,
		"hide": 0, "multi": v.multi, "includeAll": v.multi, "options": []any{}, "skipUrlSync": false,
		"current": map[string]any{},
	}
	if v.multi {
		m["allValue"] = ".*"
		m["current"] = map[string]any{"selected": true, "text": []string{"All"}, "value": []string{"$__all"}}
	}
	if v.hide {
		m["hide"] = 2
	}
	return m
}

func (p panel) render(id int, pos map[string]any) map[string]any {
	var targets []any
	for i, t := range p.targets {
		format := t.format
		if format == "" {
			format = "time_series"
		}
		targets = append(targets, map[string]any{
			"refId": string(rune('A' + i)), "datasource": ds, "editorMode": "code",
			"expr": t.expr, "legendFormat": t.legend, "range": !t.instant, "instant": t.instant, "format": format,
		})
	}
	defaults := map[string]any{"unit": orDefault(p.unit, "short")}
	if p.min != nil {
		defaults["min"] = *p.min
	}
	if p.max != nil {
		defaults["max"] = *p.max
	}
	if p.noValue != "" {
		defaults["noValue"] = p.noValue
	}
	steps := []any{map[string]any{"color": "green", "value": nil}}
	if len(p.steps) > 0 {
		steps = steps[:0]
		for _, s := range p.steps {
			var v any
			if s.value != nil {
				v = *s.value
			}
			steps = append(steps, map[string]any{"color": s.color, "value": v})
		}
	}
	defaults["thresholds"] = map[string]any{"mode": "absolute", "steps": steps}
	mappings := []any{}
	if len(p.mappings) > 0 {
		opts := map[string]any{}
		for i, m := range p.mappings {
			opts[m.value] = map[string]any{"text": m.text, "color": m.color, "index": i}
		}
		mappings = append(mappings, map[string]any{"type": "value", "options": opts})
	}
	defaults["mappings"] = mappings
	color := map[string]any{"mode": "palette-classic"}
	if p.kind == "stat" || p.kind == "bargauge" || p.kind == "state-timeline" || p.kind == "table" {
		color = map[string]any{"mode": "thresholds"}
	}
	defaults["color"] = color
	if custom := p.custom(); custom != nil {
		defaults["custom"] = custom
	}
	overrides := []any{}
	for _, o := range p.overrides {
		var props []any
		for _, k := range sortedKeys(o.props) {
			props = append(props, map[string]any{"id": k, "value": o.props[k]})
		}
		overrides = append(overrides, map[string]any{
			"matcher": map[string]any{"id": "byName", "options": o.name}, "properties": props,
		})
	}
	m := map[string]any{
		"id": id, "type": p.kind, "title": p.title, "description": p.desc, "gridPos": pos, "datasource": ds,
		"targets":     targets,
		"fieldConfig": map[string]any{"defaults": defaults, "overrides": overrides},
		"options":     merge(p.defaultOptions(), p.options),
	}
	if p.repeat != "" {
		m["repeat"] = p.repeat
		m["repeatDirection"] = "h"
		m["maxPerRow"] = 3
	}
	if len(p.transforms) > 0 {
		m["transformations"] = p.transforms
	}
	return m
}

// custom is the field config's custom part of the panel's kind.
func (p panel) custom() map[string]any {
	switch p.kind {
	case "timeseries":
		c := map[string]any{
			"drawStyle": "line", "lineInterpolation": "linear", "lineWidth": 2, "fillOpacity": 10,
			"gradientMode": "none", "showPoints": "never", "pointSize": 4, "spanNulls": false,
			"axisPlacement": "auto", "axisLabel": "", "axisSoftMin": 0, "barAlignment": 0,
			"stacking":          map[string]any{"mode": "none", "group": "A"},
			"thresholdsStyle":   map[string]any{"mode": "off"},
			"scaleDistribution": map[string]any{"type": "linear"},
			"hideFrom":          map[string]any{"legend": false, "tooltip": false, "viz": false},
		}
		if p.stack {
			c["stacking"] = map[string]any{"mode": "normal", "group": "A"}
			c["fillOpacity"] = 60
			c["lineWidth"] = 1
		}
		if p.bars {
			c["drawStyle"] = "bars"
			c["fillOpacity"] = 80
		}
		switch p.thresholds {
		case "line":
			c["thresholdsStyle"] = map[string]any{"mode": "line"}
		case "dashed":
			c["thresholdsStyle"] = map[string]any{"mode": "dashed"}
		case "area":
			c["thresholdsStyle"] = map[string]any{"mode": "line+area"}
		}
		return c
	case "state-timeline":
		return map[string]any{"fillOpacity": 80, "lineWidth": 0, "hideFrom": map[string]any{"legend": false, "tooltip": false, "viz": false}}
	case "barchart":
		return map[string]any{"fillOpacity": 80, "lineWidth": 1, "gradientMode": "none", "axisPlacement": "auto",
			"axisSoftMin": 0, "scaleDistribution": map[string]any{"type": "linear"},
			"hideFrom": map[string]any{"legend": false, "tooltip": false, "viz": false}}
	case "table":
		return map[string]any{"align": "auto", "cellOptions": map[string]any{"type": "color-background", "mode": "basic"},
			"inspect": false, "filterable": false}
	case "heatmap":
		return map[string]any{"hideFrom": map[string]any{"legend": false, "tooltip": false, "viz": false},
			"scaleDistribution": map[string]any{"type": "linear"}}
	}
	return nil
}

func (p panel) defaultOptions() map[string]any {
	legend := map[string]any{"displayMode": "list", "placement": "bottom", "showLegend": true, "calcs": []string{}}
	tooltip := map[string]any{"mode": "multi", "sort": "desc"}
	reduce := map[string]any{"calcs": []string{"lastNotNull"}, "fields": "", "values": false}
	switch p.kind {
	case "timeseries":
		return map[string]any{"legend": legend, "tooltip": tooltip}
	case "stat":
		return map[string]any{"reduceOptions": reduce, "colorMode": "background", "graphMode": "none",
			"justifyMode": "auto", "orientation": "auto", "textMode": "auto", "wideLayout": true, "showPercentChange": false}
	case "bargauge":
		return map[string]any{"reduceOptions": reduce, "orientation": "horizontal", "displayMode": "gradient",
			"valueMode": "color", "namePlacement": "left", "showUnfilled": true, "sizing": "auto", "minVizHeight": 16, "minVizWidth": 8, "maxVizHeight": 300}
	case "state-timeline":
		return map[string]any{"mergeValues": true, "showValue": "auto", "alignValue": "left", "rowHeight": 0.9,
			"legend": legend, "tooltip": map[string]any{"mode": "single", "sort": "none"}}
	case "barchart":
		return map[string]any{"orientation": "vertical", "stacking": "none", "showValue": "auto", "groupWidth": 0.7,
			"barWidth": 0.97, "barRadius": 0, "xTickLabelRotation": -45, "xTickLabelSpacing": 0, "fullHighlight": false,
			"legend": legend, "tooltip": tooltip}
	case "table":
		return map[string]any{"showHeader": true, "cellHeight": "sm",
			"footer": map[string]any{"show": false, "reducer": []string{"sum"}, "fields": "", "countRows": false}}
	case "heatmap":
		return map[string]any{"calculate": false, "cellGap": 1, "yAxis": map[string]any{"axisPlacement": "left", "unit": p.unit},
			"color":     map[string]any{"mode": "scheme", "scheme": "Oranges", "scale": "exponential", "exponent": 0.5, "steps": 64, "fill": "dark-orange", "reverse": false},
			"rowsFrame": map[string]any{"layout": "auto"}, "cellValues": map[string]any{"unit": "short"},
			"tooltip": map[string]any{"mode": "single", "yHistogram": false, "showColorScale": false},
			"legend":  map[string]any{"show": true}, "exemplars": map[string]any{"color": "rgba(255,0,255,0.7)"},
			"filterValues": map[string]any{"le": 1e-9}}
	}
	return map[string]any{}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// merge returns a copy of a with b's keys set over it.
func merge(a, b map[string]any) map[string]any {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }
