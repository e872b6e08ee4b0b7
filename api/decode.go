package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// body describes the JSON object an endpoint accepts: its fields, and the
// fields a client may not send with why.
type body struct {
	fields    []string
	forbidden map[string]string // lower-case name → reason
}

// serverFields are a booking's fields that the server assigns.
var serverFields = []string{"id", "operator", "status", "slot", "gate", "admitted", "reason",
	"created_at", "updated_at", "version", "ticket", "ticket_url"}

func forbid(reason string, names ...string) map[string]string {
	m := map[string]string{}
	for _, n := range names {
		m[n] = reason
	}
	return m
}

const assigned = "the server assigns them"

var (
	bookingBody = body{
		fields:    []string{"date", "route", "party_size", "window", "language", "guide", "reference"},
		forbidden: forbid(assigned, serverFields...),
	}
	patchBody = func() body {
		b := body{fields: []string{"party_size", "window"}, forbidden: forbid(assigned, serverFields...)}
		for _, f := range []string{"date", "route", "language", "guide", "reference"} {
			b.forbidden[f] = "only party_size and window can be changed; cancel the booking and book again to change the others"
		}
		return b
	}()
	requestBody = body{
		fields:    []string{"date", "route", "party_size", "window", "preferred", "language", "guide", "reference"},
		forbidden: forbid(assigned, append(slices.Clone(serverFields), "booking", "cutoff")...),
	}
	closureBody = body{fields: []string{"zones", "all", "reason", "until"}, forbidden: forbid(assigned, "id", "source", "from", "lifted")}
	holdBody    = body{fields: []string{"zone", "on"}}
	cutBody     = body{fields: []string{"zone", "gate", "capacity", "from", "until", "reason"}, forbidden: forbid(assigned, "id", "source", "lifted")}
	keyBody     = body{fields: []string{"role", "operator", "gates", "name"}, forbidden: forbid(assigned, "key", "hash", "prefix", "created_at")}
	scanBody    = body{fields: []string{"gate", "ticket", "count", "scan_id", "device", "at"}}
)

