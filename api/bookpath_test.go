package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/iotest"

	"pgregory.net/rapid"
)

// TestPlainBodiesNeedNoTextCheck: decode skips checkText when allPlain
// says a body's fields cannot hold a refused character; for any text,
// written by any JSON encoder (escaped or not), allPlain never says so of
// a field that checkText refuses.
func TestPlainBodiesNeedNoTextCheck(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		text := rapid.OneOf(rapid.String(), rapid.StringMatching(`[ -~]{0,12}`),
			rapid.StringOf(rapid.SampledFrom([]rune{'a', ' ', '\\', '"', 0x7f, 0x85, 0x200e, 0x2028, 0x202e, 0x2066, '\t', '\n', 0, 0x1b}))).Draw(t, "text")
		nested := rapid.Bool().Draw(t, "nested")
		var v any = text
		if nested {
			v = map[string]any{"from": text, "list": []any{text, 1}}
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(rapid.Bool().Draw(t, "escapeHTML"))
		if err := enc.Encode(map[string]any{"field": v}); err != nil {
			t.Fatal(err)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
			t.Fatal(err)
		}
		if allPlain(raw) && checkText("field", raw["field"]) != nil {
			t.Fatalf("allPlain passed %s, which checkText refuses", raw["field"])
		}
	})
}

// TestReadBodyIsReadAll: readBody gives what io.ReadAll gives, data and
// error, whatever the Content-Length says, the reads' sizes and the size
// limit.
func TestReadBodyIsReadAll(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		data := rapid.SliceOfN(rapid.Byte(), 0, 3000).Draw(t, "data")
		limit := int64(rapid.IntRange(1, 4000).Draw(t, "limit"))
		cl := rapid.SampledFrom([]int64{-1, 0, int64(len(data) / 2), int64(len(data)), int64(len(data)) + 7, 1 << 30}).Draw(t, "content length")
		oneByte := rapid.Bool().Draw(t, "one byte reads")
		req := func() *http.Request {
			r := httptest.NewRequest("POST", "/v1/bookings", nil)
			var body io.Reader = bytes.NewReader(data)
			if oneByte {
				body = iotest.OneByteReader(body)
			}
			r.Body = http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(body), limit)
			r.ContentLength = cl
			return r
		}
		want, wantErr := io.ReadAll(req().Body)
		got, gotErr := readBody(req())
		if !bytes.Equal(got, want) {
			t.Fatalf("readBody: %d bytes, io.ReadAll %d", len(got), len(want))
		}
		var gotTooBig, wantTooBig *http.MaxBytesError
		if (gotErr == nil) != (wantErr == nil) || errors.As(gotErr, &gotTooBig) != errors.As(wantErr, &wantTooBig) {
			t.Fatalf("readBody: error %v, io.ReadAll %v", gotErr, wantErr)
		}
	})
}
