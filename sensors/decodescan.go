package sensors

import (
	"unicode/utf8"

	"github.com/tafweej/tafweej/scheduler"
)

// decodeScanFast decodes a scan request as gates send it without
// reflection: one JSON object of the contract's fields, each at most once
// and spelt in lower case, string values without escapes, the count a
// plain integer of at most 9 digits. It returns false for anything else
// (anything it is not sure of), which decodeStrict then decodes or
// refuses, saying why; what it accepts, decodeStrict accepts as the same
// request (FuzzDecodeScan, TestScanFastDecodeAgreesWithStrict).
// encoding/json's decoder was about half of a scan's CPU before the owner
// loop.
func decodeScanFast(data []byte) (req scheduler.ScanRequest, ok bool) {
	if len(data) > maxScanBytes || !utf8.Valid(data) {
		return req, false
	}
	p := 0
	ws := func() {
		for p < len(data) && (data[p] == ' ' || data[p] == '\t' || data[p] == '\n' || data[p] == '\r') {
			p++
		}
	}
	str := func() (string, bool) {
		if p >= len(data) || data[p] != '"' {
			return "", false
		}
		p++
		for start := p; p < len(data); p++ {
			switch c := data[p]; {
			case c == '"':
				p++
				return string(data[start : p-1]), true
			case c == '\\' || c < 0x20:
				return "", false
			}
		}
		return "", false
	}
	num := func() (int, bool) {
		start, n := p, 0
		for p < len(data) && data[p] >= '0' && data[p] <= '9' {
			n = n*10 + int(data[p]-'0')
			p++
		}
		digits := p - start
		if digits == 0 || digits > 9 || (digits > 1 && data[start] == '0') {
			return 0, false
		}
		return n, true
	}
	ws()
	if p >= len(data) || data[p] != '{' {
		return req, false
	}
	p++
	ws()
	if p < len(data) && data[p] == '}' {
		p++
	} else {
		var seen uint8
		for {
			ws()
			key, ok := str()
			if !ok {
				return scheduler.ScanRequest{}, false
			}
			ws()
			if p >= len(data) || data[p] != ':' {
				return scheduler.ScanRequest{}, false
			}
			p++
			ws()
			var bit uint8
			switch key {
			case "ticket":
				bit = 1
				req.Ticket, ok = str()
			case "count":
				bit = 2
				req.Count, ok = num()
			case "scan_id":
				bit = 4
				req.ScanID, ok = str()
			case "device":
				bit = 8
				req.Device, ok = str()
			case "at":
				bit = 16
				req.At, ok = str()
			default:
				return scheduler.ScanRequest{}, false
			}
			if !ok || seen&bit != 0 {
				return scheduler.ScanRequest{}, false
			}
			seen |= bit
			ws()
			if p < len(data) && data[p] == ',' {
				p++
				continue
			}
			if p < len(data) && data[p] == '}' {
				p++
				break
			}
			return scheduler.ScanRequest{}, false
		}
	}
	ws()
	if p != len(data) {
		return scheduler.ScanRequest{}, false
	}
	return req, true
}
