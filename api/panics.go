package api

import (
	"net/http"
)

// serveGuarded serves r through the mux, recovering a panic of any handler
// (API routes and Extra ones): the panic is logged with its stack and
// counted (tafweej_panics_total{where="http"}), and the caller gets a 500
// with code internal and the panic's id. If the answer had already begun,
// it cannot be replaced: abort is true and the caller aborts the
// connection (http.ErrAbortHandler), so that a client never takes a cut
// answer for a whole one.
func (s *Server) serveGuarded(w *statusWriter, r *http.Request) (abort bool) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler { // a handler's own way to abort
			abort = true
			return
		}
		id := s.panics.Recovered("http", v)
		if w.code != 0 {
			abort = true
			return
		}
		writeError(w, internalError(id))
	}()
	s.mux.ServeHTTP(w, r)
	return false
}

// internalError is the answer to a request that failed on a bug: the id
// names the failure in the service's log.
func internalError(id string) *apiError {
	e := errf(http.StatusInternalServerError, CodeInternal, "",
		"internal error %s: the service failed on this request and logged it under this id; report the id if it persists", id)
	e.body.ID = id
	return e
}
