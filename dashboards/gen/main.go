// Command gen writes the Grafana dashboards of package dashboards as JSON
// files. Run it from the repository root after changing a definition:
//
//	go run ./dashboards/gen
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tafweej/tafweej/dashboards"
)

func main() {
	dir := flag.String("out", "dashboards", "directory to write the dashboards to")
	flag.Parse()
	files, err := dashboards.All()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	for _, f := range files {
		path := filepath.Join(*dir, f.Name)
		if err := os.WriteFile(path, f.JSON, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		fmt.Println("wrote", path)
	}
}
