package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// These commands are being built (issues 3 and 6).

func newSimulateCmd(g *globals) *cobra.Command {
	return &cobra.Command{Use: "simulate", Short: "Play a realistic day (in progress)", RunE: func(*cobra.Command, []string) error {
		return errors.New("simulate is not built yet")
	}}
}

func newBenchCmd() *cobra.Command {
	return &cobra.Command{Use: "bench", Short: "Measure against the machine's limits (in progress)", RunE: func(*cobra.Command, []string) error {
		return errors.New("bench is not built yet")
	}}
}

func newPlanCmd(g *globals) *cobra.Command {
	return &cobra.Command{Use: "plan", Short: "Preview a day re-plan (in progress)", RunE: func(*cobra.Command, []string) error {
		return errors.New("plan is not built yet")
	}}
}
