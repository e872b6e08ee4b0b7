package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRoutes: every route the mux serves is in openapi.json
// and every operation of the document is served, by the same method and
// path; every $ref resolves.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	h := newHarness(t, nil)
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components map[string]map[string]json.RawMessage `json:"components"`
	}
	r := h.do("GET", "/openapi.json", "", nil)
	if r.code != 200 || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json: %d %s", r.code, r.header.Get("Content-Type"))
	}
	r.decode(t, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	methods := []string{"get", "post", "put", "patch", "delete", "head", "options"}
	var documented []string
	for path, item := range doc.Paths {
		for m, op := range item {
			if m == "parameters" || m == "summary" || m == "description" {
				continue
			}
			// An operation served beside the API by another part (GET
			// /v1/cluster: internal/cluster) names it.
			var by struct {
				ServedBy string `json:"x-served-by"`
			}
			if json.Unmarshal(op, &by) == nil && by.ServedBy != "" {
				continue
			}
			if !slices.Contains(methods, m) {
				t.Errorf("path %s has unknown key %q", path, m)
				continue
			}
			documented = append(documented, strings.ToUpper(m)+" "+path)
		}
	}
	var served []string
	for _, rt := range h.api.routes {
		served = append(served, rt.method+" "+rt.path)
	}
	slices.Sort(documented)
	slices.Sort(served)
	for _, s := range served {
		if !slices.Contains(documented, s) {
			t.Errorf("%s is served but not in openapi.json", s)
		}
	}
	wild := regexp.MustCompile(`\{[a-z]+\}`)
	for _, d := range documented {
		if !slices.Contains(served, d) {
			t.Errorf("%s is in openapi.json but not served", d)
		}
		// and the mux itself routes it to that pattern
		method, path, _ := strings.Cut(d, " ")
		req := httptest.NewRequest(method, wild.ReplaceAllString(path, "x1"), nil)
		if _, pattern := h.api.mux.Handler(req); pattern != d {
			t.Errorf("the mux routes %s to %q", d, pattern)
		}
	}

	// Every $ref points at a component.
	refs := regexp.MustCompile(`"\$ref":\s*"#/components/([a-zA-Z]+)/([a-zA-Z]+)"`)
	for _, m := range refs.FindAllStringSubmatch(string(openAPIDoc), -1) {
		if _, ok := doc.Components[m[1]][m[2]]; !ok {
			t.Errorf("$ref to missing #/components/%s/%s", m[1], m[2])
		}
	}
	// Paths with a wildcard declare it as a path parameter.
	for path, item := range doc.Paths {
		for _, w := range wild.FindAllString(path, -1) {
			if !strings.Contains(string(item["parameters"]), `"name": "`+strings.Trim(w, "{}")+`"`) {
				t.Errorf("%s does not declare path parameter %s", path, w)
			}
		}
	}
	_ = http.MethodGet
}
