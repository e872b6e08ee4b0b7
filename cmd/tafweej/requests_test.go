package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cli runs one tafweej command in-process and returns its output.
func cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return out.String() + errOut.String(), err
}

// TestRequestCommands: two operators request entries on a planned day
// with 'tafweej request' shortly before its cut-off; the service allots
// them after it, and 'tafweej requests ID' shows each booking and ticket.
// Then operations cut the Siq's capacity on that day ('tafweej cut',
// 'cuts', 'lift').
func TestRequestCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real service; skipped with -short")
	}
	// 6 April 2027 is a planned day; its requests close 3 April at 18:00,
	// 20 simulated minutes (10 s) after the service starts.
	srv := startServer(t, t.TempDir(), "--clock-start", "2027-04-03T17:40:00+03:00", "--clock-speed", "120")
	base := []string{"--server", srv.httpURL}
	keys := map[string]string{}
	for _, op := range []string{"desert-tours", "rose-city"} {
		out, err := cli(t, append(base, "--key", srv.opsKey, "--json", "keys", "create", "--operator", op)...)
		if err != nil {
			t.Fatalf("keys create: %v\n%s", err, out)
		}
		var k struct {
			Key string `json:"key"`
		}
		if err := json.Unmarshal([]byte(out), &k); err != nil || k.Key == "" {
			t.Fatalf("keys create printed %q", out)
		}
		keys[op] = k.Key
	}

	// Before the cut-off first come is refused with the way to go.
	out, err := cli(t, append(base, "--key", keys["desert-tours"], "book", "--date", "2027-04-06", "--party", "10", "--window", "08:00-10:00")...)
	if err == nil || !strings.Contains(out+err.Error(), "POST /v1/requests") {
		t.Fatalf("book on a planned day: %v\n%s", err, out)
	}
	idRE := regexp.MustCompile(`Requested (rq_[a-z2-7]+):`)
	owner := map[string]string{}
	for i := range 6 {
		op := []string{"desert-tours", "rose-city"}[i%2]
		out, err := cli(t, append(base, "--key", keys[op], "request", "--date", "2027-04-06", "--route", "main",
			"--party", fmt.Sprint(20+i), "--window", "08:00-11:00", "--preferred", "09:00")...)
		if err != nil {
			t.Fatalf("request %d: %v\n%s", i, err, out)
		}
		m := idRE.FindStringSubmatch(out)
		if m == nil || !strings.Contains(out, "requests close 2027-04-03 18:00 +03:00") {
			t.Fatalf("request printed:\n%s", out)
		}
		owner[m[1]] = op
	}
	out, err = cli(t, append(base, "--key", keys["rose-city"], "requests", "--date", "2027-04-06")...)
	if err != nil || strings.Count(out, "pending") != 3 || strings.Contains(out, "desert-tours") {
		t.Fatalf("rose-city's requests before the cut-off: %v\n%s", err, out)
	}

	checkFor(t, 60*time.Second, func() error {
		out, err := cli(t, append(base, "--key", srv.opsKey, "requests", "--date", "2027-04-06")...)
		if err != nil {
			return err
		}
		if n := strings.Count(out, "allotted"); n != 6 {
			return fmt.Errorf("%d of 6 requests allotted:\n%s", n, out)
		}
		return nil
	})
	for id, op := range owner {
		out, err := cli(t, append(base, "--key", keys[op], "requests", id)...)
		if err != nil {
			t.Fatalf("requests %s: %v", id, err)
		}
		if !regexp.MustCompile(`booking bk_[a-z2-7]+: wave 2027-04-06 (08|09|10):[0-5][0-9] \+03:00 at gate `).MatchString(out) ||
			!strings.Contains(out, "ticket  TFW1.") {
			t.Fatalf("requests %s shows:\n%s", id, out)
		}
	}

	// Rain is forecast: operations cut the Siq on the day; the groups over
	// the cut are moved, and the cut can be listed and lifted.
	ops := append(base, "--key", srv.opsKey)
	out, err = cli(t, append(ops, "cut", "--zone", "siq", "--capacity", "40", "--from", "2027-04-06T08:00:00+03:00",
		"--until", "2027-04-06T12:00:00+03:00", "--reason", "rain")...)
	cutRE := regexp.MustCompile(`Cut zone siq to 40 from 2027-04-06 08:00 until 2027-04-06 12:00 \(rain\) as (cu_[a-z2-7]+)\.`)
	m := cutRE.FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("cut: %v\n%s", err, out)
	}
	out, err = cli(t, append(ops, "bookings", "--date", "2027-04-06")...)
	if err != nil || !strings.Contains(out, "capacity cut: rain") {
		t.Fatalf("no booking moved by the cut: %v\n%s", err, out)
	}
	if out, err = cli(t, append(ops, "cuts")...); err != nil || !strings.Contains(out, m[1]) {
		t.Fatalf("cuts: %v\n%s", err, out)
	}
	if out, err = cli(t, append(ops, "lift", m[1])...); err != nil || !strings.Contains(out, "Lifted") {
		t.Fatalf("lift: %v\n%s", err, out)
	}
}
