package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/scheduler"
)

// DefaultHeartbeat is how often an idle event stream gets a comment line,
// so that proxies keep it open and the page sees it alive.
const DefaultHeartbeat = 15 * time.Second

// streamBuffer is how many events may wait for a slow page; past that the
// stream is ended and the page reconnects (and re-reads the state).
const streamBuffer = 256

// EventSensorProblem is the kind of the stream's event for a dead-lettered
// counter or alert message (tafweej.<site>.deadletter.>); only ops keys
// receive it. Its data is {"kind", "reason", "error", "subject"}.
const EventSensorProblem = "sensor.problem"

//go:embed assets
var assets embed.FS

// Options configures the console. Store, Conn and Config are required;
// the zero value of every other field means its default.
type Options struct {
	// Store holds the API keys that /web/events checks.
	Store auth.KeyStore
	// Keys looks them up; nil makes one on Store. Pass the API's
	// (api.Options.Keys) so that a key revoked there is refused here at
	// once, and open event streams of that key end.
	Keys *auth.Keys
	// Conn is the NATS connection the events are read from.
	Conn *nats.Conn
	// Config describes the site (gates, zones, hours) to the pages.
	Config *scheduler.Config
	// Site is the subject prefix's site id; empty means Config.Site.
	Site string
	// Now is the site's clock (engine.Engine.Now), so that the pages
	// announce waves in the service's time even on a simulated clock; nil
	// means the wall clock.
	Now    func() time.Time
	Logger *slog.Logger
	// Heartbeat is the idle interval of the event stream (default 15 s).
	Heartbeat time.Duration
}

// handler serves the console.
type handler struct {
	o   Options
	mux *http.ServeMux
	log *slog.Logger

	mu      sync.Mutex // guards streams
	streams int        // open event streams
}

// New returns the console's handler. It serves GET /gate, GET /ops, the
// assets under /web/, GET /web/site.json and GET /web/events.
func New(o Options) (http.Handler, error) {
	if o.Store == nil || o.Conn == nil || o.Config == nil {
		return nil, errors.New("web: Options.Store, Conn and Config are required")
	}
	if o.Site == "" {
		o.Site = o.Config.Site
	}
	if o.Keys == nil {
		o.Keys = auth.NewKeys(o.Store)
	}
	if o.Site == "" || strings.ContainsAny(o.Site, ".*> \t") {
		return nil, fmt.Errorf("web: site %q cannot be a NATS subject token (no dots, spaces, '*' or '>')", o.Site)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, fmt.Errorf("web: assets: %w", err)
	}
	h := &handler{o: o, mux: http.NewServeMux(), log: o.Logger.With("component", "web")}
	h.mux.Handle("GET /gate", h.page(static, "gate.html"))
	h.mux.Handle("GET /ops", h.page(static, "ops.html"))
	h.mux.HandleFunc("GET /web/site.json", h.site)
	h.mux.HandleFunc("GET /web/events", h.events)
	h.mux.Handle("GET /web/", http.StripPrefix("/web/", http.FileServerFS(static)))
	return h, nil
}

// contentSecurity allows the page's own scripts, styles and API only; the
// camera preview is a MediaStream, which needs no source.
const contentSecurity = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Content-Security-Policy", contentSecurity)
	hd.Set("Cache-Control", "no-cache")
	h.mux.ServeHTTP(w, r)
}

// page serves one of the HTML pages.
func (h *handler) page(static fs.FS, name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := fs.ReadFile(static, name)
		if err != nil {
			http.Error(w, "page missing from the build", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
	})
}

