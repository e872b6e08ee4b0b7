package store

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestParseSizeAcceptsUnitsAndRefusesTheRest(t *testing.T) {
	good := map[string]int64{
		"64MiB": 64 << 20, "1GiB": 1 << 30, "1gib": 1 << 30, "4096": 4096, "512 KiB": 512 << 10,
		"1.5GB": 1_500_000_000, "2TiB": 2 << 40, "0": 0, "10B": 10, "3k": 3000,
	}
	for in, want := range good {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1MiB", "64XB", "1..2GiB", "1e3", "99999999TiB"} {
		if n, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, n)
		} else if !strings.Contains(err.Error(), "size") {
			t.Errorf("ParseSize(%q): error %q does not say what is wrong", in, err)
		}
	}
}

func TestSpaceLevelsHaveHysteresisOnTheWayUp(t *testing.T) {
	const r = 64 << 20
	cases := []struct {
		room int64
		prev SpaceLevel
		want SpaceLevel
	}{
		{r, SpaceOK, SpaceOK},
		{r - 1, SpaceOK, SpaceLow},
		{r / 4, SpaceLow, SpaceLow},
		{r/4 - 1, SpaceLow, SpaceCritical},
		{r / 4, SpaceCritical, SpaceCritical}, // needs r/16 more to go up
		{r/4 + r/16, SpaceCritical, SpaceLow},
		{r, SpaceLow, SpaceLow},
		{r + r/16, SpaceLow, SpaceOK},
		{r + r/16, SpaceCritical, SpaceOK},
		{-5, SpaceOK, SpaceCritical},
	}
	for _, c := range cases {
		if got := levelOf(c.room, r, c.prev); got != c.want {
			t.Errorf("levelOf(%d, reserve %d, from %s) = %s, want %s", c.room, r, c.prev, got, c.want)
		}
	}
}

// fakeDisk is a Statfs with settable free space per dir.
type fakeDisk struct {
	mu   sync.Mutex // guards free
	free map[string]int64
}

func (d *fakeDisk) statfs(dir string) (int64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f, ok := d.free[dir]
	if !ok {
		return 0, errors.New("no such dir")
	}
	return f, nil
}

func (d *fakeDisk) set(dir string, n int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.free[dir] = n
}

func TestSpaceWatcherTakesTheFullestDirAndTheFlushDebt(t *testing.T) {
	disk := &fakeDisk{free: map[string]int64{"/badger": 1 << 30, "/js": 1 << 30}}
	debt := int64(0)
	var changes []string
	reg := prometheus.NewRegistry()
	w, err := NewSpaceWatcher(SpaceOptions{Dirs: []string{"/badger", "/js"}, MinFree: 64 << 20, Statfs: disk.statfs,
		FlushDebt: func(dir string) int64 {
			if dir == "/badger" {
				return debt
			}
			return 0
		},
		OnChange:   func(prev, now SpaceStatus) { changes = append(changes, prev.Level.String()+">"+now.Level.String()) },
		Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	if s := w.Status(); s.Level != SpaceOK || s.Refusal() != nil {
		t.Fatalf("first status %+v, want ok", s)
	}
	disk.set("/js", 60<<20) // JetStream's disk fills
	if s := w.Check(); s.Level != SpaceLow || s.Dir != "/js" {
		t.Fatalf("status %+v, want low in /js", s)
	}
	disk.set("/js", 1<<30)
	debt = 1<<30 - 10<<20 // Badger's log must keep nearly all of it free
	s := w.Check()
	if s.Level != SpaceCritical || s.Dir != "/badger" {
		t.Fatalf("status %+v, want critical in /badger (flush debt)", s)
	}
	err = s.Refusal()
	if !errors.Is(err, ErrInsufficientStorage) || !strings.Contains(err.Error(), `"/badger"`) || !strings.Contains(err.Error(), "1.0 GiB free") ||
		!strings.Contains(err.Error(), "scans") {
		t.Errorf("refusal %q: want ErrInsufficientStorage naming the dir, its free space and the scans", err)
	}
	debt = 0
	w.Check()
	if got := strings.Join(changes, " "); got != "ok>low low>critical critical>ok" {
		t.Errorf("changes %q", got)
	}
	if v := testutil.ToFloat64(w.level.WithLabelValues("ok")); v != 1 {
		t.Errorf("tafweej_storage_level{level=ok} = %v, want 1", v)
	}
	if v := testutil.ToFloat64(w.free.WithLabelValues("/js")); v != 1<<30 {
		t.Errorf("tafweej_storage_free_bytes{dir=/js} = %v", v)
	}
	if problems, err := testutil.CollectAndLint(w.level); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
	for _, c := range []prometheus.Collector{w.free, w.reserve, w.debt, w.refused} {
		if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
			t.Errorf("lint: %v %v", problems, err)
		}
	}
	// A failed statfs keeps the last level.
	disk.set("/js", 1)
	w.Check()
	delete(disk.free, "/js")
	if s := w.Check(); s.Level != SpaceCritical || s.Err == nil {
		t.Errorf("after a failed statfs: %+v, want the last level (critical) and the error", s)
	}
}

func TestFlushDebtCountsTheBlocksOfTheWriteAheadLog(t *testing.T) {
	dir := t.TempDir()
	if d := FlushDebt(dir); d != 0 {
		t.Errorf("empty dir: debt %d", d)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	before := FlushDebt(dir)
	val := strings.Repeat("x", 4000)
	for i := range 500 {
		if err := s.PutKey(APIKey{Hash: strings.Repeat("0", 10) + string(rune('a'+i%26)) + strings.Repeat("1", i%50), Role: "ops", Name: val}); err != nil {
			t.Fatal(err)
		}
	}
	after := FlushDebt(dir)
	if after-before < 1<<20 {
		t.Errorf("debt %d before, %d after writing ~2 MB: the write-ahead log's blocks are not counted", before, after)
	}
}
