package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/barchart"
	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// The dashboards are built with Grafana's dashboards-as-code SDK
// (github.com/grafana/grafana-foundation-sdk/go), typed against Grafana's
// dashboard schema. The constructors below give each panel kind the house
// defaults (data source variable, colours, legend, tooltip); the
// definitions in overview.go, gates.go, sensors.go and platform.go chain
// the SDK's own builder methods on them.

// File is one rendered dashboard.
type File struct {
	Name string // file name in dashboards/, e.g. "tafweej-overview.json"
	JSON []byte
}

// All renders every dashboard, in a stable order. The output is
// deterministic: the same definitions give the same bytes.
func All() ([]File, error) {
	var out []File
	for _, d := range []*dashboard.DashboardBuilder{overview(), gates(), sensors(), platform()} {
		b, err := render(d)
		if err != nil {
			return nil, err
		}
		var head struct{ UID string }
		if err := json.Unmarshal(b, &head); err != nil || head.UID == "" {
			return nil, fmt.Errorf("a dashboard has no uid: %v", err)
		}
		out = append(out, File{Name: head.UID + ".json", JSON: b})
	}
	return out, nil
}

// schemaVersion is Grafana's dashboard schema version (Grafana 10.4 / 11).
const schemaVersion = 39

// ds is the panels' data source: always the ${datasource} variable.
var ds = common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}

// Common label matchers. Every query filters on job and site, so one
// Grafana can show several Tafweej services (or sites) side by side.
const (
	sel     = `job=~"$job", site=~"$site"`
	selZone = sel + `, zone=~"$zone"`
	selGate = sel + `, gate=~"$gate"`
)

// newDashboard starts a dashboard with what every Tafweej dashboard has:
// the tag, the links menu, the refresh, the built-in annotations and the
// data source variable (the others follow it).
func newDashboard(uid, title, description, from string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags([]string{"tafweej"}).
		Timezone("browser").
		Editable().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Time(from, "now").
		Refresh("30s").
		Version(1).
		LiveNow(false).
		FiscalYearStartMonth(0).
		Link(dashboard.NewDashboardLinkBuilder("Tafweej dashboards").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{"tafweej"}).
			AsDropdown(true).IncludeVars(true).KeepTime(true).
			Icon("external link").TargetBlank(false)).
		Annotation(dashboard.NewAnnotationQueryBuilder().
			Name("Annotations & Alerts").
			BuiltIn(1).
			Datasource(common.DataSourceRef{Type: cog.ToPtr("grafana"), Uid: cog.ToPtr("-- Grafana --")}).
			Enable(true).Hide(true).
			IconColor("rgba(0, 211, 255, 1)").
			Type("dashboard")).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").
			Label("Data source").
			Type("prometheus").
			Hide(dashboard.VariableHideDontHide).
			Multi(false).IncludeAll(false).Regex(""))
}

