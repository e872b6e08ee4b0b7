package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/scheduler"
)

func newReplanCmd(g *globals) *cobra.Command {
	var date string
	cmd := &cobra.Command{
		Use:   "replan",
		Short: "Re-plan a date whose bookings are over the capacity now configured (after lowering capacities)",
		Long: `After a restart with lower capacities in the configuration, the bookings already
made are kept as they were: the log, 'tafweej status', GET /v1/occupancy and the metrics
tafweej_overbooked_waves and tafweej_overbooked_zone_dates name the dates over capacity.
replan re-plans one such date as a capacity cut does: the bookings meeting a zone or wave
over capacity (nobody admitted yet) are moved to waves with room, or cancelled if the day
has none left, with the reason "over capacity". Operators see the reason on their bookings.`,
		Example: `  tafweej status                      # lists the dates over capacity, if any
  tafweej replan --date 2026-12-01`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if date == "" {
				return usagef("e.g. tafweej replan --date 2026-12-01 ('tafweej status' lists the dates over capacity)", "--date is required")
			}
			if _, err := time.Parse(time.DateOnly, date); err != nil {
				return usagef("e.g. tafweej replan --date 2026-12-01", "--date %q is not a date of the form YYYY-MM-DD", date)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			var p scheduler.Replanned
			if err := c.do(cmd.Context(), "POST", "/v1/replan", api.ReplanRequest{Date: date}, &p); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), p)
			}
			w := cmd.OutOrStdout()
			if p.Bookings == 0 {
				fmt.Fprintf(w, "%s: nothing over capacity to re-plan.\n", p.Date)
				return nil
			}
			fmt.Fprintf(w, "%s: %d waves and %d zones were over capacity; %d bookings re-planned:\n", p.Date, p.WavesOver, p.ZoneDaysOver, p.Bookings)
			fmt.Fprintf(w, "  moved      %d (%d of them outside the window asked for)\n", p.Moved, p.LeftWindow)
			fmt.Fprintf(w, "  cancelled  %d (%d visitors: no room left that day)\n", p.Cancelled, p.CancelledVisitors)
			fmt.Fprintf(w, "  unchanged  %d\n", p.Unchanged)
			if p.WavesLeft+p.ZoneDaysLeft > 0 {
				fmt.Fprintf(w, "Still over capacity: %d waves and %d zones, filled by groups already admitted.\n", p.WavesLeft, p.ZoneDaysLeft)
			}
			fmt.Fprintf(w, "Bookings moved or cancelled carry the reason %q: tafweej bookings --date %s\n", p.Reason, p.Date)
			return nil
		},
	}
	cmd.Flags().StringVar(&date, "date", "", "date to re-plan, YYYY-MM-DD")
	return cmd
}

// printOverbooked is the status's section on the dates over the capacity
// now configured: per date, the zones at their worst and the waves by gate,
// and the command that fixes it.
func printOverbooked(w io.Writer, dates []scheduler.DateOverage) {
	if len(dates) == 0 {
		return
	}
	waves, zones := 0, 0
	for _, d := range dates {
		waves += d.Waves
		zones += d.ZoneDays
	}
	plural := "s"
	if len(dates) == 1 {
		plural = ""
	}
	fmt.Fprintf(w, "\n*** OVER CAPACITY: %d waves and %d zone-days on %d date%s hold more than the capacity now configured ***\n", waves, zones, len(dates), plural)
	var rows [][]string
	for _, d := range dates {
		for _, z := range d.Zones {
			rows = append(rows, []string{d.Date, "zone " + z.Zone, fmt.Sprintf("%d/%d", z.Planned, z.Capacity),
				z.From.Format("15:04") + "-" + z.Until.Format("15:04"), d.Fix})
		}
		for _, g := range d.Gates {
			rows = append(rows, []string{d.Date, fmt.Sprintf("gate %s: %d waves", g.Gate, g.Waves), fmt.Sprintf("%d/%d", g.Booked, g.Capacity),
				"fullest " + g.Slot.Format("15:04"), d.Fix})
		}
	}
	table(w, "DATE\tOVER\tPLANNED/CAP\tWHEN\tFIX", rows)
}
