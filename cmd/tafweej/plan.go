package main

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tafweej/tafweej/api"
)

func newPlanCmd(g *globals) *cobra.Command {
	var date string
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Preview a whole-day re-plan by the batch planner (nothing is changed)",
		Long: `Ask the service what the batch day planner would do with a date's bookings:
every active, not yet admitted booking and every booking a closure cancelled
is planned at once (most visitors first, then fairness between operators,
then closeness to the current slot). On a planned day, the requests waiting
for the cut-off are planned with them, as if they were allotted now. Prints
the groups it would move, restore, place or leave out. Nothing is changed.
Needs an ops key.`,
		Example: "  tafweej plan --date 2026-12-01\n  tafweej plan --date 2026-12-01 --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if date == "" {
				return usagef("e.g. tafweej plan --date "+tomorrow(), "--date is required")
			}
			if err := checkDate("--date", date); err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "planning %s…\n", date)
			var p api.PlanPreview
			raw, err := c.call(cmd.Context(), "GET", "/v1/plan?date="+url.QueryEscape(date), nil, &p)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(cmd.OutOrStdout(), raw)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s: %d groups, %d visitors placed now; the plan places %d of %d (%d groups moved, %d visitors restored after closures), in %s\n",
				p.Date, p.Groups, p.Current, p.Plan.Visitors, p.Plan.Requested, p.Moved, p.Restorable, p.Took)
			if p.Requests > 0 {
				fmt.Fprintf(w, "%d requests wait for the cut-off: allotted now, %d of their visitors would be placed\n", p.Requests, p.RequestVisitors)
			}
			fmt.Fprintln(w)
			var ops []string
			for op := range p.Plan.ByOperator {
				ops = append(ops, op)
			}
			sort.Strings(ops)
			var rows [][]string
			for _, op := range ops {
				s := p.Plan.ByOperator[op]
				rows = append(rows, []string{op, strconv.Itoa(s.Requested), strconv.Itoa(s.Placed), fmt.Sprintf("%.0f%%", 100*s.Share)})
			}
			table(w, "OPERATOR\tREQUESTED\tPLACED\tSHARE", rows)
			rows = nil
			for _, ch := range p.Changes {
				from, to := "(not placed)", "(left out)"
				if ch.From != nil {
					from = ch.From.Format("15:04")
				}
				if ch.To != nil {
					to = ch.To.Format("15:04") + " " + ch.Gate
				}
				id := ch.Booking
				if ch.Request != "" {
					id, from = ch.Request, "(request)"
				}
				rows = append(rows, []string{id, ch.Operator, strconv.Itoa(ch.Visitors), from, to})
			}
			fmt.Fprintln(w)
			if len(rows) == 0 {
				fmt.Fprintln(w, "The plan keeps every group where it is.")
				return nil
			}
			table(w, "BOOKING/REQUEST\tOPERATOR\tVISITORS\tNOW\tPLAN", rows)
			return nil
		},
	}
	cmd.Flags().StringVar(&date, "date", "", "day, YYYY-MM-DD (required)")
	return cmd
}
