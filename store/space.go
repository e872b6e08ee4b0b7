package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Disk space, watched like etcd's NOSPACE alarm.
//
// Badger writes its write-ahead log (the memtable's .mem file) and its
// tables through memory maps of files that it grows with ftruncate: the
// files are sparse, and a page gets its disk block only when it is first
// written. On a full filesystem that write cannot fail with ENOSPC — the
// kernel has no way to return an error from a store to memory — so the
// process dies of SIGBUS, with nothing answered first. The same happens
// when Badger flushes its memtable to a table: at every start (the
// write-ahead log of a crash is replayed and flushed at once), at Close,
// and whenever the memtable fills.
//
// So the only safe place for the decision is before Badger is asked to
// write, with room to spare: a SpaceWatcher measures the free space of the
// filesystems that hold the data (statfs, once a second, never per write)
// and the owner loop refuses commands by the level it reports. The room a
// flush of the current write-ahead log needs (FlushDebt) is added to every
// threshold, so that Close and the next start can always flush it.

// ErrInsufficientStorage: the command was refused, not applied, because
// the disk is nearly full (see SpaceError).
var ErrInsufficientStorage = errors.New("store: insufficient storage")

// DefaultMinFree is the free-space reserve when SpaceOptions.MinFree is
// zero: 256 MiB. A quarter of it (64 MiB) is as much as one flush of a full
// memtable writes, and the rest covers compactions and the last writes
// that are still let through below the reserve.
const DefaultMinFree = 256 << 20

// SpaceLevel is how full the data's filesystems are.
type SpaceLevel int32

const (
	// SpaceOK: free space is at or above the reserve; everything is written.
	SpaceOK SpaceLevel = iota
	// SpaceLow: under the reserve. New bookings and requests are refused;
	// scans, counter readings and operations go on.
	SpaceLow
	// SpaceCritical: under a quarter of the reserve. Scans and counter
	// readings are refused too; only operations' safety commands
	// (closures, holds, cancellations) and the clock's ticks are written.
	SpaceCritical
)

func (l SpaceLevel) String() string {
	switch l {
	case SpaceOK:
		return "ok"
	case SpaceLow:
		return "low"
	case SpaceCritical:
		return "critical"
	}
	return "level(" + strconv.Itoa(int(l)) + ")"
}

// SpaceStatus is one measurement.
type SpaceStatus struct {
	Level SpaceLevel
	// Dir is the watched directory with the least room to spare (free
	// space less what it must keep); Free is its free space.
	Dir  string
	Free int64
	// MinFree is the reserve; FlushDebt the room kept on top of it for
	// Badger to flush its write-ahead log.
	MinFree   int64
	FlushDebt int64
	At        time.Time
	// Err is set when statfs failed (the level is then the last one known).
	Err error
}

// Refusal is the error for a command refused at this status, naming what the
// level refuses, or nil at SpaceOK.
func (s SpaceStatus) Refusal() error {
	switch s.Level {
	case SpaceOK:
		return nil
	case SpaceLow:
		return &SpaceError{Status: s, What: "new bookings and requests"}
	}
	return &SpaceError{Status: s, What: "new bookings, requests, scans and counter readings"}
}

// SpaceError is a refusal because the disk is nearly full. It unwraps to
// ErrInsufficientStorage.
type SpaceError struct {
	Status SpaceStatus
	What   string // what is refused
}

func (e *SpaceError) Error() string {
	s := e.Status
	limit := s.MinFree
	under := "the reserve"
	if s.Level == SpaceCritical {
		limit, under = s.MinFree/4, "a quarter of the reserve"
	}
	msg := fmt.Sprintf("insufficient storage: %s free in %q, under %s (%s", FormatSize(s.Free), s.Dir, under, FormatSize(limit))
	if s.FlushDebt > 0 {
		msg += fmt.Sprintf(" + %s to flush the write-ahead log", FormatSize(s.FlushDebt))
	}
	msg += ")"
	if e.What != "" {
		msg += "; " + e.What + " are refused until space is freed"
	}
	return msg
}

func (e *SpaceError) Unwrap() error { return ErrInsufficientStorage }

