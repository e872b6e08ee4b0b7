package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigCheckChecksTheMapBesideTheConfig: config check reads
// NAME.geojson beside NAME.yaml and refuses a map whose zones do not match
// the configuration's, naming the feature and the zone.
func TestConfigCheckChecksTheMapBesideTheConfig(t *testing.T) {
	yaml, err := os.ReadFile("../../configs/petra.yaml")
	if err != nil {
		t.Fatal(err)
	}
	geo, err := os.ReadFile("../../configs/petra.geojson")
	if err != nil {
		t.Fatal(err)
	}
	check := func(dir string) (string, error) {
		root := newRoot()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs([]string{"config", "check", filepath.Join(dir, "site.yaml")})
		err := root.Execute()
		return out.String(), err
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "site.yaml"), yaml, 0o644)
	out, err := check(dir)
	if err != nil || !strings.Contains(out, "site.geojson: none") {
		t.Errorf("without a map: %v %q, want ok and a note that there is no map", err, out)
	}
	os.WriteFile(filepath.Join(dir, "site.geojson"), geo, 0o644)
	out, err = check(dir)
	if err != nil || !strings.Contains(out, "site.geojson: ok — a geometry for each of the 9 zones") {
		t.Errorf("with petra.geojson: %v %q", err, out)
	}
	os.WriteFile(filepath.Join(dir, "site.geojson"), bytes.Replace(geo, []byte(`"zone": "monastery"`), []byte(`"zone": "ad-deir"`), 1), 0o644)
	_, err = check(dir)
	if err == nil || !strings.Contains(err.Error(), `unknown zone "ad-deir"`) || !strings.Contains(err.Error(), `no geometry for zone "monastery"`) {
		t.Errorf("a map naming another zone: %v", err)
	}
}
