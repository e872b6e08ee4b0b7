package plantest

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestIntegralBoundNeverCutsBelowAWholeOptimum: rounding a bound down is
// only sound because every plan is worth a whole number of visitors, and
// it must allow for CBC's floating point.
func TestIntegralBoundNeverCutsBelowAWholeOptimum(t *testing.T) {
	for _, c := range []struct{ bound, want float64 }{
		{6159.6, 6159},       // a bound between two wholes: the optimum is at most the lower
		{6160, 6160},         // a whole bound stays
		{6159.9999999, 6160}, // CBC's 6160 printed with rounding error: not 6159
		{6160.0000001, 6160}, // and the other way
		{994, 994},           // a proven optimum
		{0.4, 0},
	} {
		if got := IntegralBound(c.bound); got != c.want {
			t.Errorf("IntegralBound(%v) = %v, want %v", c.bound, got, c.want)
		}
	}
}

// TestModelObjectiveIsWhole: IntegralBound's premise, checked on the
// models WriteLP writes: every variable is binary and every objective
// coefficient a whole number, so every solution's value is whole.
func TestModelObjectiveIsWhole(t *testing.T) {
	term := regexp.MustCompile(`(\S+)\s+(x\d+)`)
	whole := regexp.MustCompile(`^-?[0-9]+$`)
	rapid.Check(t, func(t *rapid.T) {
		inst := genInstance(t, 7)
		var buf bytes.Buffer
		if err := WriteLP(&buf, inst); err != nil {
			t.Fatal(err)
		}
		lp := buf.String()
		obj, rest, ok := strings.Cut(strings.SplitN(lp, "Maximize\n", 2)[1], "Subject To\n")
		if !ok {
			t.Fatalf("no constraints section in\n%s", lp)
		}
		_, binaries, ok := strings.Cut(rest, "Binary\n")
		if !ok {
			t.Fatalf("no Binary section in\n%s", lp)
		}
		binary := map[string]bool{}
		for _, f := range strings.Fields(strings.TrimSuffix(binaries, "End\n")) {
			binary[f] = true
		}
		// Each term is "+ <coefficient> x<n>" (a model without variables:
		// "0 x0").
		terms := term.FindAllStringSubmatch(strings.TrimPrefix(strings.TrimSpace(obj), "obj:"), -1)
		if len(terms) == 0 {
			t.Fatalf("no objective terms in\n%s", obj)
		}
		for _, m := range terms {
			if !whole.MatchString(m[1]) {
				t.Fatalf("objective coefficient %s of %s is not a whole number", m[1], m[2])
			}
			if !binary[m[2]] {
				t.Fatalf("objective variable %s is not binary", m[2])
			}
		}
	})
}
