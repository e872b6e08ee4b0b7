package main

import (
	"fmt"
	"io"
	"strconv"

	"github.com/tafweej/tafweej/scheduler"
)

// printOffline prints the gate devices (online, offline since, scans
// waiting) and the conflicts found reconciling offline scans, if any.
func printOffline(w io.Writer, o scheduler.OfflineStatus) {
	if len(o.Devices) == 0 && o.Scans == 0 {
		return
	}
	var rows [][]string
	for _, d := range o.Devices {
		since := ""
		if !d.OfflineSince.IsZero() {
			since = d.OfflineSince.Format("15:04:05")
		}
		rows = append(rows, []string{d.Gate, d.Device, d.State, since, strconv.Itoa(d.Waiting), strconv.Itoa(d.Uploaded)})
	}
	if len(rows) > 0 {
		fmt.Fprintln(w)
		table(w, "GATE DEVICE\t\tSTATE\tOFFLINE SINCE\tWAITING\tUPLOADED", rows)
	}
	fmt.Fprintf(w, "\nOffline scans reconciled: %d; conflicts: %d over-admission, %d cancelled admitted, %d closed zone entered\n",
		o.Scans, o.Conflicts[scheduler.ConflictOverAdmission], o.Conflicts[scheduler.ConflictCancelledAdmitted], o.Conflicts[scheduler.ConflictClosedZoneEntered])
	for i, c := range o.Recent {
		if i == 5 {
			fmt.Fprintf(w, "  … and %d more\n", len(o.Recent)-5)
			break
		}
		fmt.Fprintf(w, "  %s  %s\n", c.At.Format("15:04"), c.Message.EN)
	}
}
