package auth_test

import (
	"testing"

	"github.com/tafweej/tafweej/internal/auth"
)

// TestBearerTakesOnlyABearerToken: the API and the web console read the
// same header the same way.
func TestBearerTakesOnlyABearerToken(t *testing.T) {
	for h, want := range map[string]string{
		"Bearer tfw_abc":      "tfw_abc",
		"  bearer   tfw_abc ": "tfw_abc",
		"Basic tfw_abc":       "",
		"Bearer":              "",
		"Bearer   ":           "",
		"":                    "",
	} {
		got, ok := auth.Bearer(h)
		if got != want || ok != (want != "") {
			t.Errorf("Bearer(%q) = %q, %v; want %q", h, got, ok, want)
		}
	}
}
