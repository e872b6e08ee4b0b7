package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newBenchCmd is being built.
func newBenchCmd() *cobra.Command {
	return &cobra.Command{Use: "bench", Short: "Measure against the machine's limits (in progress)", RunE: func(*cobra.Command, []string) error {
		return errors.New("bench is not built yet")
	}}
}
