package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/tafweej/tafweej/internal/subjects"
	"github.com/tafweej/tafweej/scheduler"
)

func newScanCmd(g *globals) *cobra.Command {
	var gate, scanID, device, natsURL, site, nkeyFile, inboxPrefix string
	var count int
	cmd := &cobra.Command{
		Use:   "scan TICKET",
		Short: "Scan a ticket at a gate, as a gate device does (NATS request/reply)",
		Long: `Scan a ticket over NATS as a gate device does. The NATS server admits only
registered devices: by default the command registers a short-lived gate device
for --gate with the ops key (--key, TAFWEEJ_KEY or ./data/ops.key) and revokes
it when done; --nkey FILE --inbox-prefix PREFIX scans as a device registered
with 'tafweej devices add gate GATE'.`,
		Example: `  tafweej scan TFW1.Ymt... --gate visitor-centre --count 12
  tafweej scan TFW1.Ymt... --gate visitor-centre --nkey vc1.nk --inbox-prefix _INBOX_dev_...
  tafweej scan TFW1.Ymt... --gate visitor-centre --scan-id dev7-000123   # a retry admits nobody twice`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if gate == "" {
				return usagef("e.g. --gate visitor-centre", "--gate is required")
			}
			if count < 1 {
				return usagef("e.g. --count 12", "--count %d: at least one person passes with a scan", count)
			}
			if scanID == "" {
				scanID = "cli-" + randomKey()
			}
			nc, err := scanConn(cmd.Context(), g, natsURL, gate, nkeyFile, inboxPrefix)
			if err != nil {
				return err
			}
			defer nc.Close()
			req, _ := json.Marshal(map[string]any{"ticket": args[0], "count": count, "scan_id": scanID, "device": device, "at": time.Now().Format(time.RFC3339)})
			subject := subjects.For(site).GateScan(gate)
			// A scan the service cannot make durable gets no answer, and
			// one the NATS server refuses (a device of another gate) none
			// either: each try waits scanTimeout, and a second try with
			// the same scan id admits nobody twice. The server's refusal
			// does not end a request early (nats.go keeps it as the
			// connection's last error): it stops the retry. There is always
			// one try: a context already ended fails it at once (msg is
			// never read unless a try succeeded).
			var msg *nats.Msg
			for try := 0; try < 2; try++ {
				ctx, cancel := context.WithTimeout(cmd.Context(), scanTimeout)
				msg, err = nc.RequestWithContext(ctx, subject, req)
				cancel()
				if err == nil || isPermissionError(nc.LastError()) || cmd.Context().Err() != nil {
					break
				}
			}
			if err != nil {
				if last := nc.LastError(); isPermissionError(last) {
					return fmt.Errorf("no answer on %s: %w\n  hint: this device may not scan at gate %q; scan with a device registered for it ('tafweej devices add gate %s'), or without --nkey", subject, last, gate, gate)
				}
				return fmt.Errorf("no answer on %s: %w\n  hint: is the service running, and is %q a gate of site %q?", subject, err, gate, site)
			}
			var res scheduler.ScanResult
			if err := json.Unmarshal(msg.Data, &res); err != nil {
				return fmt.Errorf("decode reply: %w", err)
			}
			if g.json {
				// The decision is in the JSON: a script reads it there,
				// and the exit code is 0 whatever it is (as it always was).
				return printRaw(cmd.OutOrStdout(), msg.Data)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s  (%s)  admitted %d", map[string]string{"admit": "ADMIT", "partial": "PARTIAL", "reject": "REJECT"}[res.Decision], res.Reason, res.Admitted)
			if res.Booking != "" && res.Reason != scheduler.ReasonCancelled {
				fmt.Fprintf(w, ", remaining %d", res.Remaining)
			}
			fmt.Fprintln(w)
			fmt.Fprintf(w, "  %s\n  %s\n", res.Message.EN, res.Message.AR)
			if res.RetryAt != nil {
				fmt.Fprintf(w, "  come back at %s\n", res.RetryAt.Format("15:04"))
			}
			if res.Decision == scheduler.DecisionReject {
				return errSilent
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&gate, "gate", "", "gate id (required)")
	f.IntVar(&count, "count", 1, "people passing with this scan")
	f.StringVar(&scanID, "scan-id", "", "scan id for idempotent retries (default: new)")
	f.StringVar(&device, "device", "cli", "device name")
	envFlag(f, &natsURL, "nats", "TAFWEEJ_NATS", nats.DefaultURL, "NATS URL (env TAFWEEJ_NATS)")
	f.StringVar(&site, "site", "petra", "site id")
	f.StringVar(&nkeyFile, "nkey", "", "scan as this registered gate device (its seed file); default: a short-lived device registered with the ops key")
	f.StringVar(&inboxPrefix, "inbox-prefix", "", "with --nkey: the device's inbox prefix (_INBOX_dev_...)")
	return cmd
}

// scanTimeout bounds the wait for one scan's answer.
const scanTimeout = 5 * time.Second

// isPermissionError reports whether err is the NATS server's refusal of a
// publish or subscription the connection's user may not make.
func isPermissionError(err error) bool {
	return errors.Is(err, nats.ErrPermissionViolation)
}
