package api

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/tafweej/tafweej/engine"
)

// TestPanickingHandlerAnswersInternalErrorWithID: a handler that panics
// gets a 500 with code internal and an id (counted in
// tafweej_panics_total{where="http"}); one that panics after its answer
// began has its connection aborted, never a cut answer taken for whole;
// the server goes on serving.
func TestPanickingHandlerAnswersInternalErrorWithID(t *testing.T) {
	h := newHarness(t, func(o *Options) {
		o.Extra = map[string]http.Handler{
			"/boom": http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("handler bug") }),
			"/late": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Length", "100")
				w.WriteHeader(http.StatusOK)
				w.Write([]byte("partial"))
				http.NewResponseController(w).Flush()
				panic("late handler bug")
			}),
		}
	})
	r := h.do("GET", "/boom", "", nil)
	if r.code != http.StatusInternalServerError {
		t.Fatalf("panicking handler: %d %s, want 500", r.code, r.body)
	}
	e := r.errorBody(t)
	if e.Code != CodeInternal || !strings.HasPrefix(e.ID, "panic-") || !strings.Contains(e.Message, e.ID) {
		t.Fatalf("panicking handler's answer %+v: want code internal and an id named in the message", e)
	}
	if _, err := h.try(http.DefaultClient, "GET", "/late", "", nil); err == nil {
		t.Fatal("a handler that panicked after its answer began: the client read a whole answer")
	}
	if r := h.do("GET", "/healthz", "", nil); r.code != http.StatusOK {
		t.Fatalf("after the panics: /healthz %d", r.code)
	}
	if n := panicsCounted(t, h, "http"); n != 2 {
		t.Fatalf("tafweej_panics_total{where=http} %v, want 2", n)
	}
}

// TestEngineInternalErrorIsA500WithID: a command that panicked in the
// owner loop is answered 500 internal with the panic's id, not 503.
func TestEngineInternalErrorIsA500WithID(t *testing.T) {
	e := engineError(&engine.InternalError{ID: "panic-0123456789abcdef", Where: "command scheduler.Book"})
	if e.status != http.StatusInternalServerError || e.body.Code != CodeInternal || e.body.ID != "panic-0123456789abcdef" {
		t.Fatalf("engine internal error answered %d %+v", e.status, e.body)
	}
	if e := engineError(errors.New("context deadline exceeded")); e.status != http.StatusServiceUnavailable {
		t.Fatalf("other engine error answered %d", e.status)
	}
}

// panicsCounted is tafweej_panics_total{where} as the registry exports it.
func panicsCounted(t *testing.T, h *harness, where string) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "tafweej_panics_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "where" && l.GetValue() == where {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestPlanPreviewOfAnEmptyDayIsAnEmptyPlan: GET /v1/plan for a date with
// nothing to plan answers 200 with an empty plan.
func TestPlanPreviewOfAnEmptyDayIsAnEmptyPlan(t *testing.T) {
	h := newHarness(t, nil)
	r := h.do("GET", "/v1/plan?date=2026-12-01", h.opsKey, nil)
	if r.code != http.StatusOK {
		t.Fatalf("plan of an empty day: %d %s, want 200", r.code, r.body)
	}
	var p PlanPreview
	r.decode(t, &p)
	if p.Groups != 0 || p.Requests != 0 || p.Plan.Visitors != 0 || len(p.Plan.Placed) != 0 || len(p.Changes) != 0 {
		t.Fatalf("plan of an empty day: %+v", p)
	}
	if !strings.Contains(string(r.body), `"placed":[]`) {
		t.Fatalf("an empty plan lists no placements as [], not null: %s", r.body)
	}
}
