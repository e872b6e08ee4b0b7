package engine

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// DefaultArchiveAfterDays is how many past days stay live when archiving is
// on and no other horizon is given.
const DefaultArchiveAfterDays = 30

// ArchiveOptions configure an Archiver. AfterDays is required.
type ArchiveOptions struct {
	// AfterDays is the live horizon: a date more than this many days
	// before today is archived. At least scheduler.MinArchiveDays.
	AfterDays int
	// Every is how often a pass runs, in clock time, the first at start
	// (default one hour).
	Every time.Duration
	// Batch is the most bookings moved in one synced transaction (default
	// 500).
	Batch int
	// Logger: nil means the engine's.
	Logger *slog.Logger
	// Registerer receives the archive's metrics; nil means none.
	Registerer prometheus.Registerer
}

// Archiver moves past days out of the live state into the store's archive,
// on its own goroutine. A pass (Once) first finishes any move a failure or
// a crash interrupted, then, date by date, oldest first: sends the owner
// loop a scheduler.ArchiveDay (the date leaves the state and its record is
// committed in the same turn), then moves the date's bookings from the live
// keys to the archive in batches of synced transactions, without the owner
// loop. Scans, bookings and reads go on between the batches.
type Archiver struct {
	e    *Engine
	st   store.Archive
	opts ArchiveOptions
	log  *slog.Logger
	m    *archiveMetrics
}

// ArchiveReport sums up one pass.
type ArchiveReport struct {
	Days     []string // dates archived in this pass
	Bookings int      // their bookings
	Resumed  int      // bookings of earlier, interrupted moves moved now
}

// NewArchiver returns an archiver of e's state; e's store must keep an
// archive (store.Archive).
func NewArchiver(e *Engine, o ArchiveOptions) (*Archiver, error) {
	if o.AfterDays < scheduler.MinArchiveDays {
		return nil, fmt.Errorf("engine: archive after %d days: at least %d days are accepted", o.AfterDays, scheduler.MinArchiveDays)
	}
	st, ok := e.st.(store.Archive)
	if !ok {
		return nil, fmt.Errorf("engine: the store (%T) keeps no archive", e.st)
	}
	if o.Every <= 0 {
		o.Every = time.Hour
	}
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.Logger == nil {
		o.Logger = e.log
	}
	a := &Archiver{e: e, st: st, opts: o, log: o.Logger, m: newArchiveMetrics(o.Registerer)}
	days, err := st.ArchivedDays()
	if err != nil {
		return nil, fmt.Errorf("engine: read the archive: %w", err)
	}
	for _, d := range days {
		a.m.days.Inc()
		a.m.bookings.Add(float64(d.Bookings))
	}
	return a, nil
}

// Run archives at start and then every Every, until ctx is done. A failed
// pass is logged and counted; the next one takes up where it stopped.
func (a *Archiver) Run(ctx context.Context) error {
	t := a.e.clock.NewTicker(a.opts.Every)
	defer t.Stop()
	for {
		if _, err := a.Once(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("archive: pass failed; the next pass resumes", "err", err, "next_in", a.opts.Every)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C():
		}
	}
}

