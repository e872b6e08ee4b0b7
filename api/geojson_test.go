package api

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/internal/testenv/stack"
	"github.com/tafweej/tafweej/scheduler"
)

func petraMap(t testing.TB, cfg *scheduler.Config) *scheduler.SiteMap {
	t.Helper()
	data, err := os.ReadFile("../configs/petra.geojson")
	if err != nil {
		t.Fatal(err)
	}
	m, err := scheduler.ParseSiteMap(data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestZonesGeoJSONIsRFC7946WithTheOccupancyFigures: GET /v1/zones.geojson
// answers application/geo+json that an independent GeoJSON library parses,
// one polygon per zone, closed and counterclockwise, whose properties are
// the zone's GET /v1/occupancy entry under the same names and values (a
// crowded, held Siq and a closed Treasury included), with the names in
// both languages.
func TestZonesGeoJSONIsRFC7946WithTheOccupancyFigures(t *testing.T) {
	var h *harness
	h = newHarness(t, func(o *Options) { o.Map = petraMap(t, stack.Petra(t)) })
	op := h.key(auth.RoleOperator, "wadi-tours", nil)
	h.clock.Set(time.Date(2026, 12, 1, 9, 0, 0, 0, testenv.Amman))
	ctx := context.Background()
	if _, err := h.eng.Do(ctx, scheduler.CounterReading{Sensor: "siq-n1", Zone: "siq", Boot: "b1", Seq: 1, In: 1100, At: h.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if r := h.do("POST", "/v1/closures", h.opsKey, ClosureRequest{Zones: []string{"treasury"}, Reason: "rockfall"}); r.code != http.StatusCreated {
		t.Fatalf("POST /v1/closures: %d %s", r.code, r.body)
	}

	r := h.do("GET", "/v1/zones.geojson", op, nil)
	if r.code != http.StatusOK {
		t.Fatalf("GET /v1/zones.geojson: %d %s", r.code, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/geo+json" {
		t.Errorf("Content-Type %q, want application/geo+json", ct)
	}
	fc, err := geojson.UnmarshalFeatureCollection(r.body)
	if err != nil {
		t.Fatalf("orb cannot read the answer as GeoJSON: %v\n%s", err, r.body)
	}
	var occ Occupancy
	h.do("GET", "/v1/occupancy", op, nil).decode(t, &occ)
	if len(fc.Features) != len(occ.Zones) || len(occ.Zones) != len(h.cfg.Zones) {
		t.Fatalf("%d features, %d zones in GET /v1/occupancy, %d configured", len(fc.Features), len(occ.Zones), len(h.cfg.Zones))
	}
	for i, f := range fc.Features {
		z := occ.Zones[i]
		if f.ID != z.Zone || f.Properties["zone"] != z.Zone {
			t.Errorf("feature %d: id %v zone %v, want %s", i, f.ID, f.Properties["zone"], z.Zone)
		}
		poly, ok := f.Geometry.(orb.Polygon)
		if !ok || len(poly) == 0 || !poly[0].Closed() || poly[0].Orientation() != orb.CCW {
			t.Errorf("%s: geometry %T, want a closed counterclockwise polygon", z.Zone, f.Geometry)
		}
		// The properties are the occupancy entry, name for name.
		b, _ := json.Marshal(z)
		var want map[string]any
		json.Unmarshal(b, &want)
		for k, v := range want {
			got, _ := json.Marshal(f.Properties[k])
			exp, _ := json.Marshal(v)
			if string(got) != string(exp) {
				t.Errorf("%s: property %s = %s, GET /v1/occupancy says %s", z.Zone, k, got, exp)
			}
		}
		if f.Properties["name_en"] != z.Name.EN || f.Properties["name_ar"] != z.Name.AR || z.Name.AR == "" {
			t.Errorf("%s: names %v / %v, want %q / %q", z.Zone, f.Properties["name_en"], f.Properties["name_ar"], z.Name.EN, z.Name.AR)
		}
	}
	byZone := map[string]map[string]any{}
	for _, f := range fc.Features {
		byZone[f.ID.(string)] = f.Properties
	}
	if siq := byZone["siq"]; siq["live"] != 1100.0 || siq["capacity"] != 1200.0 || siq["held"] != true {
		t.Errorf("the Siq: %v, want live 1100 of 1200, held", siq)
	}
	if tr := byZone["treasury"]; tr["closed"] != true {
		t.Errorf("the Treasury: %v, want closed", tr)
	}
	if lp := byZone["little-petra"]; lp["inset"] != true {
		t.Errorf("Little Petra: inset %v, want true (it lies 4 km north of the rest)", lp["inset"])
	}

	// Gate keys cannot read it, like GET /v1/occupancy.
	if r := h.do("GET", "/v1/zones.geojson", h.key(auth.RoleGate, "", nil), nil); r.code != http.StatusForbidden {
		t.Errorf("gate key: %d, want 403", r.code)
	}
}

// TestZonesGeoJSONWithoutAMap: without a map file the zones are served
// with null geometry, which RFC 7946 allows.
func TestZonesGeoJSONWithoutAMap(t *testing.T) {
	h := newHarness(t, nil)
	r := h.do("GET", "/v1/zones.geojson", h.opsKey, nil)
	if r.code != http.StatusOK {
		t.Fatalf("%d %s", r.code, r.body)
	}
	fc, err := geojson.UnmarshalFeatureCollection(r.body)
	if err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != len(h.cfg.Zones) {
		t.Fatalf("%d features", len(fc.Features))
	}
	for _, f := range fc.Features {
		if f.Geometry != nil {
			t.Errorf("%v: geometry %v, want null", f.ID, f.Geometry)
		}
	}
}
