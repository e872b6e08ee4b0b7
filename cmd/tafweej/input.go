package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tafweej/tafweej/scheduler"
)

// Checks of what a user types, before anything is sent: a wrong format is
// a usage error (exit 2) that shows the format and an example.

// checkDate checks a YYYY-MM-DD flag value.
func checkDate(flag, v string) error {
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		return usagef("e.g. "+flag+" "+time.Now().AddDate(0, 0, 1).Format(time.DateOnly),
			"%s %q is not a date: the format is YYYY-MM-DD", flag, v)
	}
	return nil
}

// checkClock checks an HH:MM flag value (00:00 to 24:00).
func checkClock(flag, v, example string) error {
	if len(v) == 5 && v[2] == ':' {
		if t, err := time.Parse("15:04", v); err == nil && t.Format("15:04") == v {
			return nil
		}
		if v == "24:00" {
			return nil
		}
	}
	return usagef("e.g. "+flag+" "+example, "%s %q is not a time of day: the format is HH:MM, 24-hour (00:00 to 24:00)", flag, v)
}

// checkWindow checks an HH:MM-HH:MM window and returns its two ends.
func checkWindow(v string) (from, to string, err error) {
	const example = "08:00-10:00"
	from, to, ok := strings.Cut(v, "-")
	if !ok || checkClock("--window", from, example) != nil || checkClock("--window", to, example) != nil {
		return "", "", usagef("e.g. --window "+example, "--window %q is not a window: the format is HH:MM-HH:MM, 24-hour", v)
	}
	return from, to, nil
}

// checkInstant checks an RFC 3339 flag value.
func checkInstant(flag, v string) error {
	if _, err := time.Parse(time.RFC3339, v); err != nil {
		return usagef("e.g. "+flag+" "+time.Now().AddDate(0, 0, 1).Format("2006-01-02")+"T14:00:00+03:00",
			"%s %q is not a time: the format is RFC 3339, YYYY-MM-DDTHH:MM:SS with the offset (+03:00 in Jordan)", flag, v)
	}
	return nil
}

// checkParty checks a --party value.
func checkParty(n int) error {
	if n < 1 {
		return usagef("e.g. --party 40",
			"--party %d is not a party size: accepted are 1 or more visitors, up to the site's largest party (policy.max_party_size in the site config)", n)
	}
	return nil
}

// call is do that also returns the answer's raw JSON, for --json: every
// field the service answers is printed, not only those this command knows.
// out (nil to skip) receives the decoded answer.
func (c *client) call(ctx context.Context, method, path string, body, out any, hdr ...string) ([]byte, error) {
	var raw []byte
	if err := c.do(ctx, method, path, body, &raw, hdr...); err != nil {
		return nil, err
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, fmt.Errorf("decode answer of %s %s: %w", method, path, err)
		}
	}
	return raw, nil
}

// printRaw prints an answer's JSON as the service sent it, indented.
func printRaw(w io.Writer, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, bytes.TrimSpace(raw), "", "  "); err != nil {
		return errors.New("the service's answer is not JSON")
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// printReplanned says what a closure's or cut's re-plan did with the
// bookings it hit.
func printReplanned(w io.Writer, n scheduler.ReplanCounts) {
	if n.Moved == 0 && n.Cancelled == 0 {
		fmt.Fprintln(w, "  No booking had to move.")
		return
	}
	fmt.Fprintf(w, "  %d bookings moved to other waves (%d of them outside the window their operator asked for), %d cancelled for want of room.\n",
		n.Moved, n.OutOfWindow, n.Cancelled)
}
