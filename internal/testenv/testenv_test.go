package testenv

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestPetraYAMLIsTheSiteConfig(t *testing.T) {
	data := PetraYAML(t)
	if !bytes.Contains(data, []byte("site:")) {
		t.Fatalf("%s does not look like a site config", PetraPath())
	}
	data[0] = 'X'
	if PetraYAML(t)[0] == 'X' {
		t.Fatal("PetraYAML returned a shared slice")
	}
}

func TestAtIsInAmman(t *testing.T) {
	got := At("2026-12-01", 8, 30)
	if _, off := got.Zone(); off != 3*60*60 {
		t.Fatalf("offset %d, want UTC+3", off)
	}
	if got.Hour() != 8 || got.Minute() != 30 || got.Day() != 1 {
		t.Fatalf("got %v", got)
	}
}

func TestEventuallyWaitsForTheCondition(t *testing.T) {
	n := 0
	Eventually(t, time.Second, time.Millisecond, func() error {
		if n++; n < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if n != 3 {
		t.Fatalf("called %d times, want 3", n)
	}
}
