package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestHelpNeverPrintsSecrets runs --help of every command with every
// secret-bearing environment variable exported, and looks for the secrets
// in what it prints (the issue: `tafweej close --help` showed TAFWEEJ_KEY
// as the --key flag's default).
func TestHelpNeverPrintsSecrets(t *testing.T) {
	secrets := map[string]string{
		"TAFWEEJ_KEY":           "tfw_SECRETkeyVALUE",
		"TAFWEEJ_NATS_PASSWORD": "natsSECRETpassword",
		"TAFWEEJ_NATS_TOKEN":    "natsSECRETtoken",
		"TAFWEEJ_NATS":          "nats://ops:urlSECRETpass@10.0.0.5:4222",
		"TAFWEEJ_SERVER":        "https://ops:serverSECRETpass@tafweej.example",
	}
	needles := []string{"tfw_SECRETkeyVALUE", "natsSECRETpassword", "natsSECRETtoken", "urlSECRETpass", "serverSECRETpass"}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string(nil), path...), sub.Name()))
		}
	}
	walk(newRoot(), nil)
	if len(paths) < 20 {
		t.Fatalf("found only %d commands", len(paths))
	}
	for _, path := range paths {
		root := newRoot() // flags read the environment when declared
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(append(append([]string(nil), path...), "--help"))
		if err := root.Execute(); err != nil {
			t.Fatalf("tafweej %s --help: %v", strings.Join(path, " "), err)
		}
		for _, n := range needles {
			if strings.Contains(out.String(), n) {
				t.Errorf("tafweej %s --help prints the secret %q:\n%s", strings.Join(path, " "), n, out.String())
			}
		}
	}
	// The flags still take their values from the environment.
	root := newRoot()
	if v := *root.PersistentFlags().Lookup("key").Value.(*envValue).p; v != secrets["TAFWEEJ_KEY"] {
		t.Errorf("--key from TAFWEEJ_KEY = %q", v)
	}
}
