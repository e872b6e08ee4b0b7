package scheduler_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"

	"github.com/tafweej/tafweej/scheduler"
)

func petraConfig(t *testing.T) *scheduler.Config {
	t.Helper()
	data, err := os.ReadFile("../configs/petra.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := scheduler.ParseConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestPetraMapIsRFC7946AndCoversEveryZone: configs/petra.geojson parses
// with an independent GeoJSON library (paulmach/orb), every feature is a
// closed polygon whose exterior ring is counterclockwise, every zone of
// petra.yaml has exactly one, and the Siq lies where public maps put it:
// from Bab as-Siq (about 35.4614E 30.3236N) west to the Treasury (about
// 35.4513E 30.3222N).
func TestPetraMapIsRFC7946AndCoversEveryZone(t *testing.T) {
	cfg := petraConfig(t)
	data, err := os.ReadFile("../configs/petra.geojson")
	if err != nil {
		t.Fatal(err)
	}
	m, err := scheduler.ParseSiteMap(data, cfg)
	if err != nil {
		t.Fatalf("configs/petra.geojson: %v", err)
	}
	if len(m.Zones) != len(cfg.Zones) {
		t.Fatalf("%d geometries for %d zones", len(m.Zones), len(cfg.Zones))
	}
	fc, err := geojson.UnmarshalFeatureCollection(data)
	if err != nil {
		t.Fatalf("orb: %v", err)
	}
	seen := map[string]int{}
	for i, f := range fc.Features {
		id, _ := f.Properties["zone"].(string)
		seen[id]++
		poly, ok := f.Geometry.(orb.Polygon)
		if !ok {
			t.Errorf("feature %d (%s): %T, want a polygon", i, id, f.Geometry)
			continue
		}
		for j, r := range poly {
			if !r.Closed() || len(r) < 4 {
				t.Errorf("%s ring %d: closed %v, %d positions", id, j, r.Closed(), len(r))
			}
			want := orb.CCW // exterior rings counterclockwise, holes clockwise
			if j > 0 {
				want = orb.CW
			}
			if r.Orientation() != want {
				t.Errorf("%s ring %d: orientation %v, want %v", id, j, r.Orientation(), want)
			}
		}
		// A zone of Petra lies within a few kilometres of the Treasury.
		c, _ := planar.CentroidArea(poly)
		if c[0] < 35.40 || c[0] > 35.50 || c[1] < 30.30 || c[1] > 30.40 {
			t.Errorf("%s: centroid %v is not near Petra (lon 35.4, lat 30.3)", id, c)
		}
	}
	for _, z := range cfg.Zones {
		if seen[z.ID] != 1 {
			t.Errorf("zone %s has %d features, want 1", z.ID, seen[z.ID])
		}
	}
	siq, _ := m.Geometry("siq")
	g, err := geojson.UnmarshalGeometry(siq.Geometry)
	if err != nil {
		t.Fatal(err)
	}
	b := g.Geometry().Bound()
	for _, p := range []orb.Point{{35.4614, 30.3236}, {35.4525, 30.3225}} {
		if !b.Pad(0.0005).Contains(p) {
			t.Errorf("the Siq's bound %v does not reach %v", b, p)
		}
	}
}

// TestBadSiteMaps: each broken map is refused with a message naming the
// place and what is accepted.
func TestBadSiteMaps(t *testing.T) {
	cfg := petraConfig(t)
	good, err := os.ReadFile("../configs/petra.geojson")
	if err != nil {
		t.Fatal(err)
	}
	siqRing := `[[35.46176, 30.32398], [35.45997, 30.3245], [35.45816, 30.3238], [35.45613, 30.3242], [35.45403, 30.32327], [35.45207, 30.32278], [35.45233, 30.32202], [35.45437, 30.32253], [35.45627, 30.3234], [35.45824, 30.323], [35.46003, 30.3237], [35.46144, 30.32322], [35.46176, 30.32398]]`
	if !strings.Contains(string(good), siqRing) {
		t.Fatal("the Siq's ring in configs/petra.geojson changed; update this test")
	}
	reversed := `[[35.46176, 30.32398], [35.46144, 30.32322], [35.46003, 30.3237], [35.45824, 30.323], [35.45627, 30.3234], [35.45437, 30.32253], [35.45233, 30.32202], [35.45207, 30.32278], [35.45403, 30.32327], [35.45613, 30.3242], [35.45816, 30.3238], [35.45997, 30.3245], [35.46176, 30.32398]]`
	open := `[[35.46176, 30.32398], [35.45997, 30.3245], [35.45816, 30.3238], [35.45613, 30.3242]]`
	swapped := `[[30.32398, 35.46176], [30.3245, 35.45997], [30.3238, 35.45816], [30.32398, 35.46176]]`
	cases := []struct {
		name string
		edit func(string) string
		want []string
	}{
		{"clockwise exterior", func(s string) string { return strings.Replace(s, siqRing, reversed, 1) },
			[]string{"features[1].geometry.coordinates[0]", "counterclockwise"}},
		{"ring not closed", func(s string) string { return strings.Replace(s, siqRing, open, 1) },
			[]string{"features[1].geometry.coordinates[0]", "not closed"}},
		{"latitude first", func(s string) string { return strings.Replace(s, siqRing, swapped, 1) },
			[]string{"features[1].geometry: starts at longitude 30.32398, latitude 35.46176", "longitude first"}},
		{"unknown zone", func(s string) string { return strings.Replace(s, `"zone": "siq"`, `"zone": "siqq"`, 1) },
			[]string{`features[1].properties.zone: unknown zone "siqq"`, `no geometry for zone "siq"`}},
		{"twice the same zone", func(s string) string { return strings.Replace(s, `"zone": "treasury"`, `"zone": "siq"`, 1) },
			[]string{`zone "siq" already has a geometry at features[1]`, `no geometry for zone "treasury"`}},
		{"a point", func(s string) string {
			return strings.Replace(s, `{"type": "Polygon", "coordinates": [`+siqRing+`]}`, `{"type": "Point", "coordinates": [35.46, 30.32]}`, 1)
		}, []string{`features[1].geometry.type: type "Point"`, "Polygon, MultiPolygon, LineString, MultiLineString"}},
		{"unknown property", func(s string) string { return strings.Replace(s, `"zone": "siq",`, `"zone": "siq", "capacity": 5,`, 1) },
			[]string{`features[1].properties.capacity: unknown member "capacity" (accepted: zone, inset, note)`}},
		{"not a collection", func(string) string { return `{"type": "Feature"}` }, []string{`"FeatureCollection"`}},
		{"not JSON", func(string) string { return `{"type": ` }, []string{"not valid JSON"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.edit(string(good))
			if in == string(good) {
				t.Fatal("the edit changed nothing")
			}
			_, err := scheduler.ParseSiteMap([]byte(in), cfg)
			var ce *scheduler.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v, want a *ConfigError", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
