package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tafweej/tafweej/api"
)

func newSensorsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sensors",
		Short: "People counters: last totals, suspect sensors (ops key)",
		Long: `List the people counters with their last applied totals. A sensor is suspect
once it sent a reading no crowd can produce (rules clock, monotonic, rate,
new_boot, out_exceeds_in): that reading was dead-lettered with reason
implausible and not applied, and the zone's live occupancy is carried by the
sensor's last good totals and the other sensors. 'sensors trust SENSOR'
accepts its latest totals as its new baseline.`,
		Example: "  tafweej sensors\n  tafweej sensors trust siq-n1",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			var l api.SensorList
			if err := c.do(cmd.Context(), "GET", "/v1/sensors", nil, &l); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), l)
			}
			rows := make([][]string, 0, len(l.Sensors))
			for _, s := range l.Sensors {
				at, state := "-", "ok"
				if s.At != nil {
					at = s.At.Format("15:04:05")
				}
				if s.Suspect {
					state = "SUSPECT (" + s.SuspectRule + ")"
					if s.Pending != nil {
						state += fmt.Sprintf(", latest in %d out %d", s.Pending.In, s.Pending.Out)
					}
				}
				rows = append(rows, []string{s.Sensor, s.Zone, s.Boot, strconv.FormatUint(s.Seq, 10),
					strconv.FormatInt(s.In, 10), strconv.FormatInt(s.Out, 10), at, state})
			}
			table(cmd.OutOrStdout(), "SENSOR\tZONE\tBOOT\tSEQ\tIN\tOUT\tAT\tSTATE", rows)
			return nil
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use:     "trust SENSOR",
		Short:   "Accept a suspect sensor's latest totals as its new baseline",
		Example: "  tafweej sensors trust siq-n1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if err := c.do(cmd.Context(), "POST", "/v1/sensors/"+args[0]+"/trust", nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Sensor %s trusted: its current totals are its new baseline.\n", args[0])
			return nil
		},
	})
	return cmd
}
