package web_test

import (
	"io/fs"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
)

// blockedByCSP are the ways a page can ask for something that the
// console's Content-Security-Policy (default-src 'self', no
// 'unsafe-inline', no 'unsafe-eval') blocks: the browser drops it with
// only a console message, so a bar draws empty or a button does nothing.
// A style set through the CSSOM (element.style.inlineSize = ...) is
// allowed, and is how the pages draw.
var blockedByCSP = map[string][]struct {
	re  *regexp.Regexp
	why string
}{
	".html": {
		{regexp.MustCompile(`(?i)<[a-z][^>]*\sstyle\s*=`), "a style attribute"},
		{regexp.MustCompile(`(?i)<style[\s>]`), "an inline <style> element"},
		{regexp.MustCompile(`(?i)<script(\s[^>]*)?>\s*[^<\s]`), "an inline script"},
		{regexp.MustCompile(`(?i)<[a-z][^>]*\son[a-z]+\s*=`), "an inline event handler"},
		{regexp.MustCompile(`(?i)javascript:`), "a javascript: URL"},
	},
	".js": {
		{regexp.MustCompile(`setAttribute\(\s*["'\x60]style`), "a style attribute set with setAttribute"},
		{regexp.MustCompile(`\bstyle\s*:\s*["'\x60]`), "a style attribute given to TF.el as a string"},
		{regexp.MustCompile(`\.(innerHTML|outerHTML)\s*\+?=|insertAdjacentHTML`), "markup from strings (its style attributes and handlers are blocked)"},
		{regexp.MustCompile(`\beval\(|new Function\(|set(Timeout|Interval)\(\s*["'\x60]`), "code from strings (no 'unsafe-eval')"},
		{regexp.MustCompile(`javascript:`), "a javascript: URL"},
	},
}

// TestConsoleAssetsUseNothingTheirCSPBlocks reads every page and script of
// the console for what the CSP blocks; the browser tests draw the pages
// and fail on any violation, this one also runs where no browser is.
func TestConsoleAssetsUseNothingTheirCSPBlocks(t *testing.T) {
	assets := os.DirFS("assets")
	checked := 0
	err := fs.WalkDir(assets, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		var rules []struct {
			re  *regexp.Regexp
			why string
		}
		for ext, r := range blockedByCSP {
			if strings.HasSuffix(path, ext) {
				rules = r
			}
		}
		if rules == nil {
			return nil
		}
		data, err := fs.ReadFile(assets, path)
		if err != nil {
			return err
		}
		checked++
		for i, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "//") {
				continue
			}
			for _, r := range rules {
				if m := r.re.FindString(line); m != "" {
					t.Errorf("web/assets/%s:%d: %s, which the page's CSP blocks: %q", path, i+1, r.why, strings.TrimSpace(line))
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 4 {
		t.Fatalf("checked only %d assets", checked)
	}

	// The fix is never a weaker policy.
	s := newStack(t)
	for _, p := range []string{"/gate", "/ops"} {
		resp, _ := get(t, s.srv.URL+p)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", p, resp.StatusCode)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, weak := range []string{"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*"} {
			if strings.Contains(csp, weak) {
				t.Errorf("GET %s: Content-Security-Policy %q has %s", p, csp, weak)
			}
		}
		if !strings.HasPrefix(csp, "default-src 'self';") {
			t.Errorf("GET %s: Content-Security-Policy %q does not start with default-src 'self'", p, csp)
		}
	}
}
