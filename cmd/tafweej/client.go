package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// apiError is an error answer of the service.
type apiError struct {
	Status       int
	Code         string          `json:"code"`
	Message      string          `json:"message"`
	Field        string          `json:"field,omitempty"`
	Alternatives []alternativeJS `json:"alternatives,omitempty"`
	ID           string          `json:"id,omitempty"`
}

type alternativeJS struct {
	Slot      time.Time `json:"slot"`
	Gate      string    `json:"gate"`
	Remaining int       `json:"remaining"`
}

func (e *apiError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s, HTTP %d)", e.Message, e.Code, e.Status)
	for i, a := range e.Alternatives {
		if i == 0 {
			b.WriteString("\n  nearest waves with room:")
		}
		fmt.Fprintf(&b, "\n    %s at %s (%d places)", a.Slot.Format("2006-01-02 15:04"), a.Gate, a.Remaining)
	}
	switch e.Status {
	case http.StatusUnauthorized:
		b.WriteString("\n  hint: pass a key with --key or TAFWEEJ_KEY; the ops key is in DATA/ops.key, operator keys come from 'tafweej keys create --operator ID'")
	case http.StatusForbidden:
		b.WriteString("\n  hint: this key's role may not do that; use an ops key or the right operator's key")
	case http.StatusInternalServerError:
		b.WriteString("\n  hint: the service is up but failed on this request")
		if e.ID != "" {
			fmt.Fprintf(&b, "; its log has the details under %s", e.ID)
		}
	}
	return b.String()
}

// client talks to a running service.
type client struct {
	base string
	key  string
	http *http.Client
}

func (g *globals) client() (*client, error) {
	u, err := url.Parse(g.server)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, usagef("e.g. --server http://127.0.0.1:8080", "--server %q is not an http(s) URL", g.server)
	}
	key := g.key
	if key == "" {
		if b, err := os.ReadFile("data/ops.key"); err == nil {
			key = strings.TrimSpace(string(b))
		}
	}
	return &client{base: strings.TrimRight(g.server, "/"), key: key, http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// do sends a request with a JSON body (nil for none) and decodes a JSON
// answer into out (nil to discard). hdr adds headers.
func (c *client) do(ctx context.Context, method, path string, body, out any, hdr ...string) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.transportError(method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("the answer of the tafweej service at %s to %s %s (HTTP %d) was cut off: %w\n  hint: the service may have failed on this request; see its log, and check what was done before retrying a change",
			c.base, method, path, resp.StatusCode, err)
	}
	if resp.StatusCode >= 300 {
		var env struct {
			Error *apiError `json:"error"`
		}
		if json.Unmarshal(data, &env) == nil && env.Error != nil {
			env.Error.Status = resp.StatusCode
			return env.Error
		}
		return &apiError{Status: resp.StatusCode, Code: "http_error", Message: strings.TrimSpace(string(data))}
	}
	if out == nil {
		return nil
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = data
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode answer of %s %s: %w", method, path, err)
	}
	return nil
}

// transportError tells an unreachable service (nothing was sent) apart
// from one that took the request and dropped the connection or did not
// answer in time (it may have failed on it, or even applied it).
func (c *client) transportError(method, path string, err error) error {
	var op *net.OpError
	var dns *net.DNSError
	if errors.As(err, &dns) || errors.As(err, &op) && op.Op == "dial" {
		return fmt.Errorf("cannot reach the tafweej service at %s: %w\n  hint: start it with 'tafweej serve' or point --server / TAFWEEJ_SERVER at it", c.base, err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("the tafweej service at %s took %s %s but did not answer in time: %w\n  hint: it is reachable but slow or stuck; see its log, and check what was done before retrying a change", c.base, method, path, err)
	}
	return fmt.Errorf("the tafweej service at %s took %s %s but closed the connection without an answer: %w\n  hint: it is reachable but may have failed on this request; see its log, and check what was done before retrying a change", c.base, method, path, err)
}

// table prints rows under a header, aligned.
func table(w io.Writer, header string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

var errSilent = errors.New("")
