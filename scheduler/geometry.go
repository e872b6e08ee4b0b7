package scheduler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// SiteMap is where each zone of a site lies: one GeoJSON geometry per zone
// (RFC 7946: WGS 84 longitude, latitude), read from the file beside the
// site configuration (configs/petra.geojson beside configs/petra.yaml). The
// scheduler never uses it to decide anything; it is part of the site's
// description, checked against the configuration's zones, for the maps of
// the control room and of the reserve's own GIS.
type SiteMap struct {
	// Zones are in the configuration's zone order, one for every zone.
	Zones []ZoneGeometry
}

// ZoneGeometry is one zone's outline (Polygon or MultiPolygon) or path
// (LineString or MultiLineString).
type ZoneGeometry struct {
	Zone string
	// Geometry is the GeoJSON geometry object as written in the file,
	// compacted; it has been checked (see ParseSiteMap).
	Geometry json.RawMessage
	// Inset asks maps to draw the zone in an inset of its own, for a zone
	// far from the rest (Little Petra, some 4 km north of the Monastery).
	Inset bool
	// Note says what the outline covers.
	Note string
}

// Geometry returns a zone's geometry.
func (m *SiteMap) Geometry(zone string) (ZoneGeometry, bool) {
	if m == nil {
		return ZoneGeometry{}, false
	}
	for _, z := range m.Zones {
		if z.Zone == zone {
			return z, true
		}
	}
	return ZoneGeometry{}, false
}

// geometryTypes are the geometry types a zone may have.
var geometryTypes = []string{"Polygon", "MultiPolygon", "LineString", "MultiLineString"}

// ParseSiteMap decodes and checks the zones' geometry (a GeoJSON
// FeatureCollection) against the configuration c. It reads no files. Each
// feature has the properties {"zone": ID} and optionally "inset" (bool) and
// "note" (string), and a geometry of one of the types above; every zone of
// c has exactly one feature and no feature names another zone. Positions
// are [longitude, latitude] (an altitude may follow) within range; a
// polygon's rings are closed, have at least four positions, and follow the
// right-hand rule (exterior rings counterclockwise, holes clockwise, RFC
// 7946 section 3.1.6); a line has at least two positions. On failure the
// error is a *ConfigError listing every problem with its JSON path.
func ParseSiteMap(data []byte, c *Config) (*SiteMap, error) {
	v := &mapValidator{}
	m := v.collection(data, c)
	if len(v.problems) > 0 {
		return nil, &ConfigError{Problems: v.problems}
	}
	return m, nil
}

type mapValidator struct{ problems []ConfigProblem }

