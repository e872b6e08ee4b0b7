package api

import (
	"net/http"
)

// backup streams a consistent full backup of the store (ops). Restore it
// with `tafweej restore FILE --data DIR` on a stopped service.
func (s *Server) backup(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="tafweej.backup"`)
	if err := s.st.Backup(w); err != nil {
		// Headers may be gone already; the client sees a truncated body
		// and the restore's checks refuse it.
		s.log.Error("backup failed", "err", err)
		return errf(http.StatusInternalServerError, CodeInternal, "", "backup failed: %v", err)
	}
	return nil
}
