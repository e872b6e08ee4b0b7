package main

import (
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/spf13/cobra"
)

// Requests of planned days: on the dates of the site's request window,
// operators request entries until the cut-off, and the day planner allots
// them all at once.

type requestJS struct {
	ID        string            `json:"id"`
	Operator  string            `json:"operator"`
	Date      string            `json:"date"`
	Route     string            `json:"route"`
	PartySize int               `json:"party_size"`
	Window    map[string]string `json:"window"`
	Preferred string            `json:"preferred"`
	Status    string            `json:"status"`
	Reason    string            `json:"reason"`
	Cutoff    time.Time         `json:"cutoff"`
	Booking   *bookingJS        `json:"booking"`
}

func newRequestCmd(g *globals) *cobra.Command {
	var gr group
	var preferred string
	cmd := &cobra.Command{
		Use:   "request",
		Short: "Request an entry on a planned day; the day planner allots all requests at the cut-off",
		Long: `On the dates of the site's request window (configs/petra.yaml: policy.request_window)
groups are not booked first come first served: operators submit requests until the
date's cut-off, then the day planner places them all at once, as many visitors as
fit, fairly between operators, near each group's preferred start. See the outcome
with 'tafweej requests ID'.`,
		Example: `  tafweej request --date 2027-04-06 --route monastery --party 40 --window 08:00-11:00 --preferred 09:00 --ref TRIP-118`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body, err := gr.body("tafweej request --date 2027-04-06 --route main --party 40 --window 08:00-11:00")
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			if preferred != "" {
				if err := checkClock("--preferred", preferred, "09:00"); err != nil {
					return err
				}
				body["preferred"] = preferred
			}
			var q requestJS
			raw, err := c.call(cmd.Context(), "POST", "/v1/requests", body, &q, "Idempotency-Key", gr.idem)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(cmd.OutOrStdout(), raw)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Requested %s: %d visitors on route %s, %s %s-%s\n", q.ID, q.PartySize, q.Route, q.Date, q.Window["from"], q.Window["to"])
			fmt.Fprintf(w, "  requests close %s; the day planner allots them then\n", q.Cutoff.Format("2006-01-02 15:04 -07:00"))
			fmt.Fprintf(w, "  outcome: tafweej requests %s\n", q.ID)
			return nil
		},
	}
	gr.flags(cmd, "planned day, YYYY-MM-DD")
	cmd.Flags().StringVar(&preferred, "preferred", "", "preferred entry, HH:MM in the window (default: its start)")
	return cmd
}

func newRequestsCmd(g *globals) *cobra.Command {
	var date string
	cmd := &cobra.Command{
		Use:     "requests [ID]",
		Short:   "List your requests of planned days, or show one and its booking",
		Example: "  tafweej requests --date 2027-04-06\n  tafweej requests rq_4f1c2a",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if date != "" {
				if err := checkDate("--date", date); err != nil {
					return err
				}
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			if len(args) == 1 {
				var q requestJS
				raw, err := c.call(cmd.Context(), "GET", "/v1/requests/"+url.PathEscape(args[0]), nil, &q)
				if err != nil {
					return err
				}
				if g.json {
					return printRaw(cmd.OutOrStdout(), raw)
				}
				printRequest(cmd.OutOrStdout(), c.base, q)
				return nil
			}
			var out struct {
				Requests []requestJS `json:"requests"`
			}
			q := ""
			if date != "" {
				q = "?date=" + url.QueryEscape(date)
			}
			raw, err := c.call(cmd.Context(), "GET", "/v1/requests"+q, nil, &out)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(cmd.OutOrStdout(), raw)
			}
			var rows [][]string
			for _, q := range out.Requests {
				rows = append(rows, []string{q.ID, q.Operator, q.Date, q.Route, fmt.Sprint(q.PartySize),
					q.Window["from"] + "-" + q.Window["to"], q.Preferred, q.Status, q.Cutoff.Format("2006-01-02 15:04")})
			}
			table(cmd.OutOrStdout(), "ID\tOPERATOR\tDATE\tROUTE\tPARTY\tWINDOW\tPREFERRED\tSTATUS\tCUT-OFF", rows)
			return nil
		},
	}
	cmd.Flags().StringVar(&date, "date", "", "only this day, YYYY-MM-DD")
	return cmd
}

func printRequest(w io.Writer, base string, q requestJS) {
	fmt.Fprintf(w, "Request %s of %s: %d visitors on route %s, %s %s-%s", q.ID, q.Operator, q.PartySize, q.Route, q.Date, q.Window["from"], q.Window["to"])
	if q.Preferred != "" {
		fmt.Fprintf(w, " (preferred %s)", q.Preferred)
	}
	fmt.Fprintf(w, "\n  status  %s\n", q.Status)
	switch {
	case q.Status == "pending":
		fmt.Fprintf(w, "  the day planner allots it after the cut-off, %s\n", q.Cutoff.Format("2006-01-02 15:04 -07:00"))
	case q.Booking != nil:
		b := q.Booking
		fmt.Fprintf(w, "  booking %s: wave %s at gate %s (%s)\n", b.ID, b.Slot.Format("2006-01-02 15:04 -07:00"), b.Gate, b.Status)
		if b.Ticket != "" {
			fmt.Fprintf(w, "  ticket  %s\n  QR      %s%s\n", b.Ticket, base, b.TicketURL)
		}
	case q.Reason != "":
		fmt.Fprintf(w, "  reason  %s\n", q.Reason)
	}
}

func newWithdrawCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "withdraw ID",
		Short:   "Withdraw a request of a planned day before its cut-off",
		Example: "  tafweej withdraw rq_4f1c2a",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			var q requestJS
			raw, err := c.call(cmd.Context(), "DELETE", "/v1/requests/"+url.PathEscape(args[0]), nil, &q)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(cmd.OutOrStdout(), raw)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Withdrew %s (%d visitors on %s)\n", q.ID, q.PartySize, q.Date)
			return nil
		},
	}
}
