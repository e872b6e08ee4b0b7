package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tafweej/tafweej/internal/bench"
)

// benchFlags are the flags of `tafweej bench` (internal/bench).
type benchFlags struct {
	config string
	dir    string
	quick  bool
	reps   int
	// cbcSeconds is CBC's time limit per model for the planner's quality;
	// 0 skips it.
	cbcSeconds int
	// noCluster skips the replicated site's rows.
	noCluster bool
}

func newBenchCmd() *cobra.Command {
	f := &benchFlags{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the service against the limits of this machine",
		Long: `Start the real pieces in this process on loopback, in a temporary directory
(embedded NATS with JetStream syncing every write, Badger with synced writes,
the owner loop, the NATS adapters and the HTTP API without rate limit), and
measure each headline figure next to the raw limit of the same part,
measured in the same run:

  counter messages applied end to end   vs raw JetStream publish+consume
  gate scans over NATS (1, 10, 100 gates) vs a responder making one synced
                                            Badger write per request (raw_bare:
                                            bare NATS request/reply)
  durable bookings over HTTP (1, 64)      vs synced Badger writes by as many
                                            writers, interleaved
  recovery time and memory with 1M stored bookings (50k with --quick)
  durable bookings on a site replicated with --replicas 3 (two 'serve'
    processes on a three-node loopback NATS cluster) vs raw JetStream R3
    publishes of the same cluster, and the takeover time after SIGKILL of
    the owner (--no-cluster skips them)
  day-planner time for a Petra day and a Hajj-sized day
  day-planner quality: visitors placed vs the optimum's upper bound that
    CBC (Debian's coinor-cbc) proves within --cbc-seconds, for the Petra
    day and the Hajj-sized day; skipped when cbc is not on
    PATH (--quick: the Petra day only, CBC limited to 5 s)

Progress goes to stderr, the table (or --json) to stdout.`,
		Example: `  tafweej bench
  tafweej bench --quick --json > bench.json   # under a minute, for CI`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, _ := cmd.Flags().GetBool("json")
			if f.reps < 1 || f.reps > 20 {
				return usagef("e.g. --reps 3", "--reps %d must be between 1 and 20", f.reps)
			}
			if f.cbcSeconds < 0 || f.cbcSeconds > 3600 {
				return usagef("e.g. --cbc-seconds 60", "--cbc-seconds %d must be between 0 (no CBC) and 3600", f.cbcSeconds)
			}
			if f.quick && !cmd.Flags().Changed("cbc-seconds") {
				f.cbcSeconds = bench.QuickCBCSeconds
			}
			cfg, err := loadConfig(f.config)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			var bin string
			if !f.noCluster {
				if bin, err = os.Executable(); err != nil {
					return fmt.Errorf("bench: find the tafweej binary for the replicated rows: %w\n  hint: --no-cluster skips them", err)
				}
			}
			rep, err := bench.Run(ctx, bench.Options{Config: cfg, ConfigPath: f.config, Dir: f.dir, Quick: f.quick,
				Reps: f.reps, CBCSeconds: f.cbcSeconds, Binary: bin}, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			bench.Print(cmd.OutOrStdout(), rep)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "configs/petra.yaml", "site configuration file")
	fl.StringVar(&f.dir, "dir", "", "directory for the temporary data (put it on the disk of --data); empty means the system's temporary directory")
	fl.BoolVar(&f.quick, "quick", false, "small sizes, one repetition: under a minute, for CI")
	fl.IntVar(&f.reps, "reps", 3, "repetitions of each throughput figure (the median is reported); --quick uses 1")
	fl.IntVar(&f.cbcSeconds, "cbc-seconds", 60, "CBC's time limit (CPU seconds) per model of the planner's quality; 0 skips it; --quick uses 5 unless set")
	fl.BoolVar(&f.noCluster, "no-cluster", false, "skip the replicated site's rows (a three-node NATS cluster and two 'serve --replicas 3' processes)")
	return cmd
}