// Site is the answer of GET /web/site.json: what the pages need to know of
// the site. Now is the service's clock; Today is the day's opening hours
// ("HH:MM"), absent when the site does not open today; RequestWindow is
// absent when the site has no planned days.
type Site struct {
	Site          string         `json:"site"`
	Name          scheduler.Text `json:"name"`
	TimeZone      string         `json:"time_zone"`
	SlotMinutes   int            `json:"slot_minutes"`
	Now           time.Time      `json:"now"`
	Today         *Hours         `json:"today,omitempty"`
	Gates         []Place        `json:"gates"`
	Zones         []Place        `json:"zones"`
	RequestWindow *RequestWindow `json:"request_window,omitempty"`
}

// RequestWindow describes the site's planned days: the spans of the year
// they cover ("MM-DD" to "MM-DD", inclusive; none means every day), when
// their requests close (CutoffDaysBefore days before the date at
// CutoffTime, "HH:MM" in the site's time), and Next, the first planned day
// the site opens whose requests are still open (absent if none within a
// year).
type RequestWindow struct {
	Periods          []scheduler.Period `json:"periods"`
	CutoffDaysBefore int                `json:"cutoff_days_before"`
	CutoffTime       string             `json:"cutoff_time"`
	Next             *PlannedDay        `json:"next,omitempty"`
}

// PlannedDay is a planned date and the cut-off of its requests.
type PlannedDay struct {
	Date   string    `json:"date"`
	Cutoff time.Time `json:"cutoff"`
}

// Hours are one day's opening hours.
type Hours struct {
	Date      string `json:"date"`
	Open      string `json:"open"`
	LastEntry string `json:"last_entry"`
	Close     string `json:"close"`
}

// Place is a gate or a zone.
type Place struct {
	ID       string         `json:"id"`
	Name     scheduler.Text `json:"name"`
	Capacity int            `json:"capacity"` // a gate's wave capacity, a zone's capacity
}

// site: GET /web/site.json.
func (h *handler) site(w http.ResponseWriter, r *http.Request) {
	cfg := h.o.Config
	now := h.o.Now().In(cfg.Location())
	out := Site{Site: cfg.Site, Name: cfg.Name, TimeZone: cfg.TimeZone, SlotMinutes: cfg.SlotMinutes, Now: now,
		Gates: []Place{}, Zones: []Place{}}
	if open, last, closing, ok := cfg.HoursOn(now); ok {
		out.Today = &Hours{Date: now.Format(time.DateOnly), Open: scheduler.FormatClock(open), LastEntry: scheduler.FormatClock(last), Close: scheduler.FormatClock(closing)}
	}
	for _, g := range cfg.Gates {
		out.Gates = append(out.Gates, Place{ID: g.ID, Name: g.Name, Capacity: g.WaveCapacity})
	}
	for _, z := range cfg.Zones {
		out.Zones = append(out.Zones, Place{ID: z.ID, Name: z.Name, Capacity: z.Capacity})
	}
	out.RequestWindow = requestWindow(cfg, now)
	writeJSON(w, http.StatusOK, out)
}

// requestWindow describes the planned days at now; nil if the site has
// none.
func requestWindow(cfg *scheduler.Config, now time.Time) *RequestWindow {
	rw := cfg.Policy.RequestWindow
	if rw == nil {
		return nil
	}
	out := &RequestWindow{Periods: append([]scheduler.Period{}, rw.Periods...),
		CutoffDaysBefore: rw.CutoffDaysBefore, CutoffTime: rw.CutoffTime}
	if date, cutoff, ok := cfg.NextPlannedDay(now); ok {
		out.Next = &PlannedDay{Date: date.Format(time.DateOnly), Cutoff: cutoff.In(cfg.Location())}
	}
	return out
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// errorBody is the API's error answer (api.ErrorResponse) as far as the
// console uses it: {"error": {"code", "message", "field"}}.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	} `json:"error"`
}

// writeError answers in the API's error shape.
func writeError(w http.ResponseWriter, code int, errCode, field, format string, args ...any) {
	var b errorBody
	b.Error.Code, b.Error.Message, b.Error.Field = errCode, fmt.Sprintf(format, args...), field
	writeJSON(w, code, b)
}