// render builds the dashboard, numbers its panels (rows included, in
// order) and writes it as indented JSON.
func render(d *dashboard.DashboardBuilder) ([]byte, error) {
	built, err := d.Build()
	if err != nil {
		return nil, err
	}
	built.SchemaVersion = schemaVersion
	// The SDK's schema defaults put the links menu and the annotation
	// toggles in Grafana 12's controls menu; keep them on the dashboard,
	// where Grafana 10.4 and 11 show them.
	for i := range built.Links {
		built.Links[i].Placement = nil
	}
	for i := range built.Annotations.List {
		built.Annotations.List[i].Placement = nil
	}
	// The SDK's datasource variable has no refresh setting; Grafana
	// refreshes the list of data sources when the dashboard loads.
	for i, v := range built.Templating.List {
		if v.Type == dashboard.VariableTypeDatasource {
			built.Templating.List[i].Refresh = cog.ToPtr(dashboard.VariableRefreshOnDashboardLoad)
		}
	}
	id := uint32(0)
	next := func() *uint32 { id++; return cog.ToPtr(id) }
	for _, p := range built.Panels {
		switch {
		case p.Panel != nil:
			if err := checkGrid(p.Panel); err != nil {
				return nil, fmt.Errorf("dashboard %q: %w", deref(built.Uid), err)
			}
			p.Panel.Id = next()
		case p.RowPanel != nil:
			p.RowPanel.Id = *next()
			for i := range p.RowPanel.Panels {
				if err := checkGrid(&p.RowPanel.Panels[i]); err != nil {
					return nil, fmt.Errorf("dashboard %q: %w", deref(built.Uid), err)
				}
				p.RowPanel.Panels[i].Id = next()
			}
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(built); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func checkGrid(p *dashboard.Panel) error {
	if g := p.GridPos; g == nil || g.W == 0 || g.W > 24 || g.H == 0 {
		return fmt.Errorf("panel %q: width must be 1 to 24 and height above 0, got %+v", deref(p.Title), g)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Template variables.

// queryVar is a label_values variable; multi ones offer "All" (.*).
func queryVar(name, label, query string, multi bool) *dashboard.QueryVariableBuilder {
	v := dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Datasource(ds).
		Query(dashboard.StringOrMap{String: cog.ToPtr(query)}).
		Definition(query).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Regex("").
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Hide(dashboard.VariableHideDontHide).
		Multi(multi).
		IncludeAll(multi)
	if multi {
		v = v.AllValue(".*").Current(dashboard.VariableOption{
			Selected: cog.ToPtr(true),
			Text:     dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}},
			Value:    dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
		})
	}
	return v
}

// annotation is a Prometheus annotation: a region while expr is 1.
func annotation(name, color, expr, title, text string) *dashboard.AnnotationQueryBuilder {
	return dashboard.NewAnnotationQueryBuilder().
		Name(name).Datasource(ds).Enable(true).IconColor(color).
		Expr(expr).Step("1m").TitleFormat(title).TextFormat(text).TagKeys("zone").UseValueForTime(false)
}

// Queries.

func promQuery(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(ds).EditorMode(prometheus.QueryEditorModeCode).
		Expr(expr).LegendFormat(legend)
}

// ts is a range query drawn as time series.
func ts(expr, legend string) *prometheus.DataqueryBuilder {
	return promQuery(expr, legend).Range().Format(prometheus.PromQueryFormatTimeSeries)
}

// instant is one value at the end of the range.
func instant(expr, legend string) *prometheus.DataqueryBuilder {
	return promQuery(expr, legend).Instant().Format(prometheus.PromQueryFormatTimeSeries)
}

// tableQ is an instant query returned as a table.
func tableQ(expr string) *prometheus.DataqueryBuilder {
	return promQuery(expr, "").Instant().Format(prometheus.PromQueryFormatTable)
}

// heatmapQ is a range query of histogram buckets.
func heatmapQ(expr, legend string) *prometheus.DataqueryBuilder {
	return promQuery(expr, legend).Range().Format(prometheus.PromQueryFormatHeatmap)
}

// targets names the queries A, B, C, ... in order.
func targets(qs ...*prometheus.DataqueryBuilder) []cog.Builder[variants.Dataquery] {
	out := make([]cog.Builder[variants.Dataquery], len(qs))
	for i, q := range qs {
		out[i] = q.RefId(string(rune('A' + i)))
	}
	return out
}

// Thresholds, mappings, overrides.

func base(color string) dashboard.Threshold { return dashboard.Threshold{Color: color} }
func at(v float64, color string) dashboard.Threshold {
	return dashboard.Threshold{Color: color, Value: cog.ToPtr(v)}
}

func steps(s ...dashboard.Threshold) *dashboard.ThresholdsConfigBuilder {
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(s)
}

// valueMap maps values to text and colour: value, text, colour, ...
func valueMap(vtc ...string) []dashboard.ValueMapping {
	opts := map[string]dashboard.ValueMappingResult{}
	for i := 0; i+2 < len(vtc); i += 3 {
		opts[vtc[i]] = dashboard.ValueMappingResult{Text: cog.ToPtr(vtc[i+1]), Color: cog.ToPtr(vtc[i+2]), Index: cog.ToPtr(int32(i / 3))}
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: opts}}}
}

func colour(mode dashboard.FieldColorModeId) *dashboard.FieldColorBuilder {
	return dashboard.NewFieldColorBuilder().Mode(mode)
}

func fixed(color string) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": color}}
}

// solid draws a series in one colour.
func solid(color string) []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{fixed(color)}
}

// dashed draws a series (a threshold, a limit) as a dashed line.
func dashed(color string) []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{
		fixed(color),
		{Id: "custom.fillOpacity", Value: 0},
		{Id: "custom.lineStyle", Value: map[string]any{"fill": "dash", "dash": []int{10, 10}}},
	}
}

func legend() *common.VizLegendOptionsBuilder {
	return common.NewVizLegendOptionsBuilder().DisplayMode(common.LegendDisplayModeList).
		Placement(common.LegendPlacementBottom).ShowLegend(true).Calcs([]string{})
}

func tooltip(mode common.TooltipDisplayMode, sort common.SortOrder) *common.VizTooltipOptionsBuilder {
	return common.NewVizTooltipOptionsBuilder().Mode(mode).Sort(sort)
}

func lastNotNull() *common.ReduceDataOptionsBuilder {
	return common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Fields("").Values(false)
}

