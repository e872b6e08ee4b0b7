package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tafweej/tafweej/api"
)

func newConsoleLinkCmd(g *globals) *cobra.Command {
	var gate string
	var ops bool
	cmd := &cobra.Command{
		Use:   "console-link (--gate ID | --ops)",
		Short: "Print a sign-in link for the gate console or the control room, valid 10 minutes, once",
		Long: `Print a link that signs a device in to the web console, so that nobody types or
pastes an API key into a tablet. Open it on the device (or turn it into a QR code)
within 10 minutes: the page takes the link's token out of the address bar and its
history at once and exchanges it, once, for the device's own key (a gate key for
that gate, or an ops key). A link that was used or has expired opens nothing.
Needs an ops key.`,
		Example: `  tafweej console-link --gate visitor-centre
  tafweej console-link --ops
  tafweej console-link --gate little-petra | qrencode -t ansiutf8   # show it as a QR code`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (gate == "") == !ops {
				return usagef("e.g. tafweej console-link --gate visitor-centre, or tafweej console-link --ops",
					"give either --gate ID (the gate console of that gate) or --ops (the control room)")
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			body := api.ConsoleLinkRequest{Console: api.ConsoleOps}
			if gate != "" {
				body = api.ConsoleLinkRequest{Console: api.ConsoleGate, Gate: gate}
			}
			var l api.ConsoleLink
			raw, err := c.call(cmd.Context(), "POST", "/v1/console-links", body, &l)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(cmd.OutOrStdout(), raw)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintln(w, c.base+l.Path)
			what := "the control room (/ops)"
			if l.Gate != "" {
				what = "the gate console (/gate) at " + l.Gate
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Signs one device in to %s; open it before %s. It works once.\n",
				what, l.ExpiresAt.Format("15:04"))
			return nil
		},
	}
	cmd.Flags().StringVar(&gate, "gate", "", "a link to the gate console of this gate")
	cmd.Flags().BoolVar(&ops, "ops", false, "a link to the control room")
	return cmd
}
