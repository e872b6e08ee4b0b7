package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/tafweej/tafweej/internal/cluster"
)

func newClusterCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "cluster",
		Short: "Show a replicated site's owner and instances (ops key; any instance answers)",
		Long: `Show the site's owner and every instance of a site run with 'serve --replicas',
as GET /v1/cluster answers it: each instance's role (owner or standby), its
--advertise-http address and the last log sequence it applied.`,
		Example: `  tafweej cluster --server http://n2:8080
  tafweej cluster --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			var st cluster.Status
			raw, err := c.call(cmd.Context(), "GET", "/v1/cluster", nil, &st)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(cmd.OutOrStdout(), raw)
			}
			w := cmd.OutOrStdout()
			if st.Owner == nil {
				fmt.Fprintf(w, "site %s: no owner at the moment\n", st.Site)
			} else {
				fmt.Fprintf(w, "site %s: owned by %s (%s) since %s\n", st.Site, st.Owner.ID, st.Owner.HTTP, st.Owner.Since.Format(time.RFC3339))
			}
			var rows [][]string
			for _, in := range st.Instances {
				rows = append(rows, []string{in.ID, in.Role, in.HTTP, strconv.FormatUint(in.Applied, 10)})
			}
			table(w, "INSTANCE\tROLE\tHTTP\tAPPLIED", rows)
			return nil
		},
	}
}
