package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tafweej/tafweej/scheduler"
)

func TestStatusShowsOfflineGatesAndConflicts(t *testing.T) {
	since := time.Date(2026, 12, 1, 8, 5, 0, 0, time.UTC)
	var buf bytes.Buffer
	printOffline(&buf, scheduler.OfflineStatus{
		Devices:   []scheduler.GateDevice{{Gate: "little-petra", Device: "lp-1", State: scheduler.DeviceOffline, OfflineSince: since, Waiting: 7}},
		Scans:     3,
		Conflicts: map[string]int{scheduler.ConflictOverAdmission: 1},
		Recent:    []scheduler.Conflict{{Kind: scheduler.ConflictOverAdmission, At: since, Message: scheduler.Text{EN: "2 visitors of bk_1 beyond its party"}}},
	})
	out := buf.String()
	for _, want := range []string{"little-petra", "lp-1", "offline", "08:05:00", "7", "1 over-admission", "2 visitors of bk_1"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	buf.Reset()
	printOffline(&buf, scheduler.OfflineStatus{})
	if buf.Len() != 0 {
		t.Errorf("with no gate device and no offline scan, status printed %q", buf.String())
	}
}
