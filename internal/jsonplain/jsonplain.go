// Package jsonplain writes the JSON strings that need no escape without
// encoding/json: the hand-written encoders of the hot records (a gate's
// scan reply, the booking record) use it and fall back to encoding/json
// for anything else.
package jsonplain

import "unicode/utf8"

// Append appends s quoted, as encoding/json writes it, and reports true,
// if encoding/json would write s without escapes: valid UTF-8 without
// control characters, '"', '\\', the HTML characters '<', '>' and '&',
// U+2028 or U+2029. Otherwise it returns dst unchanged and false.
func Append(dst []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return dst, false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || r == '\u2028' || r == '\u2029' {
			return dst, false
		}
		i += n
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"'), true
}
