package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// Mistakes in how a command is called are usage errors (exit 2) with a
// hint: an unknown command names the nearest ones, a wrong number of
// arguments shows the command's use.

// usageErrors makes the argument checks of every command under root
// usage errors, and gives the commands that only group others (keys,
// config) an answer to an unknown subcommand.
func usageErrors(root *cobra.Command) {
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if args := c.Args; args != nil {
			c.Args = func(cmd *cobra.Command, a []string) error {
				if err := args(cmd, a); err != nil {
					return &usageError{message: err.Error(), hint: "usage: " + cmd.UseLine() + "; see '" + cmd.CommandPath() + " --help'"}
				}
				return nil
			}
		}
		if c.HasParent() && c.HasSubCommands() && c.Run == nil && c.RunE == nil {
			c.Args = cobra.ArbitraryArgs
			// The flags are those of the subcommand the user meant.
			c.FParseErrWhitelist.UnknownFlags = true
			c.RunE = func(cmd *cobra.Command, a []string) error {
				if len(a) == 0 {
					return cmd.Help()
				}
				return unknownCommand(cmd, a[0])
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// unknownCommand is the usage error of name, which is no subcommand of
// parent.
func unknownCommand(parent *cobra.Command, name string) error {
	hint := "see '" + parent.CommandPath() + " --help' for the commands"
	if parent.SuggestionsMinimumDistance <= 0 {
		parent.SuggestionsMinimumDistance = 2 // cobra's default, set by it on the root only
	}
	if s := parent.SuggestionsFor(name); len(s) > 0 {
		for i := range s {
			s[i] = "'" + parent.CommandPath() + " " + s[i] + "'"
		}
		hint = "did you mean " + strings.Join(s, " or ") + "? " + hint
	}
	return &usageError{message: fmt.Sprintf("unknown command %q for %q", name, parent.CommandPath()), hint: hint}
}

// cobraUsage turns cobra's own "unknown command" error of root into a usage
// error that names the nearest commands.
func cobraUsage(root *cobra.Command, err error) error {
	if err == nil || !strings.HasPrefix(err.Error(), "unknown command ") {
		return err
	}
	var name, path string
	if _, serr := fmt.Sscanf(strings.TrimPrefix(err.Error(), "unknown command "), "%q for %q", &name, &path); serr == nil {
		parent := root
		if c, _, ferr := root.Find(strings.Fields(path)[1:]); ferr == nil && c != nil {
			parent = c
		}
		return unknownCommand(parent, name)
	}
	return &usageError{message: strings.SplitN(err.Error(), "\n", 2)[0], hint: "see 'tafweej --help' for the commands"}
}
