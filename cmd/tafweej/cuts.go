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
			if capacity < 1 {
				return usagef("e.g. --capacity 600", "--capacity %d is not a capacity: accepted are 1 up to one less than the configured capacity", capacity)
			}
			if err := checkInstant("--until", until); err != nil {
				return err
			}
			if from != "" {
				if err := checkInstant("--from", from); err != nil {
					return err
				}
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
			raw, err := c.call(cmd.Context(), "POST", "/v1/cuts", body, &cu)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(cmd.OutOrStdout(), raw)
			}
			what := "zone " + cu.Zone
			if cu.Gate != "" {
				what = "gate " + cu.Gate + " (a wave)"
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Cut %s to %d from %s until %s (%s) as %s.\n",
				what, cu.Capacity, cu.From.Format("2006-01-02 15:04"), cu.Until.Format("2006-01-02 15:04"), cu.Reason, cu.ID)
			printReplanned(w, cu.Replanned)
			fmt.Fprintf(w, "  See them: tafweej bookings --date %s. Lift with: tafweej lift %s\n", cu.From.Format("2006-01-02"), cu.ID)
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
			raw, err := c.call(cmd.Context(), "GET", "/v1/cuts", nil, &out)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(cmd.OutOrStdout(), raw)
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
			raw, err := c.call(cmd.Context(), "DELETE", "/v1/cuts/"+url.PathEscape(args[0]), nil, &cu)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(cmd.OutOrStdout(), raw)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Lifted: capacity cut %s (%s).\n", cu.ID, cu.Reason)
			return nil
		},
	}
}
