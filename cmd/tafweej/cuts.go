package main

import (
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/tafweej/tafweej/scheduler"
)

func newCutCmd(g *globals) *cobra.Command {
	var zone, gate, from, until, reason string
	var capacity int
	cmd := &cobra.Command{
		Use:   "cut",
		Short: "Lower a zone's capacity or a gate's wave capacity for a while; bookings over it are re-planned",
		Long: `A capacity cut keeps a zone or gate open at a lower figure (rain on the Siq's stones,
works on the path, fewer staff at a gate). Allotment keeps under it while it is in force, and
the bookings already over it are moved to other waves (or cancelled if the day has no room
left), with the cut's reason. To stop admissions altogether, use 'tafweej close'.`,
		Example: `  tafweej cut --zone siq --capacity 600 --until 2026-12-01T14:00:00+03:00 --reason "rain: slippery path"
  tafweej cut --gate visitor-centre --capacity 200 --from 2026-12-01T08:00:00+03:00 --until 2026-12-01T10:00:00+03:00 --reason "two lanes closed"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (zone == "") == (gate == "") || capacity == 0 || until == "" || reason == "" {
				return usagef(`e.g. tafweej cut --zone siq --capacity 600 --until 2026-12-01T14:00:00+03:00 --reason rain`,
					"--zone or --gate (one), --capacity, --until and --reason are required")
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			body := map[string]any{"capacity": capacity, "until": until, "reason": reason}
			if zone != "" {
				body["zone"] = zone
			} else {
				body["gate"] = gate
			}
			if from != "" {
				body["from"] = from
			}
			var cu scheduler.CapacityCut
			if err := c.do(cmd.Context(), "POST", "/v1/cuts", body, &cu); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), cu)
			}
			what := "zone " + cu.Zone
			if cu.Gate != "" {
				what = "gate " + cu.Gate + " (a wave)"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Cut %s to %d from %s until %s (%s) as %s.\n  Moved bookings: tafweej bookings --date %s. Lift with: tafweej lift %s\n",
				what, cu.Capacity, cu.From.Format("2006-01-02 15:04"), cu.Until.Format("2006-01-02 15:04"), cu.Reason, cu.ID,
				cu.From.Format("2006-01-02"), cu.ID)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&zone, "zone", "", "zone to cut")
	f.StringVar(&gate, "gate", "", "gate whose wave capacity to cut")
	f.IntVar(&capacity, "capacity", 0, "capacity while the cut is in force (below the configured one)")
	f.StringVar(&from, "from", "", "start, RFC 3339 (default: now)")
	f.StringVar(&until, "until", "", "end, RFC 3339")
	f.StringVar(&reason, "reason", "", "why (shown to operators on moved bookings)")
	return cmd
}

func newCutsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "cuts",
		Short:   "List the capacity cuts in force now or later",
		Example: "  tafweej cuts",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			var out struct {
				Cuts []scheduler.CapacityCut `json:"cuts"`
			}
			if err := c.do(cmd.Context(), "GET", "/v1/cuts", nil, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out.Cuts)
			}
			var rows [][]string
			for _, cu := range out.Cuts {
				what := "zone " + cu.Zone
				if cu.Gate != "" {
					what = "gate " + cu.Gate
				}
				rows = append(rows, []string{cu.ID, what, fmt.Sprint(cu.Capacity), cu.From.Format("2006-01-02 15:04"),
					cu.Until.Format("2006-01-02 15:04"), cu.Reason})
			}
			table(cmd.OutOrStdout(), "ID\tWHAT\tCAPACITY\tFROM\tUNTIL\tREASON", rows)
			return nil
		},
	}
}

func newLiftCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "lift CUT-ID",
		Short:   "Lift a capacity cut: the capacity returns at once, moved bookings stay",
		Example: "  tafweej lift cu_8e21f0",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			var cu scheduler.CapacityCut
			if err := c.do(cmd.Context(), "DELETE", "/v1/cuts/"+url.PathEscape(args[0]), nil, &cu); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), cu)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Lifted: capacity cut %s (%s).\n", cu.ID, cu.Reason)
			return nil
		},
	}
}
