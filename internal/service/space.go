package service

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// spaceEvents publishes the changes of storage level on the events
// subject (storage.ok, storage.low, storage.critical) once the NATS
// connection exists; changes before that are only logged.
type spaceEvents struct {
	mu      sync.Mutex // guards publish and now
	publish func(scheduler.Event)
	now     func() time.Time
}

func (e *spaceEvents) set(publish func(scheduler.Event), now func() time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.publish, e.now = publish, now
}

func (e *spaceEvents) changed(_, s store.SpaceStatus) {
	e.mu.Lock()
	publish, now := e.publish, e.now
	e.mu.Unlock()
	if publish == nil {
		return
	}
	publish(scheduler.Event{Kind: "storage." + s.Level.String(), At: now(), Data: map[string]any{
		"level": s.Level.String(), "dir": s.Dir, "free_bytes": s.Free,
		"reserve_bytes": s.MinFree, "flush_debt_bytes": s.FlushDebt,
	}})
}

// openSpace starts watching the free space of dirs (badgerDir first) and
// waits until the store can be opened without a fault: opening Badger
// flushes the write-ahead log a crash left behind, through a memory map,
// and on a filesystem without room for it that write kills the process
// with SIGBUS. Badger cannot open such a database read-only either (it
// must truncate the log first), so the service waits, saying why, until
// there is room or ctx is cancelled (the caller cancels it on SIGINT or
// SIGTERM). Once the store may be opened, a level under the reserve means
// the service starts read-only for the commands of that level, and says so.
func openSpace(ctx context.Context, log *slog.Logger, reg prometheus.Registerer, minFree int64, badgerDir string, dirs []string, ev *spaceEvents) (*store.SpaceWatcher, error) {
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, err
		}
	}
	w, err := store.NewSpaceWatcher(store.SpaceOptions{
		Dirs: dirs, MinFree: minFree, Logger: log, Registerer: reg, OnChange: ev.changed,
		FlushDebt: func(dir string) int64 {
			if dir == badgerDir {
				return store.FlushDebt(badgerDir)
			}
			return 0
		},
	})
	if err != nil {
		return nil, err
	}
	var logged time.Time
	for {
		free, err := store.FreeSpace(badgerDir)
		if err != nil {
			return nil, err
		}
		debt := store.FlushDebt(badgerDir)
		if free >= debt {
			break
		}
		if time.Since(logged) >= 10*time.Second {
			log.Error("not enough free space to open the store: Badger must flush its write-ahead log first; waiting for space",
				"dir", badgerDir, "free", store.FormatSize(free), "needed", store.FormatSize(debt))
			logged = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	s := w.Check()
	if s.Level != store.SpaceOK {
		log.Error("starting read-only: disk space is under the reserve", "level", s.Level.String(), "dir", s.Dir,
			"free", store.FormatSize(s.Free), "reserve", store.FormatSize(s.MinFree), "flush_debt", store.FormatSize(s.FlushDebt),
			"refused", s.Refusal().Error())
	}
	return w, nil
}
