package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/tafweej/tafweej/internal/auth"
)

// TestOpenAPIDescribesEveryFieldOfTheAnswers: the answers of the read
// endpoints carry no field that api/openapi.json leaves out, and every
// field the document requires is there. A client generated from the
// document would otherwise drop (or, with additionalProperties false,
// refuse) what the service sends.
func TestOpenAPIDescribesEveryFieldOfTheAnswers(t *testing.T) {
	h := newHarness(t, nil)
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	op := h.key(auth.RoleOperator, "jett-tours", nil)
	b := h.book(op, BookingRequest{Date: "2026-12-01", Route: "monastery", PartySize: 12, Window: Window{From: "08:00", To: "10:00"}})

	for _, c := range []struct{ path, query, key string }{
		{"/healthz", "", ""},
		{"/v1/status", "", h.opsKey},
		{"/v1/occupancy", "", h.opsKey},
		{"/v1/forecast", "", h.opsKey},
		{"/v1/availability", "?date=2026-12-01&route=monastery", op},
		{"/v1/bookings", "?date=2026-12-01", op},
		{"/v1/bookings/{id}", "", op},
		{"/v1/requests", "", op},
		{"/v1/closures", "", h.opsKey},
		{"/v1/cuts", "", h.opsKey},
		{"/v1/keys", "", h.opsKey},
	} {
		t.Run(c.path, func(t *testing.T) {
			var get struct {
				Responses map[string]struct {
					Content map[string]struct {
						Schema json.RawMessage `json:"schema"`
					} `json:"content"`
				} `json:"responses"`
			}
			if doc.Paths[c.path]["get"] == nil {
				t.Fatalf("GET %s is not in openapi.json", c.path)
			}
			if err := json.Unmarshal(doc.Paths[c.path]["get"], &get); err != nil {
				t.Fatal(err)
			}
			schema := get.Responses["200"].Content["application/json"].Schema
			if schema == nil {
				t.Fatalf("GET %s documents no JSON answer 200", c.path)
			}
			r := h.do("GET", strings.Replace(c.path, "{id}", b.ID, 1)+c.query, c.key, nil)
			if r.code != http.StatusOK {
				t.Fatalf("GET %s: %d %s", c.path, r.code, r.body)
			}
			var v any
			r.decode(t, &v)
			for _, p := range undocumentedFields(doc.Components.Schemas, schema, v, "GET "+c.path) {
				t.Error(p)
			}
		})
	}
}

// undocumentedFields walks an answer beside its schema and lists the
// fields the schema does not describe and the required ones missing.
// Schemas combined with allOf, oneOf or anyOf are not walked.
func undocumentedFields(schemas map[string]json.RawMessage, schema json.RawMessage, v any, at string) []string {
	var s struct {
		Ref        string                     `json:"$ref"`
		Properties map[string]json.RawMessage `json:"properties"`
		Required   []string                   `json:"required"`
		Items      json.RawMessage            `json:"items"`
		Additional json.RawMessage            `json:"additionalProperties"`
		AllOf      json.RawMessage            `json:"allOf"`
		OneOf      json.RawMessage            `json:"oneOf"`
		AnyOf      json.RawMessage            `json:"anyOf"`
	}
	for range 16 {
		if err := json.Unmarshal(schema, &s); err != nil {
			return []string{at + ": schema does not decode: " + err.Error()}
		}
		if s.Ref == "" {
			break
		}
		name := strings.TrimPrefix(s.Ref, "#/components/schemas/")
		schema = schemas[name]
		if schema == nil {
			return []string{at + ": $ref to missing schema " + s.Ref}
		}
		s.Ref = ""
	}
	if s.AllOf != nil || s.OneOf != nil || s.AnyOf != nil {
		return nil
	}
	var out []string
	switch v := v.(type) {
	case map[string]any:
		if s.Properties == nil {
			if s.Additional != nil && string(s.Additional) != "false" && string(s.Additional) != "true" {
				for k, e := range v {
					out = append(out, undocumentedFields(schemas, s.Additional, e, at+"."+k)...)
				}
			}
			return out
		}
		for k, e := range v {
			p, ok := s.Properties[k]
			if !ok {
				if s.Additional == nil || string(s.Additional) == "false" {
					out = append(out, at+": field "+k+" is not in openapi.json")
				}
				continue
			}
			out = append(out, undocumentedFields(schemas, p, e, at+"."+k)...)
		}
		for _, k := range s.Required {
			if _, ok := v[k]; !ok {
				out = append(out, at+": required field "+k+" is missing")
			}
		}
	case []any:
		if s.Items != nil {
			for _, e := range v {
				out = append(out, undocumentedFields(schemas, s.Items, e, at+"[]")...)
			}
		}
	}
	return out
}