// SpaceOptions configure a SpaceWatcher. Dirs is required.
type SpaceOptions struct {
	// Dirs are the directories whose filesystems hold the data (Badger's,
	// JetStream's). Each is measured; the one with the least room decides.
	Dirs []string
	// MinFree is the reserve in bytes; zero means DefaultMinFree.
	MinFree int64
	// Interval between measurements; zero means one second.
	Interval time.Duration
	// FlushDebt returns the bytes to keep free, on top of the reserve, in
	// the filesystem of dir (see FlushDebt); nil means none.
	FlushDebt func(dir string) int64
	// Statfs returns the bytes free to an unprivileged user in dir's
	// filesystem; nil means the statfs system call (tests replace it).
	Statfs func(dir string) (int64, error)
	// OnChange is called, from the watcher's goroutine, after each change
	// of level (not for the first measurement).
	OnChange func(prev, now SpaceStatus)
	// Logger receives the changes of level; nil discards them.
	Logger *slog.Logger
	// Registerer receives the watcher's metrics; nil means none.
	Registerer prometheus.Registerer
}

// SpaceWatcher measures free space on a ticker and keeps the last status.
// Status is cheap (an atomic load) and safe for concurrent use.
type SpaceWatcher struct {
	o      SpaceOptions
	status atomic.Pointer[SpaceStatus]

	mu sync.Mutex // guards Check (one measurement at a time)

	free    *prometheus.GaugeVec
	reserve prometheus.Gauge
	debt    prometheus.Gauge
	level   *prometheus.GaugeVec
	refused *prometheus.CounterVec
}

// NewSpaceWatcher returns a watcher and takes its first measurement.
func NewSpaceWatcher(o SpaceOptions) (*SpaceWatcher, error) {
	if len(o.Dirs) == 0 {
		return nil, errors.New("store: space watcher: no directory given")
	}
	if o.MinFree <= 0 {
		o.MinFree = DefaultMinFree
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Statfs == nil {
		o.Statfs = statfsFree
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	w := &SpaceWatcher{o: o,
		free: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tafweej_storage_free_bytes",
			Help: "Free space (for unprivileged users) of the filesystem of each data directory."}, []string{"dir"}),
		reserve: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tafweej_storage_reserve_bytes",
			Help: "The free-space reserve (--min-free): under it new bookings and requests are refused, under a quarter of it scans and counter readings too."}),
		debt: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tafweej_storage_flush_debt_bytes",
			Help: "Room kept free on top of the reserve for Badger to flush its write-ahead log."}),
		level: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tafweej_storage_level",
			Help: "1 for the current storage level: ok, low (new bookings and requests refused) or critical (scans and counter readings refused too)."}, []string{"level"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tafweej_storage_refused_total",
			Help: "Commands refused because the disk is nearly full, by command."}, []string{"command"}),
	}
	w.reserve.Set(float64(o.MinFree))
	for _, l := range []SpaceLevel{SpaceOK, SpaceLow, SpaceCritical} {
		w.level.WithLabelValues(l.String())
	}
	if o.Registerer != nil {
		o.Registerer.MustRegister(w.free, w.reserve, w.debt, w.level, w.refused)
	}
	s := w.measure(time.Now(), SpaceOK)
	if s.Err != nil {
		return nil, fmt.Errorf("store: space watcher: %w", s.Err)
	}
	w.publish(s)
	return w, nil
}

// Status is the last measurement.
func (w *SpaceWatcher) Status() SpaceStatus { return *w.status.Load() }

// Refused counts a command refused for lack of space.
func (w *SpaceWatcher) Refused(command string) { w.refused.WithLabelValues(command).Inc() }

// Prepare creates the refusals' series of each command at zero, so that a
// scrape shows them (and rate() works) before the first refusal.
func (w *SpaceWatcher) Prepare(commands []string) {
	for _, c := range commands {
		w.refused.WithLabelValues(c)
	}
}

// MinFree is the reserve in bytes.
func (w *SpaceWatcher) MinFree() int64 { return w.o.MinFree }

// Check measures now, records the status and reports a change of level.
func (w *SpaceWatcher) Check() SpaceStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	prev := w.Status()
	s := w.measure(time.Now(), prev.Level)
	if s.Err != nil {
		w.o.Logger.Warn("free space not measured; keeping the last level", "err", s.Err, "level", prev.Level)
		s.Level, s.Dir, s.Free = prev.Level, prev.Dir, prev.Free
	}
	w.publish(s)
	if s.Level != prev.Level {
		w.logChange(prev, s)
		if w.o.OnChange != nil {
			w.o.OnChange(prev, s)
		}
	}
	return s
}

// Run measures every Interval until ctx is done.
func (w *SpaceWatcher) Run(ctx context.Context) error {
	t := time.NewTicker(w.o.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			w.Check()
		}
	}
}

func (w *SpaceWatcher) publish(s SpaceStatus) {
	w.status.Store(&s)
	w.debt.Set(float64(s.FlushDebt))
	for _, l := range []SpaceLevel{SpaceOK, SpaceLow, SpaceCritical} {
		v := 0.0
		if l == s.Level {
			v = 1
		}
		w.level.WithLabelValues(l.String()).Set(v)
	}
}

