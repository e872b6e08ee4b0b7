package main

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Work with site configuration files"}
	cmd.AddCommand(&cobra.Command{
		Use:     "check [FILE]",
		Short:   "Check a site configuration and report every problem with its line and field",
		Example: "  tafweej config check configs/petra.yaml",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "configs/petra.yaml"
			if len(args) == 1 {
				path = args[0]
			}
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			m, mapPath, err := loadSiteMap(path, cfg)
			if err != nil {
				return err
			}
			count := func(n int, what string) string {
				if n == 1 {
					return "1 " + what
				}
				return fmt.Sprintf("%d %ss", n, what)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok — site %q, %s, %s, %s, %s, %d-minute waves, time zone %s\n",
				path, cfg.Site, count(len(cfg.Gates), "gate"), count(len(cfg.Zones), "zone"), count(len(cfg.Routes), "route"),
				count(len(cfg.Sensors), "sensor"), cfg.SlotMinutes, cfg.TimeZone)
			printMapCheck(cmd.OutOrStdout(), mapPath, m)
			return nil
		},
	})
	return cmd
}

func newKeysCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Create, list and revoke API keys, and replace the ops key (ops key required)"}
	var operator, role, name string
	var gates []string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an API key for an operator, a gate device or operations; the secret is shown once",
		Example: `  tafweej keys create --operator jett-tours
  tafweej keys create --role gate --gate visitor-centre --name "VC lane 3"
  tafweej keys create --role ops --name "night shift"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if role == "" {
				role = "operator"
			}
			if role == "operator" && operator == "" {
				return usagef("e.g. tafweej keys create --operator jett-tours", "an operator key needs --operator ID")
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			var out map[string]any
			body := map[string]any{"role": role}
			for k, v := range map[string]string{"operator": operator, "name": name} {
				if v != "" {
					body[k] = v
				}
			}
			if len(gates) > 0 {
				body["gates"] = gates
			}
			raw, err := c.call(cmd.Context(), "POST", "/v1/keys", body, &out)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(cmd.OutOrStdout(), raw)
			}
			article := "a"
			if role == "operator" || role == "ops" {
				article = "an"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Created %s %s key%s. It is shown only this once:\n\n  %v\n\nUse it with --key or TAFWEEJ_KEY.\n",
				article, role, map[bool]string{true: " for operator " + operator}[operator != ""], out["key"])
			return nil
		},
	}
	create.Flags().StringVar(&operator, "operator", "", "operator id (operator role)")
	create.Flags().StringVar(&role, "role", "", "operator, gate or ops (default operator)")
	create.Flags().StringSliceVar(&gates, "gate", nil, "gate role: the gates it may scan at (default all)")
	create.Flags().StringVar(&name, "name", "", "a label for the key")
	cmd.AddCommand(create, newKeysListCmd(g), newKeysRevokeCmd(g), newKeysRotateOpsCmd(g))
	return cmd
}

func newKeysListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List the API keys: id, role, operator, name, prefix, creation time (never the secret)",
		Example: "  tafweej keys list\n  tafweej keys list --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			var out api.KeyList
			if err := c.do(cmd.Context(), "GET", "/v1/keys", nil, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			var rows [][]string
			for _, k := range out.Keys {
				name := k.Name
				if k.OpsFile {
					name += " [ops.key]"
				}
				rows = append(rows, []string{k.ID, k.Role, k.Operator, strings.Join(k.Gates, ","), name, k.Prefix + "…", k.CreatedAt.Format("2006-01-02 15:04")})
			}
			table(cmd.OutOrStdout(), "ID\tROLE\tOPERATOR\tGATES\tNAME\tPREFIX\tCREATED", rows)
			return nil
		},
	}
}

func newKeysRevokeCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke KEY-ID",
		Short: "Revoke an API key: it is refused at once (API, console, event streams)",
		Long: `Revoke an API key by its id (see 'tafweej keys list'). The key is refused from the
next request on, and open event streams of the console using it end. The last ops key
cannot be revoked; replace it with 'tafweej keys rotate-ops'.`,
		Example: "  tafweej keys revoke key_3f9a1c2b7d10",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			var k api.KeyInfo
			if err := c.do(cmd.Context(), "DELETE", "/v1/keys/"+url.PathEscape(args[0]), nil, &k); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), k)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Revoked %s (%s key%s, %s…).\n", k.ID, k.Role,
				map[bool]string{true: " of " + k.Operator}[k.Operator != ""], k.Prefix)
			return nil
		},
	}
}

func newKeysRotateOpsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate-ops",
		Short: "Replace the ops key: the service writes a new one to its ops.key and revokes the old one",
		Long: `Replace the ops key kept in the service's data directory (DIR/ops.key): the service
makes a new ops key, writes its secret to that file (mode 0600) and revokes the key the file
held before, which is refused from then on. Other ops keys (made with 'keys create --role ops')
are kept.

