package api

import (
	"bytes"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/store"
)

// TestBackupRestore: a backup taken over the API restores into a new data
// directory with the same bookings; only ops may take one.
func TestBackupRestore(t *testing.T) {
	h := newHarness(t, nil)
	key := h.key(auth.RoleOperator, "op", nil)
	bk := h.book(key, BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 12, Window: Window{"09:00", "11:00"}})
	if r := h.do("GET", "/v1/backup", key, nil); r.code != http.StatusForbidden {
		t.Fatalf("operator key: %d, want 403", r.code)
	}
	r := h.do("GET", "/v1/backup", h.opsKey, nil)
	if r.code != http.StatusOK || len(r.body) == 0 {
		t.Fatalf("backup: %d, %d bytes", r.code, len(r.body))
	}
	dir := filepath.Join(t.TempDir(), "restored")
	if err := store.Restore(dir, bytes.NewReader(r.body)); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	snap, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Bookings) != 1 || snap.Bookings[0].ID != bk.ID || snap.Bookings[0].PartySize != 12 {
		t.Fatalf("restored bookings %+v, want %s", snap.Bookings, bk.ID)
	}
}
