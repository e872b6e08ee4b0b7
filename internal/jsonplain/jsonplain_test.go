package jsonplain

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzAppendIsEncodingJSON: a string Append writes is written byte for
// byte as encoding/json writes it, and a string it refuses is one
// encoding/json escapes.
func FuzzAppendIsEncodingJSON(f *testing.F) {
	for _, s := range []string{"", "visitor-centre", "مرحبا", "a<b", "x&y", "\"", "\\", "\u2028", "\xff", "\x01", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := Append([]byte("x"), s)
		if ok && !bytes.Equal(got[1:], want) {
			t.Fatalf("Append(%q) = %s, encoding/json %s", s, got[1:], want)
		}
		if !ok && (string(got) != "x" || string(want) == `"`+s+`"`) {
			t.Fatalf("Append(%q) refused a string encoding/json writes plain (%s), or changed dst (%q)", s, want, got)
		}
	})
}