func hideNothing() *common.HideSeriesConfigBuilder {
	return common.NewHideSeriesConfigBuilder().Legend(false).Tooltip(false).Viz(false)
}

func linearScale() *common.ScaleDistributionConfigBuilder {
	return common.NewScaleDistributionConfigBuilder().Type(common.ScaleDistributionLinear)
}

// Panel constructors, one per kind, with the house defaults. Width and
// height are in grid units (24 columns); the dashboard builder places the
// panels left to right, row after row.

func newTimeseries(title string, w, h uint32, desc string) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().Title(title).Description(desc).Span(w).Height(h).Datasource(ds).
		Unit("short").Thresholds(steps(base("green"))).ColorScheme(colour(dashboard.FieldColorModeIdPaletteClassic)).
		DrawStyle(common.GraphDrawStyleLine).LineInterpolation(common.LineInterpolationLinear).LineWidth(2).FillOpacity(10).
		GradientMode(common.GraphGradientModeNone).ShowPoints(common.VisibilityModeNever).PointSize(4).
		SpanNulls(common.BoolOrFloat64{Bool: cog.ToPtr(false)}).
		AxisPlacement(common.AxisPlacementAuto).AxisLabel("").AxisSoftMin(0).BarAlignment(common.BarAlignmentCenter).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNone).Group("A")).
		ThresholdsStyle(thresholdsStyle(common.GraphThresholdsStyleModeOff)).
		ScaleDistribution(linearScale()).HideFrom(hideNothing()).
		Legend(legend()).Tooltip(tooltip(common.TooltipDisplayModeMulti, common.SortOrderDescending))
}

func thresholdsStyle(mode common.GraphThresholdsStyleMode) *common.GraphThresholdsStyleConfigBuilder {
	return common.NewGraphThresholdsStyleConfigBuilder().Mode(mode)
}

// stacked is the stacking of a stacked time series.
func stacked() *common.StackingConfigBuilder {
	return common.NewStackingConfigBuilder().Mode(common.StackingModeNormal).Group("A")
}

func newStat(title string, w, h uint32, desc string) *stat.PanelBuilder {
	return stat.NewPanelBuilder().Title(title).Description(desc).Span(w).Height(h).Datasource(ds).
		Unit("short").Thresholds(steps(base("green"))).ColorScheme(colour(dashboard.FieldColorModeIdThresholds)).
		ReduceOptions(lastNotNull()).ColorMode(common.BigValueColorModeBackground).GraphMode(common.BigValueGraphModeNone).
		JustifyMode(common.BigValueJustifyModeAuto).Orientation(common.VizOrientationAuto).TextMode(common.BigValueTextModeAuto).
		WideLayout(true).ShowPercentChange(false)
}

func newBarGauge(title string, w, h uint32, desc string) *bargauge.PanelBuilder {
	return bargauge.NewPanelBuilder().Title(title).Description(desc).Span(w).Height(h).Datasource(ds).
		Unit("short").Thresholds(steps(base("green"))).ColorScheme(colour(dashboard.FieldColorModeIdThresholds)).
		ReduceOptions(lastNotNull()).Orientation(common.VizOrientationHorizontal).DisplayMode(common.BarGaugeDisplayModeGradient).
		ValueMode(common.BarGaugeValueModeColor).NamePlacement(common.BarGaugeNamePlacementLeft).ShowUnfilled(true).
		Sizing(common.BarGaugeSizingAuto).MinVizHeight(16).MinVizWidth(8).MaxVizHeight(300)
}

func newStateTimeline(title string, w, h uint32, desc string) *statetimeline.PanelBuilder {
	return statetimeline.NewPanelBuilder().Title(title).Description(desc).Span(w).Height(h).Datasource(ds).
		Unit("short").Thresholds(steps(base("green"))).ColorScheme(colour(dashboard.FieldColorModeIdThresholds)).
		FillOpacity(80).LineWidth(0).HideFrom(hideNothing()).
		MergeValues(true).ShowValue(common.VisibilityModeAuto).AlignValue(common.TimelineValueAlignmentLeft).RowHeight(0.9).
		Legend(legend()).Tooltip(tooltip(common.TooltipDisplayModeSingle, common.SortOrderNone))
}

