package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"image/png"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runCLI runs the real binary and returns its stdout, stderr and exit code.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(tafweejBinary(t), args...)
	cmd.Env = append(os.Environ(), "TAFWEEJ_KEY=", "TAFWEEJ_SERVER=http://127.0.0.1:1")
	cmd.Dir = t.TempDir() // no ./data/ops.key
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("run %q: %v", args, err)
	}
	return o.String(), e.String(), code
}

// TestUsageMistakesExit2AndSayWhatIsAccepted: a bad date, time or window
// format shows the format, --party 0 says what is accepted, an unknown
// command names the nearest; all exit 2 before anything is sent.
func TestUsageMistakesExit2AndSayWhatIsAccepted(t *testing.T) {
	cases := []struct {
		name string
		args []string
		says []string
	}{
		{"bad date", []string{"book", "--date", "2026/12/01", "--party", "4", "--window", "08:00-10:00"}, []string{`--date "2026/12/01"`, "YYYY-MM-DD"}},
		{"day first", []string{"availability", "--date", "01-12-2026"}, []string{"YYYY-MM-DD"}},
		{"bookings date", []string{"bookings", "--date", "tomorrow"}, []string{"YYYY-MM-DD"}},
		{"plan date", []string{"plan", "--date", "2026-13-01"}, []string{"YYYY-MM-DD"}},
		{"requests date", []string{"requests", "--date", "6 April"}, []string{"YYYY-MM-DD"}},
		{"window without minutes", []string{"book", "--date", "2026-12-01", "--party", "4", "--window", "8-10"}, []string{`--window "8-10"`, "HH:MM-HH:MM"}},
		{"window one end", []string{"request", "--date", "2027-04-06", "--party", "4", "--window", "08:00"}, []string{"HH:MM-HH:MM"}},
		{"preferred", []string{"request", "--date", "2027-04-06", "--party", "4", "--window", "08:00-10:00", "--preferred", "9am"}, []string{`--preferred "9am"`, "HH:MM"}},
		{"close until", []string{"close", "--zone", "siq", "--reason", "flood", "--until", "14:00"}, []string{`--until "14:00"`, "RFC 3339"}},
		{"cut until", []string{"cut", "--zone", "siq", "--capacity", "600", "--reason", "rain", "--until", "2026-12-01 14:00"}, []string{"RFC 3339"}},
		{"party 0", []string{"book", "--date", "2026-12-01", "--party", "0", "--window", "08:00-10:00"}, []string{"--party 0", "accepted are 1 or more visitors"}},
		{"party negative", []string{"request", "--date", "2027-04-06", "--party", "-3", "--window", "08:00-10:00"}, []string{"--party -3", "accepted"}},
		{"unknown command", []string{"bok", "--date", "2026-12-01"}, []string{`unknown command "bok"`, "'tafweej book'"}},
		{"unknown command far", []string{"statsu"}, []string{`unknown command "statsu"`, "'tafweej status'"}},
		{"unknown subcommand", []string{"keys", "crate", "--operator", "x"}, []string{`unknown command "crate"`, "'tafweej keys create'"}},
		{"missing argument", []string{"ticket"}, []string{"accepts 1 arg", "tafweej ticket BOOKING-ID"}},
		{"console-link without console", []string{"console-link"}, []string{"--gate ID", "--ops"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, c.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d (usage)\nstdout: %s\nstderr: %s", code, exitUsage, out, errOut)
			}
			for _, s := range c.says {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr does not say %q:\n%s", s, errOut)
				}
			}
		})
	}
}

