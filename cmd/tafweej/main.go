// Command tafweej is the visitor-flow scheduler of a crowded heritage site:
// the service (serve) and the tools of the people who use it.
//
// It is the one composition root: flags, environment, signals, the real
// clock and the default Prometheus registerer are used only here.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitRefused = 3 // the server answered with a refusal (e.g. no capacity)
)

// usageError is a mistake in how the command was called, with a hint.
type usageError struct {
	message string
	hint    string
}

func (e *usageError) Error() string {
	if e.hint == "" {
		return e.message
	}
	return e.message + "\n  hint: " + e.hint
}

func usagef(hint, format string, args ...any) error {
	return &usageError{message: fmt.Sprintf(format, args...), hint: hint}
}

// globals are the flags shared by the client commands.
type globals struct {
	server string
	key    string
	json   bool
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "tafweej",
		Short: "Visitor-flow scheduler: time-slotted waves that keep every zone under its safe capacity",
		Long: `Tafweej (تفويج, dispatching in waves) books tour groups into time-slotted entry
waves, admits them at the gates, follows live occupancy from people counters,
holds waves when a zone is crowded and closes zones on alerts.

Start the service with 'tafweej serve'; the other commands talk to it.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &usageError{message: err.Error(), hint: "see '" + cmd.CommandPath() + " --help'"}
	})
	pf := root.PersistentFlags()
	envFlag(pf, &g.server, "server", "TAFWEEJ_SERVER", "http://127.0.0.1:8080", "URL of a running tafweej service (env TAFWEEJ_SERVER)")
	secretFlag(pf, &g.key, "key", "TAFWEEJ_KEY", "API key (env TAFWEEJ_KEY); defaults to ./data/ops.key when present")
	pf.BoolVar(&g.json, "json", false, "print JSON instead of tables, for scripts")
	root.AddCommand(
		newServeCmd(),
		newConfigCmd(),
		newKeysCmd(g),
		newDevicesCmd(g),
		newSensorsCmd(g),
		newAvailabilityCmd(g),
		newBookCmd(g),
		newBookingsCmd(g),
		newCancelCmd(g),
		newRequestCmd(g),
		newRequestsCmd(g),
		newWithdrawCmd(g),
		newStatusCmd(g),
		newScanCmd(g),
		newCloseCmd(g),
		newReopenCmd(g),
		newCutCmd(g),
		newCutsCmd(g),
		newLiftCmd(g),
		newReplanCmd(g),
		newBackupCmd(g),
		newRestoreCmd(),
		newSimulateCmd(g),
		newBenchCmd(),
		newPlanCmd(g),
		newWebhooksCmd(g),
		newTicketCmd(g),
		newConsoleLinkCmd(g),
		newClusterCmd(g),
		newDwellCmd(g),
	)
	usageErrors(root)
	return root
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func main() {
	root := newRoot()
	err := cobraUsage(root, root.Execute())
	if err == nil {
		os.Exit(exitOK)
	}
	if err != errSilent {
		fmt.Fprintln(os.Stderr, "tafweej:", err)
	}
	var ue *usageError
	var ae *apiError
	switch {
	case errors.As(err, &ue):
		os.Exit(exitUsage)
	case errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 && ae.Status != 401 && ae.Status != 403:
		os.Exit(exitRefused)
	}
	os.Exit(exitFailure)
}
