package scheduler

import (
	"reflect"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/tafweej/tafweej/internal/testenv"
)

// petraWith is configs/petra.yaml (planned days kept) changed by edit on
// the parsed configuration, then written back to YAML and parsed again, so
// that the changed configuration is validated and indexed like any other.
func petraWith(t testing.TB, edit func(c *Config)) *Config {
	t.Helper()
	cfg, err := ParseConfig(testenv.PetraYAML(t))
	if err != nil {
		t.Fatal(err)
	}
	edit(cfg)
	data, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ParseConfig(data)
	if err != nil {
		t.Fatalf("the edited configuration: %v", err)
	}
	return out
}

// TestPetraWithRoundTrips: with no edit, petraWith gives the configuration
// configs/petra.yaml parses to.
func TestPetraWithRoundTrips(t *testing.T) {
	want, err := ParseConfig(testenv.PetraYAML(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := petraWith(t, func(*Config) {}); !reflect.DeepEqual(got, want) {
		t.Fatalf("written back and parsed again, the configuration differs:\n%+v\nwant\n%+v", got, want)
	}
}