// Once runs one pass. Passes must not overlap: call Once only where Run
// is not running (tests, tools).
func (a *Archiver) Once(ctx context.Context) (rep ArchiveReport, err error) {
	start := time.Now()
	defer func() {
		a.m.runDur.Observe(time.Since(start).Seconds())
		if err != nil {
			a.m.errors.Inc()
		} else {
			a.m.lastOK.SetToCurrentTime()
		}
	}()
	pending, err := a.st.PendingArchives()
	if err != nil {
		return rep, err
	}
	for _, date := range pending {
		n, err := a.st.MoveToArchive(date, a.opts.Batch)
		rep.Resumed += n
		if err != nil {
			return rep, err
		}
		a.log.Info("archive: finished an interrupted move", "date", date, "moved", n)
	}
	var dates []string
	if err := a.e.Read(ctx, func(s *scheduler.State, now time.Time) { dates = s.ArchivableDates(now, a.opts.AfterDays) }); err != nil {
		return rep, err
	}
	for _, date := range dates {
		began := time.Now()
		res, err := a.e.Do(ctx, scheduler.ArchiveDay{Date: date})
		if err != nil {
			return rep, fmt.Errorf("archive %s: %w", date, err)
		}
		if res.Err != nil {
			return rep, fmt.Errorf("archive %s: %w", date, res.Err)
		}
		day := res.Archived
		a.m.days.Inc()
		a.m.daysTotal.Inc()
		a.m.bookings.Add(float64(day.Bookings))
		a.m.bookingsTotal.Add(float64(day.Bookings))
		rep.Days = append(rep.Days, date)
		rep.Bookings += day.Bookings
		// The date is out of the state and its record durable: from here a
		// failure only delays the move (the next pass finishes it).
		moved, err := a.st.MoveToArchive(date, a.opts.Batch)
		if err != nil {
			return rep, fmt.Errorf("archive %s: moved %d of %d bookings: %w", date, moved, day.Bookings, err)
		}
		a.log.Info("archived day", "date", date, "bookings", day.Bookings, "visitors", day.Visitors,
			"took", time.Since(began).Round(time.Millisecond))
	}
	return rep, nil
}

// ArchivedBookings lists the bookings of an archived date that operator
// ("" for operations) may see, in State.Bookings' order; archived is false
// when the date is not archived (or the store keeps no archive).
func (e *Engine) ArchivedBookings(operator, date string) (bs []scheduler.Booking, archived bool, err error) {
	st, ok := e.st.(store.Archive)
	if !ok {
		return nil, false, nil
	}
	all, archived, err := st.ArchivedBookings(date)
	if err != nil || !archived {
		return nil, archived, err
	}
	for _, b := range all {
		if operator == "" || b.Operator == operator {
			bs = append(bs, e.inZone(b))
		}
	}
	scheduler.SortBookings(bs)
	return bs, true, nil
}

// ArchivedBooking finds an archived booking operator ("" for operations)
// may see.
func (e *Engine) ArchivedBooking(operator, id string) (scheduler.Booking, bool, error) {
	st, ok := e.st.(store.Archive)
	if !ok {
		return scheduler.Booking{}, false, nil
	}
	b, ok, err := st.ArchivedBooking(id)
	if err != nil || !ok || operator != "" && b.Operator != operator {
		return scheduler.Booking{}, false, err
	}
	return e.inZone(b), true, nil
}

// inZone puts a stored booking's times in the site's zone, as
// scheduler.Restore does for live ones.
func (e *Engine) inZone(b scheduler.Booking) scheduler.Booking {
	loc := e.cfg.Location()
	b.Slot, b.CreatedAt, b.UpdatedAt = b.Slot.In(loc), b.CreatedAt.In(loc), b.UpdatedAt.In(loc)
	return b
}

type archiveMetrics struct {
	daysTotal     prometheus.Counter
	bookingsTotal prometheus.Counter
	errors        prometheus.Counter
	days          prometheus.Gauge
	bookings      prometheus.Gauge
	runDur        prometheus.Histogram
	lastOK        prometheus.Gauge
}

func newArchiveMetrics(reg prometheus.Registerer) *archiveMetrics {
	m := &archiveMetrics{
		daysTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tafweej_archive_dates_total", Help: "Past dates moved out of the live state into the archive (since the service started)."}),
		bookingsTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tafweej_archive_bookings_total", Help: "Bookings of those days (since the service started)."}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tafweej_archive_errors_total", Help: "Archive passes that failed; the next pass resumes."}),
		days: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tafweej_archived_dates", Help: "Dates in the archive."}),
		bookings: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tafweej_archived_bookings", Help: "Bookings in the archive."}),
		runDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tafweej_archive_run_duration_seconds", Help: "Time of one archive pass.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}),
		lastOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tafweej_archive_last_success_timestamp_seconds", Help: "When the last archive pass ended without error (Unix time)."}),
	}
	if reg != nil {
		reg.MustRegister(m.daysTotal, m.bookingsTotal, m.errors, m.days, m.bookings, m.runDur, m.lastOK)
	}
	return m
}
