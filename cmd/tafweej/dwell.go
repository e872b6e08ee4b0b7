package main

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/scheduler"
)

func newDwellCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dwell",
		Short: "How long visitors really stay in each zone (learned from the counters) against the configured stays",
		Long: "Prints each zone's mean configured stay, the stay learned from its people counters (GET /v1/forecast) and their ratio;\n" +
			"a zone not learned yet shows the site's factor it borrows. MODEL FACTOR is the one the zone model, the forecast and\n" +
			"metering use (fitted so that the admitted visitors are where the counters see them). 'tafweej dwell adopt' writes the learned figures\n" +
			"into the configuration's route stops, for planning.",
		Example: "  tafweej dwell\n  tafweej dwell adopt --config configs/petra.yaml            # show what would change\n" +
			"  tafweej dwell adopt --config configs/petra.yaml --write    # and write it",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fc, raw, err := fetchForecast(cmd, g)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(cmd.OutOrStdout(), raw)
			}
			var rows [][]string
			for _, d := range fc.Dwell {
				learned, source := "-", "configured"
				switch {
				case d.Learned:
					learned, source = fmt.Sprintf("%.1f", d.LearnedMinutes), "learned at "+d.At.Format("15:04")
				case d.FromSite:
					source = "site's factor (zone not learned yet)"
				}
				rows = append(rows, []string{d.Zone, fmt.Sprintf("%.1f", d.ConfiguredMinutes), learned, fmt.Sprintf("%.2f", d.Factor), fmt.Sprintf("%.2f", d.ModelFactor), source})
			}
			table(cmd.OutOrStdout(), "ZONE\tCONFIGURED MIN\tLEARNED MIN\tFACTOR\tMODEL FACTOR\tSOURCE", rows)
			return nil
		},
	}
	cmd.AddCommand(newDwellAdoptCmd(g))
	return cmd
}

func fetchForecast(cmd *cobra.Command, g *globals) (api.ForecastAnswer, []byte, error) {
	var fc api.ForecastAnswer
	c, err := g.client()
	if err != nil {
		return fc, nil, err
	}
	raw, err := c.call(cmd.Context(), "GET", "/v1/forecast", nil, &fc)
	return fc, raw, err
}

