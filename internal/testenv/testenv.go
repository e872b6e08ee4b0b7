// Package testenv is the environment every package's tests share: where the
// repository and the Petra site config are, the site's time zone, fixed
// times in it, and a polling wait. It imports nothing of the project, so the
// core's own (internal) tests can use it too; the parts that need the store
// and the engine (Badger in a temp dir, an engine on a manual clock, a store
// that can be made to fail, an embedded NATS server) are in package
// testenv/stack.
//
// It is for tests only: nothing outside a _test.go file imports it.
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Amman is the Petra site's time zone (UTC+3 all year). Tests write fixed
// times in it: time.Date(2026, 12, 1, 8, 0, 0, 0, testenv.Amman).
var Amman = func() *time.Location {
	l, err := time.LoadLocation("Asia/Amman")
	if err != nil {
		// The Go distribution embeds no tzdata unless asked to; fall back to
		// the fixed offset Jordan has kept since 2022.
		return time.FixedZone("Asia/Amman", 3*60*60)
	}
	return l
}()

// At is a time on date (YYYY-MM-DD) at hh:mm in Amman; it panics on a bad
// date, which is a bug in the test.
func At(date string, hh, mm int) time.Time {
	d, err := time.ParseInLocation(time.DateOnly, date, Amman)
	if err != nil {
		panic(fmt.Sprintf("testenv.At: date %q: %v", date, err))
	}
	return time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, Amman)
}

// Root is the repository's top directory (where go.mod is).
func Root() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("testenv: cannot locate the repository")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Path is a path under the repository's top directory.
func Path(elem ...string) string { return filepath.Join(append([]string{Root()}, elem...)...) }

// PetraPath is the Petra site config, configs/petra.yaml.
func PetraPath() string { return Path("configs", "petra.yaml") }

var petra struct {
	once sync.Once
	data []byte
	err  error
}

// PetraYAML is the text of configs/petra.yaml (read once per test binary;
// each call returns a fresh copy the caller may change).
func PetraYAML(t testing.TB) []byte {
	t.Helper()
	petra.once.Do(func() { petra.data, petra.err = os.ReadFile(PetraPath()) })
	if petra.err != nil {
		t.Fatalf("testenv: %v", petra.err)
	}
	return append([]byte(nil), petra.data...)
}

// Eventually calls fn every sleep until it returns nil, and fails the test
// with fn's last error if that has not happened within total (after
// nats-server's checkFor).
func Eventually(t testing.TB, total, sleep time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %v", total, err)
		}
		time.Sleep(sleep)
	}
}
