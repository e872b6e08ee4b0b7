package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tafweej/tafweej/scheduler"
)

// siteMapPath is where the zones' geometry of a site configuration lies:
// the same name with the extension .geojson, beside it
// (configs/petra.yaml → configs/petra.geojson).
func siteMapPath(configPath string) string {
	return strings.TrimSuffix(configPath, filepath.Ext(configPath)) + ".geojson"
}

// loadSiteMap reads and checks the map beside the configuration. Without
// a file it answers nil and no error: the service then serves its zones
// without geometry, and the control room draws no map.
func loadSiteMap(configPath string, cfg *scheduler.Config) (*scheduler.SiteMap, string, error) {
	path := siteMapPath(configPath)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, path, nil
	}
	if err != nil {
		return nil, path, fmt.Errorf("read the zones' map: %w", err)
	}
	m, err := scheduler.ParseSiteMap(data, cfg)
	if err != nil {
		return nil, path, fmt.Errorf("%s: %w", path, err)
	}
	return m, path, nil
}

// printMapCheck says what config check found of the map.
func printMapCheck(w io.Writer, path string, m *scheduler.SiteMap) {
	if m == nil {
		fmt.Fprintf(w, "%s: none — the zones are served without geometry and the control room draws no map\n", path)
		return
	}
	fmt.Fprintf(w, "%s: ok — a geometry for each of the %d zones\n", path, len(m.Zones))
}