func (v *mapValidator) addf(path, format string, args ...any) {
	v.problems = append(v.problems, ConfigProblem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// object decodes a JSON object, reporting members outside accepted.
func (v *mapValidator) object(path string, raw json.RawMessage, accepted ...string) (map[string]json.RawMessage, bool) {
	var o map[string]json.RawMessage
	if err := json.Unmarshal(raw, &o); err != nil || o == nil {
		v.addf(path, "not a JSON object (%s)", jsonKind(raw))
		return nil, false
	}
	for _, k := range slices.Sorted(maps.Keys(o)) {
		if !slices.Contains(accepted, k) {
			v.addf(joinPath(path, k), "unknown member %q (accepted: %s)", k, strings.Join(accepted, ", "))
		}
	}
	return o, true
}

// jsonKind names the kind of a JSON value, for messages.
func jsonKind(raw json.RawMessage) string {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 {
		return "empty"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

func (v *mapValidator) str(path string, raw json.RawMessage) (string, bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		v.addf(path, "want a string, not %s", jsonKind(raw))
		return "", false
	}
	return s, true
}

func (v *mapValidator) collection(data []byte, c *Config) *SiteMap {
	if !json.Valid(data) {
		var x any
		err := json.Unmarshal(data, &x)
		v.addf("", "not valid JSON: %v", err)
		return nil
	}
	top, ok := v.object("", data, "type", "features", "name", "description", "bbox")
	if !ok {
		return nil
	}
	if t, _ := v.str("type", top["type"]); t != "FeatureCollection" {
		v.addf("type", "type %q: the file must be a GeoJSON \"FeatureCollection\" with one feature per zone", t)
		return nil
	}
	var feats []json.RawMessage
	if err := json.Unmarshal(top["features"], &feats); err != nil {
		v.addf("features", "want an array of features, not %s", jsonKind(top["features"]))
		return nil
	}
	zones := map[string]bool{}
	var order []string
	for _, z := range c.Zones {
		zones[z.ID] = true
		order = append(order, z.ID)
	}
	seen := map[string]string{} // zone -> path of its feature
	type start struct {
		path string
		at   []float64
	}
	var starts []start // each feature's first position
	byZone := map[string]ZoneGeometry{}
	for i, raw := range feats {
		path := fmt.Sprintf("features[%d]", i)
		f, ok := v.object(path, raw, "type", "id", "properties", "geometry", "bbox")
		if !ok {
			continue
		}
		if t, _ := v.str(path+".type", f["type"]); t != "Feature" {
			v.addf(path+".type", "type %q: want \"Feature\"", t)
		}
		zg := ZoneGeometry{}
		props, ok := v.object(path+".properties", f["properties"], "zone", "inset", "note")
		if ok {
			id, _ := v.str(path+".properties.zone", props["zone"])
			switch {
			case id == "":
				v.addf(path+".properties.zone", "zone is required: the id of a zone of the site (%s)", known(order))
			case !zones[id]:
				v.addf(path+".properties.zone", "unknown zone %q (known: %s)", id, known(order))
			case seen[id] != "":
				v.addf(path+".properties.zone", "zone %q already has a geometry at %s (accepted: one feature per zone)", id, seen[id])
			default:
				seen[id] = path
				zg.Zone = id
			}
			if raw, ok := props["inset"]; ok {
				if err := json.Unmarshal(raw, &zg.Inset); err != nil {
					v.addf(path+".properties.inset", "want true or false, not %s", jsonKind(raw))
				}
			}
			if raw, ok := props["note"]; ok {
				zg.Note, _ = v.str(path+".properties.note", raw)
			}
		}
		n := len(v.problems)
		first := v.geometry(path+".geometry", f["geometry"])
		if first != nil {
			starts = append(starts, start{path, first})
		}
		if len(v.problems) == n && zg.Zone != "" {
			var b bytes.Buffer
			_ = json.Compact(&b, f["geometry"])
			zg.Geometry = b.Bytes()
			byZone[zg.Zone] = zg
		}
	}
	// A site's zones lie within some kilometres of each other: a feature
	// far from the others' median has its coordinates swapped or wrong.
	if len(starts) >= 3 {
		var lons, lats []float64
		for _, s := range starts {
			lons = append(lons, s.at[0])
			lats = append(lats, s.at[1])
		}
		slices.Sort(lons)
		slices.Sort(lats)
		mlon, mlat := lons[len(lons)/2], lats[len(lats)/2]
		for _, s := range starts {
			if math.Abs(s.at[0]-mlon) > maxSpread || math.Abs(s.at[1]-mlat) > maxSpread {
				v.addf(s.path+".geometry", "starts at longitude %v, latitude %v, more than %v degrees from the other zones (around longitude %v, latitude %v); GeoJSON puts longitude first",
					s.at[0], s.at[1], maxSpread, mlon, mlat)
			}
		}
	}
	var missing []string
	for _, id := range order {
		if seen[id] == "" {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		v.addf("features", "no geometry for zone %s (every zone of the site needs one feature with properties.zone)", strings.Join(quoteAll(missing), ", "))
	}
	m := &SiteMap{}
	for _, id := range order {
		m.Zones = append(m.Zones, byZone[id])
	}
	return m
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// maxSpread bounds, in degrees (about 50 km), how far a zone's geometry may
// start from the other zones'.
const maxSpread = 0.5

// geometry checks a zone's geometry and returns its first position.
func (v *mapValidator) geometry(path string, raw json.RawMessage) (first []float64) {
	if raw == nil || jsonKind(raw) == "null" {
		v.addf(path, "geometry is required: a %s", strings.Join(geometryTypes, ", "))
		return nil
	}
	g, ok := v.object(path, raw, "type", "coordinates", "bbox")
	if !ok {
		return nil
	}
	t, _ := v.str(path+".type", g["type"])
	if !slices.Contains(geometryTypes, t) {
		v.addf(path+".type", "type %q: a zone is one of %s", t, strings.Join(geometryTypes, ", "))
		return nil
	}
	pick := func(ps [][]float64) {
		if first == nil && len(ps) > 0 && len(ps[0]) >= 2 {
			first = ps[0]
		}
	}
	cp := path + ".coordinates"
	switch t {
	case "LineString":
		var line [][]float64
		if v.decode(cp, g["coordinates"], &line, "an array of [longitude, latitude] positions") {
			v.line(cp, line)
			pick(line)
		}
	case "MultiLineString":
		var lines [][][]float64
		if v.decode(cp, g["coordinates"], &lines, "an array of lines") {
			if len(lines) == 0 {
				v.addf(cp, "no lines (accepted: at least one)")
			}
			for i, l := range lines {
				v.line(fmt.Sprintf("%s[%d]", cp, i), l)
				pick(l)
			}
		}
	case "Polygon":
		var poly [][][]float64
		if v.decode(cp, g["coordinates"], &poly, "an array of linear rings") {
			v.polygon(cp, poly)
			for _, r := range poly {
				pick(r)
			}
		}
	case "MultiPolygon":
		var polys [][][][]float64
		if v.decode(cp, g["coordinates"], &polys, "an array of polygons") {
			if len(polys) == 0 {
				v.addf(cp, "no polygons (accepted: at least one)")
			}
			for i, p := range polys {
				v.polygon(fmt.Sprintf("%s[%d]", cp, i), p)
				for _, r := range p {
					pick(r)
				}
			}
		}
	}
	return first
}

func (v *mapValidator) decode(path string, raw json.RawMessage, into any, want string) bool {
	if err := json.Unmarshal(raw, into); err != nil {
		v.addf(path, "want %s of numbers: %v", want, err)
		return false
	}
	return true
}

// positions checks each position's length and range.
func (v *mapValidator) positions(path string, ps [][]float64) bool {
	ok := true
	for i, p := range ps {
		pp := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case len(p) < 2 || len(p) > 3:
			v.addf(pp, "a position has %d numbers (accepted: [longitude, latitude] or [longitude, latitude, altitude])", len(p))
			ok = false
		case math.IsNaN(p[0]) || p[0] < -180 || p[0] > 180:
			v.addf(pp, "longitude %v out of range (accepted: -180 to 180; GeoJSON puts longitude first)", p[0])
			ok = false
		case math.IsNaN(p[1]) || p[1] < -90 || p[1] > 90:
			v.addf(pp, "latitude %v out of range (accepted: -90 to 90; GeoJSON puts longitude first)", p[1])
			ok = false
		}
	}
	return ok
}

func (v *mapValidator) line(path string, l [][]float64) {
	if len(l) < 2 {
		v.addf(path, "a line has %d positions (accepted: at least 2)", len(l))
		return
	}
	v.positions(path, l)
}

func (v *mapValidator) polygon(path string, rings [][][]float64) {
	if len(rings) == 0 {
		v.addf(path, "a polygon without rings (accepted: an exterior ring, then any holes)")
		return
	}
	for i, r := range rings {
		rp := fmt.Sprintf("%s[%d]", path, i)
		if len(r) < 4 {
			v.addf(rp, "a linear ring has %d positions (accepted: at least 4, the last the same as the first)", len(r))
			continue
		}
		if !v.positions(rp, r) {
			continue
		}
		first, last := r[0], r[len(r)-1]
		if first[0] != last[0] || first[1] != last[1] {
			v.addf(rp, "the ring is not closed: it starts at %v and ends at %v (the last position must repeat the first)", first[:2], last[:2])
			continue
		}
		a := RingArea(r)
		switch {
		case a == 0:
			v.addf(rp, "the ring encloses no area")
		case i == 0 && a < 0:
			v.addf(rp, "the exterior ring is clockwise; RFC 7946 wants exterior rings counterclockwise (reverse its positions)")
		case i > 0 && a > 0:
			v.addf(rp, "hole %d is counterclockwise; RFC 7946 wants holes clockwise (reverse its positions)", i)
		}
	}
}

// RingArea is the signed area of a closed ring in square degrees (shoelace
// formula over longitude and latitude): positive when the ring runs
// counterclockwise.
func RingArea(r [][]float64) float64 {
	var a float64
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return a / 2
}