func newDwellAdoptCmd(g *globals) *cobra.Command {
	var path string
	var zones []string
	var write bool
	cmd := &cobra.Command{
		Use:   "adopt",
		Short: "Write the learned stays into the configuration's route stops (stay × factor, later stops moved by as much)",
		Long: "Reads the learned dwell of the running service and shows, stop by stop, what the configuration's routes become\n" +
			"with it: each stay in a learned zone times its factor (whole minutes), each later stop of the route arriving that\n" +
			"much later (the walks between stops unchanged). With --write the file is rewritten in place, comments kept, and\n" +
			"checked; restart the service with it to plan with the learned figures (days already booked that no longer fit show\n" +
			"in GET /v1/occupancy's overbooked and are re-planned with 'tafweej replan'). Only zones learned from their own\n" +
			"counters are adopted, never the site's borrowed factor.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				return usagef("e.g. --config configs/petra.yaml", "--config is required: the configuration file to adopt the learned stays into")
			}
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			fc, _, err := fetchForecast(cmd, g)
			if err != nil {
				return err
			}
			factor := map[string]float64{}
			for _, d := range fc.Dwell {
				if d.Learned && (len(zones) == 0 || slices.Contains(zones, d.Zone)) {
					factor[d.Zone] = d.Factor
				}
			}
			for _, z := range zones {
				if _, ok := cfg.Zone(z); !ok {
					return usagef("see 'tafweej dwell' for the zones", "--zone %q is not a zone of %s", z, path)
				}
				if _, ok := factor[z]; !ok {
					return fmt.Errorf("zone %q has no learned dwell yet (it needs an hour of counter data with visitors leaving)", z)
				}
			}
			changes := scheduler.AdoptDwell(cfg, factor)
			w := cmd.OutOrStdout()
			if g.json {
				return printJSON(w, changes)
			}
			if len(changes) == 0 {
				fmt.Fprintln(w, "Nothing to adopt: no zone is learned yet, or every learned stay rounds to the configured one.")
				return nil
			}
			var rows [][]string
			for _, c := range changes {
				rows = append(rows, []string{c.Route, strconv.Itoa(c.Stop + 1), c.Zone,
					fmt.Sprintf("%d → %d", c.Arrive, c.NewArrive), fmt.Sprintf("%d → %d", c.Stay, c.NewStay)})
			}
			table(w, "ROUTE\tSTOP\tZONE\tARRIVE\tSTAY", rows)
			if !write {
				fmt.Fprintf(w, "\nNot written: pass --write to change %s.\n", path)
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			out, err := rewriteStops(data, cfg, changes)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if _, err := scheduler.ParseConfig(out); err != nil {
				return fmt.Errorf("%s with the learned stays does not check (nothing written): %w", path, err)
			}
			if err := os.WriteFile(path, out, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(w, "\nWrote %s: %d stops changed. Restart the service with it to plan with them.\n", path, len(changes))
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "config", "", "the site configuration to adopt the learned stays into")
	cmd.Flags().StringSliceVar(&zones, "zone", nil, "adopt only these zones (repeatable; default every learned zone)")
	cmd.Flags().BoolVar(&write, "write", false, "rewrite the file (default: only show what would change)")
	return cmd
}

var (
	routeIDLine = regexp.MustCompile(`^\s*-\s*id:\s*"?([A-Za-z0-9_-]+)"?\s*(#.*)?$`)
	stopLine    = regexp.MustCompile(`^(\s*-\s*\{\s*zone:\s*"?[A-Za-z0-9_-]+"?\s*,\s*arrive:\s*)(\d+)(\s*,\s*stay:\s*)(\d+)(\s*\}.*)$`)
)

// rewriteStops changes the arrive and stay of the stops in data (the
// configuration's text) as changes say, keeping everything else, comments
// included. Each stop must be written on one line as a flow mapping
// ("- { zone: z, arrive: N, stay: M }"), as in configs/petra.yaml.
func rewriteStops(data []byte, cfg *scheduler.Config, changes []scheduler.StopChange) ([]byte, error) {
	want := map[string]map[int]scheduler.StopChange{}
	for _, c := range changes {
		if want[c.Route] == nil {
			want[c.Route] = map[int]scheduler.StopChange{}
		}
		want[c.Route][c.Stop] = c
	}
	lines := strings.Split(string(data), "\n")
	inRoutes, route, stop := false, "", 0
	done := 0
	for i, l := range lines {
		if len(l) > 0 && l[0] != ' ' && l[0] != '#' && l[0] != '-' {
			inRoutes = strings.HasPrefix(l, "routes:")
			continue
		}
		if !inRoutes {
			continue
		}
		if m := routeIDLine.FindStringSubmatch(l); m != nil {
			if _, ok := cfg.Route(m[1]); ok {
				route, stop = m[1], 0
			}
			continue
		}
		m := stopLine.FindStringSubmatch(l)
		if m == nil || route == "" {
			continue
		}
		if c, ok := want[route][stop]; ok {
			if a, _ := strconv.Atoi(m[2]); a != c.Arrive {
				return nil, fmt.Errorf("route %q stop %d: the file says arrive %d, the configuration %d", route, stop+1, a, c.Arrive)
			}
			lines[i] = m[1] + strconv.Itoa(c.NewArrive) + m[3] + strconv.Itoa(c.NewStay) + m[5]
			done++
		}
		stop++
	}
	if done != len(changes) {
		return nil, fmt.Errorf("found %d of the %d stops to change written as one-line flow mappings (\"- { zone: z, arrive: N, stay: M }\"); change the others by hand", done, len(changes))
	}
	return []byte(strings.Join(lines, "\n")), nil
}