// decode reads the request's JSON object into dst strictly: the content
// type must be JSON, the body within the size limit, one object with only
// the accepted fields, each of the right type. It returns the names of the
// fields present.
func decode(r *http.Request, spec body, dst any) (map[string]bool, *apiError) {
	ct := r.Header.Get("Content-Type")
	if !isJSONType(ct) {
		return nil, errf(http.StatusUnsupportedMediaType, CodeMediaType, "Content-Type",
			"Content-Type %q is not accepted: send the body as JSON with \"Content-Type: application/json\"", ct)
	}
	data, err := readBody(r)
	if err != nil {
		var tooBig *http.MaxBytesError
		if isTimeout(err) {
			return nil, errf(http.StatusRequestTimeout, CodeTimeout, "", "the request body did not arrive in time: send it whole within a few seconds")
		}
		if errors.As(err, &tooBig) {
			return nil, errf(http.StatusRequestEntityTooLarge, CodeTooLarge, "",
				"the request body is larger than %d bytes", tooBig.Limit)
		}
		return nil, badRequest("", "the request body could not be read: %v", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, badRequest("", "the request body is empty: send a JSON object with the fields %s", strings.Join(spec.fields, ", "))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return nil, badRequest("", "the request body is not valid JSON: %v (at byte %d)", syn, syn.Offset)
		case errors.As(err, &typ):
			return nil, badRequest("", "the request body must be a JSON object, not %s", typ.Value)
		}
		return nil, badRequest("", "the request body is not valid JSON: %v", err)
	}
	if raw == nil {
		return nil, badRequest("", "the request body must be a JSON object, not null")
	}
	present := map[string]bool{}
	var forbidden, unknown []string
	for name := range raw {
		present[name] = true
		if _, ok := spec.forbidden[strings.ToLower(name)]; ok {
			forbidden = append(forbidden, name)
		} else if !slices.Contains(spec.fields, name) {
			unknown = append(unknown, name)
		}
	}
	if len(forbidden) > 0 {
		sort.Strings(forbidden)
		byReason := map[string][]string{}
		var reasons []string
		for _, f := range forbidden {
			why := spec.forbidden[strings.ToLower(f)]
			if byReason[why] == nil {
				reasons = append(reasons, why)
			}
			byReason[why] = append(byReason[why], f)
		}
		var parts []string
		for _, why := range reasons {
			parts = append(parts, quoteAll(byReason[why])+": "+why)
		}
		return nil, badRequest(forbidden[0], "a client may not set %s", strings.Join(parts, "; "))
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, badRequest(unknown[0], "unknown field %s (accepted: %s)", quoteAll(unknown), strings.Join(spec.fields, ", "))
	}
	if !allPlain(raw) {
		for _, name := range slices.Sorted(maps.Keys(raw)) {
			if e := checkText(name, raw[name]); e != nil {
				return nil, e
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			field := typ.Field
			return nil, badRequest(field, "field %q must be %s, not %s", field, jsonKind(typ.Type.Kind().String()), typ.Value)
		}
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			name = strings.Trim(name, `"`)
			return nil, badRequest(name, "unknown field %q in a nested object", name)
		}
		return nil, badRequest("", "the request body does not decode: %v", err)
	}
	if dec.More() {
		return nil, badRequest("", "the request body has data after its JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badRequest("", "the request body has data after its JSON object")
	}
	return present, nil
}

// isJSONType reports whether a Content-Type is JSON: "application/json",
// with parameters or in other letter case too.
func isJSONType(ct string) bool {
	if ct == "application/json" { // what clients send: no parsing
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// readBody reads the request's body whole, as io.ReadAll does, into a
// buffer sized from its Content-Length when it has one.
func readBody(r *http.Request) ([]byte, error) {
	n := 512
	if cl := r.ContentLength; cl > 0 && cl < 1<<20 {
		n = int(cl) + 1 // the read that finds the end needs room
	}
	b := make([]byte, 0, n)
	for {
		m, err := r.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// allPlain reports whether no field's JSON can hold a character that
// checkText refuses: none has an escape ('\\'), a DEL or a byte of a
// multi-byte character, and valid JSON, which raw is, has no raw control
// code inside a string. Bodies of plain ASCII text, nearly all of them,
// then need no second decoding of every field.
func allPlain(raw map[string]json.RawMessage) bool {
	for _, v := range raw {
		for _, c := range v {
			if c == '\\' || c >= 0x7f {
				return false
			}
		}
	}
	return true
}

func quoteAll(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}

// jsonKind names a Go kind as JSON calls it.
func jsonKind(kind string) string {
	switch kind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "a list"
	case "struct", "map", "ptr":
		return "an object"
	}
	return "of another type"
}

// checkText refuses a control character in any text of a body field
// (strings nested in objects and lists included), so that nothing stored or
// shown later carries one: C0 codes (NUL, ESC, CR, LF, tab...), DEL, C1
// codes, the line and paragraph separators, and the bidirectional embedding,
// override and isolate characters (U+202A-U+202E, U+2066-U+2069), which make
// a text display as something else. The marks U+200E, U+200F and U+061C stay
// allowed: Arabic text needs them. A value that is not valid JSON is left
// for the typed decoding to report.
func checkText(field string, raw json.RawMessage) *apiError {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	return walkText(field, v)
}

func walkText(path string, v any) *apiError {
	switch x := v.(type) {
	case string:
		for i, r := range x {
			if controlRune(r) {
				return badRequest(path, "field %q has the control character %U at byte %d: text fields accept printable characters only "+
					"(no control codes, line breaks or direction overrides)", path, r, i)
			}
		}
	case []any:
		for i, e := range x {
			if err := walkText(fmt.Sprintf("%s[%d]", path, i), e); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if err := walkText(path+"."+k, x[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// controlRune reports whether r is refused in text fields (see checkText).
func controlRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