func (w *SpaceWatcher) logChange(prev, s SpaceStatus) {
	args := []any{"dir", s.Dir, "free", FormatSize(s.Free), "reserve", FormatSize(s.MinFree), "flush_debt", FormatSize(s.FlushDebt)}
	switch s.Level {
	case SpaceOK:
		w.o.Logger.Info("disk space is back above the reserve; writes resume", args...)
	case SpaceLow:
		if prev.Level == SpaceCritical {
			w.o.Logger.Warn("disk space above a quarter of the reserve: scans and counter readings resume; new bookings and requests still refused", args...)
		} else {
			w.o.Logger.Warn("disk space under the reserve: new bookings and requests are refused", args...)
		}
	case SpaceCritical:
		w.o.Logger.Error("disk space under a quarter of the reserve: bookings, requests, scans and counter readings are refused", args...)
	}
}

// measure takes one measurement of every directory. The level has a
// hysteresis of 1/16 of the reserve on the way up, so that a level does
// not flap on each write near a threshold.
func (w *SpaceWatcher) measure(now time.Time, prev SpaceLevel) SpaceStatus {
	var worst SpaceStatus
	worstRoom := int64(math.MaxInt64)
	seen := map[string]bool{}
	for _, dir := range w.o.Dirs {
		free, err := w.o.Statfs(dir)
		if err != nil {
			return SpaceStatus{At: now, MinFree: w.o.MinFree, Err: fmt.Errorf("statfs %q: %w", dir, err)}
		}
		if !seen[dir] {
			w.free.WithLabelValues(dir).Set(float64(free))
			seen[dir] = true
		}
		var debt int64
		if w.o.FlushDebt != nil {
			debt = w.o.FlushDebt(dir)
		}
		if room := free - debt; room < worstRoom {
			worstRoom = room
			worst = SpaceStatus{Dir: dir, Free: free, FlushDebt: debt}
		}
	}
	worst.At, worst.MinFree = now, w.o.MinFree
	worst.Level = levelOf(worstRoom, w.o.MinFree, prev)
	return worst
}

// levelOf is the level for room bytes (free less flush debt) against the
// reserve, given the previous level: going down is at once, going up needs
// 1/16 of the reserve more than the threshold.
func levelOf(room, minFree int64, prev SpaceLevel) SpaceLevel {
	margin := minFree / 16
	critical, low := minFree/4, minFree
	switch {
	case room < critical:
		return SpaceCritical
	case prev == SpaceCritical && room < critical+margin:
		return SpaceCritical
	case room < low:
		return SpaceLow
	case prev >= SpaceLow && room < low+margin:
		return SpaceLow
	}
	return SpaceOK
}

// statfsFree is the space free to unprivileged users in dir's filesystem.
func statfsFree(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// FreeSpace is the space free to unprivileged users in dir's filesystem.
func FreeSpace(dir string) (int64, error) { return statfsFree(dir) }

// FlushDebt is the disk space Badger's write-ahead logs in dir hold: a
// flush of them writes tables of about that size (less, compressed), and
// it happens at Close, at the next Open, and when the memtable fills. It
// counts the blocks the sparse .mem files really use, plus 1 MiB for the
// tables' indexes and the manifest. Missing files count zero.
func FlushDebt(dir string) int64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var n int64
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".mem") {
			continue
		}
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(dir, e.Name()), &st); err != nil {
			continue
		}
		n += st.Blocks * 512
	}
	if n == 0 {
		return 0
	}
	return n + 1<<20
}

// ParseSize reads a size: a whole number of bytes, or a number with a unit
// B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of
// 1024), e.g. "64MiB", "1GiB", "1.5GB", "4096". Case does not matter; a
// space between number and unit is allowed.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	mult, ok := sizeUnits[unit]
	if num == "" || !ok {
		return 0, fmt.Errorf("size %q: want a number of bytes with an optional unit B, KB, MB, GB, TB, KiB, MiB, GiB or TiB, e.g. \"64MiB\"", s)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("size %q: %q is not a number", s, num)
	}
	v := f * float64(mult)
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return int64(v), nil
}

var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// FormatSize writes n bytes with a binary unit, e.g. "3.2 MiB".
func FormatSize(n int64) string {
	const unit = 1024
	if n < unit && n > -unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	f := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		f /= unit
		if math.Abs(f) < unit || u == "TiB" {
			return strconv.FormatFloat(f, 'f', 1, 64) + " " + u
		}
	}
	return strconv.FormatInt(n, 10) + " B"
}