If ops.key is lost, deleting it and restarting the service has the same effect: a new key
is written and the old one revoked (the log says so).`,
		Example: "  tafweej keys rotate-ops\n  export TAFWEEJ_KEY=$(cat data/ops.key)",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			var out api.KeyRotated
			if err := c.do(cmd.Context(), "POST", "/v1/keys/rotate-ops", nil, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "New ops key %s written to %s on the service's machine.\n", out.ID, out.File)
			for _, k := range out.Revoked {
				fmt.Fprintf(cmd.OutOrStdout(), "Revoked the old ops key %s (%s…).\n", k.ID, k.Prefix)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Use the new key: export TAFWEEJ_KEY=$(cat %s)\n", out.File)
			return nil
		},
	}
}

func newStatusCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "status",
		Short:   "Live versus planned occupancy per zone, the next waves, holds, closures and capacity cuts",
		Example: "  tafweej status\n  watch -n 5 tafweej status",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			var s api.Status
			raw, err := c.call(cmd.Context(), "GET", "/v1/status", nil, &s)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(cmd.OutOrStdout(), raw)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s  (clock: %s)\n", s.At.Format("2006-01-02 15:04:05 -07:00"), s.Clock)
			if s.SiteClosed {
				fmt.Fprintf(w, "\n*** SITE CLOSED — EVACUATION: %d counted inside, %d admitted visitors not yet out ***\n", s.Evacuation.Live, s.Evacuation.Inside)
			}
			var rows [][]string
			for _, z := range s.Zones {
				state := ""
				switch {
				case z.Closed:
					state = "CLOSED"
				case z.Held:
					state = "HELD"
				}
				rows = append(rows, []string{z.Zone, strconv.Itoa(z.Live), strconv.Itoa(z.Planned), strconv.Itoa(z.Inside),
					strconv.Itoa(z.Capacity), pct(z.Live, z.Capacity), bar(z.Live, z.Capacity, z.HoldAt), state})
			}
			fmt.Fprintln(w)
			table(w, "ZONE\tLIVE\tPLANNED\tADMITTED INSIDE\tCAPACITY\tLIVE %\t\tSTATE", rows)
			rows = nil
			for _, wv := range s.Waves {
				held := ""
				if wv.Held {
					held = "held"
				}
				rows = append(rows, []string{wv.Slot.Format("15:04"), wv.Gate, strconv.Itoa(wv.Groups), fmt.Sprintf("%d/%d", wv.Booked, wv.Capacity),
					strconv.Itoa(wv.Admitted), strconv.Itoa(wv.NoShow), held})
			}
			fmt.Fprintln(w)
			if len(rows) == 0 {
				fmt.Fprintln(w, "No booked waves in the coming hours.")
			} else {
				table(w, "WAVE\tGATE\tGROUPS\tBOOKED/CAP\tADMITTED\tNO-SHOW\t", rows)
			}
			rows = nil
			for _, cl := range s.Closures {
				zones := strings.Join(cl.Zones, ",")
				if zones == "" {
					zones = "WHOLE SITE"
				}
				rows = append(rows, []string{cl.ID, zones, cl.Reason, cl.Source, cl.From.Format("15:04")})
			}
			if len(rows) > 0 {
				fmt.Fprintln(w)
				table(w, "CLOSURE\tZONES\tREASON\tSOURCE\tSINCE", rows)
			}
			rows = nil
			for _, cu := range s.Cuts {
				what := "zone " + cu.Zone
				if cu.Gate != "" {
					what = "gate " + cu.Gate
				}
				rows = append(rows, []string{cu.ID, what, strconv.Itoa(cu.Capacity), cu.From.Format("01-02 15:04"), cu.Until.Format("01-02 15:04"), cu.Reason})
			}
			if len(rows) > 0 {
				fmt.Fprintln(w)
				table(w, "CAPACITY CUT\tWHAT\tCAPACITY\tFROM\tUNTIL\tREASON", rows)
			}
			rows = nil
			for _, d := range s.Dwell {
				if d.Learned {
					rows = append(rows, []string{d.Zone, fmt.Sprintf("%.1f", d.ConfiguredMinutes), fmt.Sprintf("%.1f", d.LearnedMinutes), fmt.Sprintf("%.2f", d.Factor)})
				}
			}
			if len(rows) > 0 {
				fmt.Fprintln(w)
				table(w, "DWELL	CONFIGURED MIN	LEARNED MIN	FACTOR", rows)
			}
			rows = nil
			for _, h := range s.HeldBack {
				rows = append(rows, []string{h.Gate, h.Slot.Format("15:04"), strconv.Itoa(h.Visitors), h.Booking,
					fmt.Sprintf("%s %d/%d at %s", h.Zone, h.Forecast, h.HoldAt, h.ZoneAt.Format("15:04")), h.RetryAt.Format("15:04")})
			}
			if len(rows) > 0 {
				fmt.Fprintln(w)
				table(w, "HELD BACK AT	WAVE	VISITORS	BOOKING	WOULD OVERFILL (FORECAST/HOLD AT)	BACK AT", rows)
			}
			printOverbooked(w, s.Overbooked)
			printOffline(w, s.Offline)
			return nil
		},
	}
}

func pct(n, of int) string {
	if of == 0 {
		return "-"
	}
	return strconv.Itoa(n*100/of) + "%"
}

// bar draws occupancy against capacity, with the hold threshold marked.
func bar(n, of, hold int) string {
	const width = 20
	if of <= 0 {
		return ""
	}
	filled := min(width, n*width/of)
	mark := min(width-1, hold*width/of)
	b := []rune(strings.Repeat("·", width))
	for i := 0; i < filled; i++ {
		b[i] = '█'
	}
	if b[mark] != '█' {
		b[mark] = '|'
	}
	return "[" + string(b) + "]"
}

func newCloseCmd(g *globals) *cobra.Command {
	var zones []string
	var reason, until string
	var all bool
	cmd := &cobra.Command{
		Use:   "close",
		Short: "Close zones (or the whole site): gates stop admitting at once, affected bookings are re-planned or cancelled",
		Example: `  tafweej close --zone siq --reason flood
  tafweej close --zone monastery --reason rockfall --until 2026-12-01T14:00:00+03:00
  tafweej close --all --reason "flash flood warning"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if reason == "" || (len(zones) == 0 && !all) {
				return usagef("e.g. tafweej close --zone siq --reason flood (or --all)", "--reason and --zone (or --all) are required")
			}
			if all && len(zones) > 0 {
				return usagef("use either --all or --zone", "--all closes every zone; do not also name zones")
			}
			if until != "" {
				if err := checkInstant("--until", until); err != nil {
					return err
				}
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			body := map[string]any{"reason": reason}
			if all {
				body["all"] = true
			} else {
				body["zones"] = zones
			}
			if until != "" {
				body["until"] = until
			}
			var cl scheduler.Closure
			raw, err := c.call(cmd.Context(), "POST", "/v1/closures", body, &cl)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(cmd.OutOrStdout(), raw)
			}
			what := strings.Join(cl.Zones, ", ")
			if what == "" {
				what = "the whole site"
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Closed %s (%s) as %s.\n", what, cl.Reason, cl.ID)
			printReplanned(w, cl.Replanned)
			fmt.Fprintf(w, "  Reopen with: tafweej reopen %s\n", cl.ID)
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&zones, "zone", nil, "zone to close (repeat or comma-separate)")
	cmd.Flags().BoolVar(&all, "all", false, "close the whole site")
	cmd.Flags().StringVar(&reason, "reason", "", "why (shown to operators)")
	cmd.Flags().StringVar(&until, "until", "", "end of the closure, RFC 3339 (default: until reopened)")
	return cmd
}

func newReopenCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "reopen CLOSURE-ID",
		Short:   "Lift a closure",
		Example: "  tafweej reopen cl_8e21f0",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			var cl scheduler.Closure
			raw, err := c.call(cmd.Context(), "DELETE", "/v1/closures/"+url.PathEscape(args[0]), nil, &cl)
			if err != nil {
				return err
			}
			if g.json {
				return printRaw(cmd.OutOrStdout(), raw)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Reopened: closure %s (%s) lifted.\n", cl.ID, cl.Reason)
			return nil
		},
	}
}

func newBackupCmd(g *globals) *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent full backup of the store",
		Long: `Write a full backup. With a running service it is taken over the API (ops key);
with --data DIR it opens a stopped service's store directly.`,
		Example: "  tafweej backup petra-2026-12-01.bak\n  tafweej backup --data ./data offline.bak",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tmp := args[0] + ".tmp"
			f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
			if err != nil {
				return err
			}
			defer os.Remove(tmp)
			if data != "" {
				st, err := store.Open(filepath.Join(data, "badger"), store.Options{})
				if err != nil {
					f.Close()
					return fmt.Errorf("open %s: %w\n  hint: a running service holds the store; run without --data to back up over the API", data, err)
				}
				err = st.Backup(f)
				st.Close()
				if err != nil {
					f.Close()
					return err
				}
			} else {
				c, err := g.client()
				if err != nil {
					f.Close()
					return err
				}
				var raw []byte
				if err := c.do(cmd.Context(), "GET", "/v1/backup", nil, &raw); err != nil {
					f.Close()
					return err
				}
				if _, err := f.Write(raw); err != nil {
					f.Close()
					return err
				}
			}
			if err := f.Sync(); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			if err := os.Rename(tmp, args[0]); err != nil {
				return err
			}
			fi, _ := os.Stat(args[0])
			fmt.Fprintf(cmd.OutOrStdout(), "Backup written to %s (%d bytes). Restore with: tafweej restore %s --data NEWDIR\n", args[0], fi.Size(), args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "", "back up a stopped service's data directory directly")
	return cmd
}

func newRestoreCmd() *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:     "restore FILE",
		Short:   "Restore a backup into an empty data directory (service stopped)",
		Example: "  tafweej restore petra-2026-12-01.bak --data ./data-restored\n  tafweej serve --data ./data-restored",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			var r io.Reader = f
			if err := store.Restore(filepath.Join(data, "badger"), r); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Restored %s into %s. Copy ticket.key and ops.key from the old data directory so issued tickets and keys stay valid.\n", args[0], data)
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "./data", "data directory to restore into (its badger/ must not exist)")
	return cmd
}