func newBarChart(title string, w, h uint32, desc string) *barchart.PanelBuilder {
	return barchart.NewPanelBuilder().Title(title).Description(desc).Span(w).Height(h).Datasource(ds).
		Unit("short").Thresholds(steps(base("green"))).ColorScheme(colour(dashboard.FieldColorModeIdPaletteClassic)).
		FillOpacity(80).LineWidth(1).GradientMode(common.GraphGradientModeNone).AxisPlacement(common.AxisPlacementAuto).
		AxisSoftMin(0).ScaleDistribution(linearScale()).HideFrom(hideNothing()).
		Orientation(common.VizOrientationVertical).Stacking(common.StackingModeNone).ShowValue(common.VisibilityModeAuto).
		GroupWidth(0.7).BarWidth(0.97).BarRadius(0).XTickLabelRotation(-45).XTickLabelSpacing(0).FullHighlight(false).
		Legend(legend()).Tooltip(tooltip(common.TooltipDisplayModeMulti, common.SortOrderDescending))
}

func newTable(title string, w, h uint32, desc string) *table.PanelBuilder {
	return table.NewPanelBuilder().Title(title).Description(desc).Span(w).Height(h).Datasource(ds).
		Unit("short").Thresholds(steps(base("transparent"))).ColorScheme(colour(dashboard.FieldColorModeIdThresholds)).
		Align(common.FieldTextAlignmentAuto).
		CellOptions(common.TableCellOptions{TableColoredBackgroundCellOptions: &common.TableColoredBackgroundCellOptions{
			Type: common.TableCellDisplayModeColorBackground, Mode: cog.ToPtr(common.TableCellBackgroundDisplayModeBasic)}}).
		Inspect(false).Filterable(false).
		ShowHeader(true).CellHeight(common.TableCellHeightSm).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"}).CountRows(false))
}

func newHeatmap(title string, w, h uint32, unit, desc string) *heatmap.PanelBuilder {
	return heatmap.NewPanelBuilder().Title(title).Description(desc).Span(w).Height(h).Datasource(ds).
		Unit(unit).Thresholds(steps(base("green"))).ColorScheme(colour(dashboard.FieldColorModeIdPaletteClassic)).
		HideFrom(hideNothing()).ScaleDistribution(linearScale()).
		Calculate(false).CellGap(1).
		YAxis(heatmap.NewYAxisConfigBuilder().AxisPlacement(common.AxisPlacementLeft).Unit(unit)).
		Color(heatmap.NewHeatmapColorOptionsBuilder().Mode(heatmap.HeatmapColorModeScheme).Scheme("Oranges").
			Scale(heatmap.HeatmapColorScaleExponential).Exponent(0.5).Steps(64).Fill("dark-orange").Reverse(false)).
		RowsFrame(heatmap.NewRowsHeatmapOptionsBuilder().Layout(common.HeatmapCellLayoutAuto)).
		CellValues(heatmap.NewCellValuesBuilder().Unit("short")).
		Tooltip(heatmap.NewHeatmapTooltipBuilder().Mode(common.TooltipDisplayModeSingle).YHistogram(false).ShowColorScale(false)).
		ShowLegend().ExemplarsColor("rgba(255,0,255,0.7)").
		FilterValues(heatmap.NewFilterValueRangeBuilder().Le(1e-9))
}

// countsTable names the value column of a table of counts and sorts the
// table by it, largest first.
func countsTable(column string) []dashboard.DataTransformerConfig {
	return []dashboard.DataTransformerConfig{organize(map[string]any{"Value": column}, nil), sortBy(column, true)}
}

// organize drops the Time column, renames columns and orders them.
func organize(rename, order map[string]any) dashboard.DataTransformerConfig {
	opts := map[string]any{"excludeByName": map[string]any{"Time": true}, "renameByName": rename}
	if order != nil {
		opts["indexByName"] = order
	}
	return dashboard.DataTransformerConfig{Id: "organize", Options: opts}
}

// sortBy sorts a table by a column.
func sortBy(field string, desc bool) dashboard.DataTransformerConfig {
	return dashboard.DataTransformerConfig{Id: "sortBy", Options: map[string]any{
		"fields": map[string]any{}, "sort": []any{map[string]any{"field": field, "desc": desc}}}}
}

// wavesChart is the bar chart of the selected gates' waves: visitors
// booked, admitted and no-shows by slot (the control room's and the gates'
// dashboards draw it alike).
func wavesChart(title string, w, h uint32, desc string) *barchart.PanelBuilder {
	return newBarChart(title, w, h, desc).
		Targets(targets(
			tableQ(`sum by (slot) (tafweej_wave_booked_visitors{`+selGate+`})`),
			tableQ(`sum by (slot) (tafweej_wave_admitted_visitors{`+selGate+`})`),
			tableQ(`sum by (slot) (tafweej_wave_no_show_visitors{`+selGate+`})`),
		)).
		Transformations(wavesTransforms(false)).
		XField("slot").
		OverrideByName("booked", solid("blue")).
		OverrideByName("admitted", solid("green")).
		OverrideByName("no-show", solid("orange"))
}
