package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newSimulateCmd is being built.
func newSimulateCmd(g *globals) *cobra.Command {
	return &cobra.Command{Use: "simulate", Short: "Play a realistic day (in progress)", RunE: func(*cobra.Command, []string) error {
		return errors.New("simulate is not built yet")
	}}
}
