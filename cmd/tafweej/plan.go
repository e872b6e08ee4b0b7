package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newPlanCmd is being built.
func newPlanCmd(g *globals) *cobra.Command {
	return &cobra.Command{Use: "plan", Short: "Preview a day re-plan (in progress)", RunE: func(*cobra.Command, []string) error {
		return errors.New("plan is not built yet")
	}}
}
