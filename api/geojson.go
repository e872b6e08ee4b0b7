package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/tafweej/tafweej/scheduler"
)

// GeoJSONContentType is the media type of GeoJSON (RFC 7946 section 12).
const GeoJSONContentType = "application/geo+json"

// ZonesFeatureCollection is the answer of GET /v1/zones.geojson: an RFC
// 7946 FeatureCollection with one Feature per zone, in the configuration's
// order. Each feature's properties are the zone's entry of GET
// /v1/occupancy (the same figures, from the same read of the state), plus
// name_en and name_ar for GIS labels, inset (draw it in an inset: it lies
// far from the rest) and note. Geometry is null when the service runs
// without a map of its zones.
type ZonesFeatureCollection struct {
	Type     string        `json:"type"` // FeatureCollection
	At       time.Time     `json:"at"`   // a foreign member: when the figures were read
	Features []ZoneFeature `json:"features"`
}

// ZoneFeature is one zone on the map.
type ZoneFeature struct {
	Type       string          `json:"type"` // Feature
	ID         string          `json:"id"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties map[string]any  `json:"properties"`
}

// zonesGeoJSON: GET /v1/zones.geojson.
func (s *Server) zonesGeoJSON(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	var at time.Time
	var zones []scheduler.ZoneOccupancy
	err := s.eng.Read(r.Context(), func(st *scheduler.State, now time.Time) {
		at, zones = now.In(s.loc), st.Occupancy(now)
	})
	if err != nil {
		return engineError(err)
	}
	zones = s.zonesIn(zones)
	out := ZonesFeatureCollection{Type: "FeatureCollection", At: at, Features: []ZoneFeature{}}
	for _, z := range zones {
		props, err := occupancyProperties(z)
		if err != nil {
			s.log.Error("zones.geojson: properties", "zone", z.Zone, "err", err)
			return errf(http.StatusInternalServerError, CodeInternal, "", "the map of the zones could not be written")
		}
		props["name_en"], props["name_ar"] = z.Name.EN, z.Name.AR
		f := ZoneFeature{Type: "Feature", ID: z.Zone, Geometry: json.RawMessage("null"), Properties: props}
		if g, ok := s.opts.Map.Geometry(z.Zone); ok && len(g.Geometry) > 0 {
			f.Geometry = g.Geometry
			props["inset"] = g.Inset
			if g.Note != "" {
				props["note"] = g.Note
			}
		}
		out.Features = append(out.Features, f)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return errf(http.StatusInternalServerError, CodeInternal, "", "the map of the zones could not be written")
	}
	w.Header().Set("Content-Type", GeoJSONContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
	return nil
}

// occupancyProperties is a zone's entry of GET /v1/occupancy as a JSON
// object, so that the map's properties are named and written exactly as
// there.
func occupancyProperties(z scheduler.ZoneOccupancy) (map[string]any, error) {
	b, err := json.Marshal(z)
	if err != nil {
		return nil, err
	}
	var props map[string]any
	err = json.Unmarshal(b, &props)
	return props, err
}
