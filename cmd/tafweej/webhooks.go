package main

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/store"
)

func newWebhooksCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "webhooks",
		Short: "Your webhook endpoints: signed events when your bookings or requests change",
		Long: `An operator's endpoint receives a signed POST (Standard Webhooks: webhook-id,
webhook-timestamp, webhook-signature) for each event of the operator's own bookings and
requests: booking.moved (old and new wave, why), booking.cancelled (why),
booking.admitted, request.allotted, request.not_placed, and zone.closed / zone.reopened
when a closure touches the operator's bookings. Failed deliveries are retried with
backoff; the webhook-id stays the same on every retry. Use an operator key.`,
		Example: `  tafweej webhooks add https://hooks.example.com/tafweej
  tafweej webhooks list
  tafweej webhooks deliveries wh_3f9a...
  tafweej webhooks replay wh_3f9a... msg_...
  tafweej webhooks rotate wh_3f9a...
  tafweej webhooks remove wh_3f9a...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:     "add URL",
			Short:   "Register an endpoint; prints its signing secret once",
			Example: "  tafweej webhooks add https://hooks.example.com/tafweej",
			Args:    exactArgs(1, "tafweej webhooks add https://hooks.example.com/tafweej"),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := g.client()
				if err != nil {
					return err
				}
				var out api.WebhookCreated
				if err := c.do(cmd.Context(), "POST", "/v1/webhooks", api.WebhookRequest{URL: args[0]}, &out); err != nil {
					return err
				}
				if g.json {
					return printJSON(cmd.OutOrStdout(), out)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Endpoint %s registered for %s\n  secret: %s\n  (shown once: keep it to verify webhook-signature; 'tafweej webhooks rotate %s' makes a new one)\n",
					out.ID, out.URL, out.Secret, out.ID)
				return nil
			},
		},
		&cobra.Command{
			Use:     "list",
			Short:   "List your endpoints",
			Example: "  tafweej webhooks list",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				c, err := g.client()
				if err != nil {
					return err
				}
				var out api.WebhookList
				if err := c.do(cmd.Context(), "GET", "/v1/webhooks", nil, &out); err != nil {
					return err
				}
				if g.json {
					return printJSON(cmd.OutOrStdout(), out)
				}
				var rows [][]string
				for _, h := range out.Webhooks {
					rot := "-"
					if !h.RotatedAt.IsZero() {
						rot = h.RotatedAt.Format("2006-01-02 15:04")
					}
					rows = append(rows, []string{h.ID, h.URL, h.CreatedAt.Format("2006-01-02 15:04"), rot})
				}
				table(cmd.OutOrStdout(), "ID\tURL\tCREATED\tSECRET ROTATED", rows)
				return nil
			},
		},
		&cobra.Command{
			Use:     "remove ID",
			Short:   "Remove an endpoint and its deliveries",
			Example: "  tafweej webhooks remove wh_3f9a...",
			Args:    exactArgs(1, "tafweej webhooks remove wh_3f9a..."),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := g.client()
				if err != nil {
					return err
				}
				if err := c.do(cmd.Context(), "DELETE", "/v1/webhooks/"+url.PathEscape(args[0]), nil, nil); err != nil {
					return err
				}
				if g.json {
					return printJSON(cmd.OutOrStdout(), map[string]any{"id": args[0], "removed": true})
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Removed endpoint %s.\n", args[0])
				return nil
			},
		},
		&cobra.Command{
			Use:     "rotate ID",
			Short:   "Give an endpoint a new signing secret (the old one still signs for a day)",
			Example: "  tafweej webhooks rotate wh_3f9a...",
			Args:    exactArgs(1, "tafweej webhooks rotate wh_3f9a..."),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := g.client()
				if err != nil {
					return err
				}
				var out api.WebhookCreated
				if err := c.do(cmd.Context(), "POST", "/v1/webhooks/"+url.PathEscape(args[0])+"/rotate", nil, &out); err != nil {
					return err
				}
				if g.json {
					return printJSON(cmd.OutOrStdout(), out)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "New secret of %s: %s\n  (shown once; for a day deliveries are signed with the old secret too)\n", out.ID, out.Secret)
				return nil
			},
		},
		&cobra.Command{
			Use:     "deliveries ID",
			Short:   "What was sent to an endpoint, how it answered, and what is waiting",
			Example: "  tafweej webhooks deliveries wh_3f9a...\n  tafweej webhooks deliveries wh_3f9a... --json   # with each payload",
			Args:    exactArgs(1, "tafweej webhooks deliveries wh_3f9a..."),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := g.client()
				if err != nil {
					return err
				}
				var out api.WebhookDeliveryList
				if err := c.do(cmd.Context(), "GET", "/v1/webhooks/"+url.PathEscape(args[0])+"/deliveries", nil, &out); err != nil {
					return err
				}
				if g.json {
					return printJSON(cmd.OutOrStdout(), out)
				}
				var rows [][]string
				for _, d := range out.Deliveries {
					answer := "-"
					switch {
					case d.ResponseCode != 0:
						answer = fmt.Sprintf("HTTP %d", d.ResponseCode)
					case d.Error != "":
						answer = shorten(d.Error, 50)
					}
					when := d.CreatedAt.Local().Format("2006-01-02 15:04:05")
					next := "-"
					if d.Status == store.DeliveryPending && !d.NextAttempt.IsZero() {
						next = d.NextAttempt.Local().Format(time.TimeOnly)
					}
					rows = append(rows, []string{d.ID, d.Type, d.Status, fmt.Sprint(d.Attempts), answer, next, when})
				}
				table(cmd.OutOrStdout(), "WEBHOOK-ID\tTYPE\tSTATUS\tATTEMPTS\tLAST ANSWER\tNEXT TRY\tCREATED", rows)
				return nil
			},
		},
		&cobra.Command{
			Use:     "replay ID DELIVERY",
			Short:   "Send a delivery again, with the same webhook-id",
			Example: "  tafweej webhooks replay wh_3f9a... msg_...",
			Args:    exactArgs(2, "tafweej webhooks replay wh_3f9a... msg_..."),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := g.client()
				if err != nil {
					return err
				}
				var out store.WebhookDelivery
				if err := c.do(cmd.Context(), "POST", "/v1/webhooks/"+url.PathEscape(args[0])+"/deliveries/"+url.PathEscape(args[1])+"/replay", nil, &out); err != nil {
					return err
				}
				if g.json {
					return printJSON(cmd.OutOrStdout(), out)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Delivery %s (%s) is queued again.\n", out.ID, out.Type)
				return nil
			},
		},
	)
	return cmd
}

// exactArgs is cobra.ExactArgs as a usage error with an example.
func exactArgs(n int, example string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("e.g. "+example, "%s takes %d argument(s), got %d", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}

func shorten(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