// TestCLIOperatorAndOpsDay: with a running service, 'bookings ID' shows the
// ticket code, 'ticket ID --png' saves its QR, --json prints every field
// the API answers, a closure says how many bookings moved, left their
// window or were cancelled, and 'console-link' prints a link that signs a
// gate console in once.
func TestCLIOperatorAndOpsDay(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real service; skipped with -short")
	}
	srv := startServer(t, t.TempDir(), "--clock-start", "2026-11-29T10:00:00+03:00")
	base := []string{"--server", srv.httpURL}
	out, err := cli(t, append(base, "--key", srv.opsKey, "--json", "keys", "create", "--operator", "jett-tours")...)
	if err != nil {
		t.Fatalf("keys create: %v\n%s", err, out)
	}
	var k struct {
		Key string `json:"key"`
	}
	json.Unmarshal([]byte(out), &k)
	op := append(base, "--key", k.Key)

	var ids []string
	idRE := regexp.MustCompile(`Booked (bk_[a-z0-9]+):`)
	for i := range 12 {
		out, err := cli(t, append(op, "book", "--date", "2026-12-01", "--route", "main", "--party", "40", "--window", "09:00-10:00", "--ref", "T"+string(rune('a'+i)))...)
		if err != nil {
			t.Fatalf("book: %v\n%s", err, out)
		}
		m := idRE.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("book printed %q", out)
		}
		ids = append(ids, m[1])
	}
	id := ids[0]

	// bookings ID shows the ticket code.
	var api map[string]any
	mustHTTP(t, "GET", srv.httpURL+"/v1/bookings/"+id, k.Key, nil, &api, http.StatusOK)
	ticket, _ := api["ticket"].(string)
	if ticket == "" {
		t.Fatalf("the API answers no ticket: %v", api)
	}
	out, err = cli(t, append(op, "bookings", id)...)
	if err != nil || !strings.Contains(out, ticket) {
		t.Fatalf("bookings %s does not show the ticket %s: %v\n%s", id, ticket, err, out)
	}
	// --json prints every field the API answers, as it answers them.
	out, err = cli(t, append(op, "--json", "bookings", id)...)
	var got map[string]any
	if err != nil || json.Unmarshal([]byte(out), &got) != nil {
		t.Fatalf("bookings --json: %v\n%s", err, out)
	}
	if a, b := slices.Sorted(maps.Keys(api)), slices.Sorted(maps.Keys(got)); !slices.Equal(a, b) {
		t.Fatalf("--json printed fields %v, the API answers %v", b, a)
	}
	for _, f := range []string{"window", "created_at", "version"} {
		if _, ok := got[f]; !ok {
			t.Errorf("--json lacks %q", f)
		}
	}
	// ticket ID --png saves the QR code.
	file := filepath.Join(t.TempDir(), "ticket.png")
	if out, err := cli(t, append(op, "ticket", id, "--png", file)...); err != nil || !strings.Contains(out, file) {
		t.Fatalf("ticket --png: %v\n%s", err, out)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil || img.Bounds().Dx() < 100 {
		t.Fatalf("the saved QR is not a PNG of a QR code: %v", err)
	}
	if out, err := cli(t, append(op, "ticket", id)...); err != nil || strings.TrimSpace(out) != ticket {
		t.Fatalf("ticket %s printed %q (%v), want the code", id, out, err)
	}

	// A closure of the Siq around the morning says what it did.
	ops := append(base, "--key", srv.opsKey)
	out, err = cli(t, append(ops, "close", "--zone", "siq", "--reason", "flood", "--until", "2026-12-01T11:00:00+03:00")...)
	if err != nil {
		t.Fatalf("close: %v\n%s", err, out)
	}
	want := closureCounts(t, srv, k.Key)
	if want[0]+want[2] == 0 {
		t.Fatalf("the closure re-planned nothing")
	}
	m := regexp.MustCompile(`(\d+) bookings moved to other waves \((\d+) of them outside the window their operator asked for\), (\d+) cancelled`).FindStringSubmatch(out)
	if m == nil || m[1] != itoa(want[0]) || m[2] != itoa(want[1]) || m[3] != itoa(want[2]) {
		t.Fatalf("close printed %q; the bookings say moved %d, out of window %d, cancelled %d", out, want[0], want[1], want[2])
	}

	// console-link prints a link that signs one gate console in.
	stdout, errOut, code := runCLI(t, "--server", srv.httpURL, "--key", srv.opsKey, "console-link", "--gate", "visitor-centre")
	link := strings.TrimSpace(stdout)
	if code != 0 || !strings.HasPrefix(link, srv.httpURL+"/gate#link=tfl1.") || !strings.Contains(errOut, "once") {
		t.Fatalf("console-link: exit %d\n%s\n%s", code, stdout, errOut)
	}
	token := link[strings.Index(link, "#link=")+len("#link="):]
	var claim struct{ Key, Role, Gate string }
	mustHTTP(t, "POST", srv.httpURL+"/v1/console-links/claim", "", map[string]string{"token": token}, &claim, http.StatusCreated)
	if claim.Role != "gate" || claim.Gate != "visitor-centre" {
		t.Fatalf("claimed %+v", claim)
	}
	mustHTTP(t, "GET", srv.httpURL+"/web/events?check=1&key="+claim.Key, "", nil, nil, http.StatusNoContent)
	mustHTTP(t, "POST", srv.httpURL+"/v1/console-links/claim", "", map[string]string{"token": token}, nil, http.StatusUnauthorized)
}

// closureCounts counts jett-tours' bookings the closure moved, moved out
// of their window (09:00-10:00) and cancelled, from the bookings.
func closureCounts(t *testing.T, srv *testServer, key string) [3]int {
	var list struct {
		Bookings []struct {
			Status string    `json:"status"`
			Reason string    `json:"reason"`
			Slot   time.Time `json:"slot"`
		} `json:"bookings"`
	}
	mustHTTP(t, "GET", srv.httpURL+"/v1/bookings?date=2026-12-01", key, nil, &list, http.StatusOK)
	var n [3]int
	for _, b := range list.Bookings {
		if !strings.HasPrefix(b.Reason, "closure: ") {
			continue
		}
		switch b.Status {
		case "rescheduled":
			n[0]++
			if hm := b.Slot.Format("15:04"); hm < "09:00" || hm >= "10:00" {
				n[1]++
			}
		case "cancelled":
			n[2]++
		}
	}
	return n
}

func itoa(n int) string { return strconv.Itoa(n) }
