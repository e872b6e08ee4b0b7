package api

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// answer is a JSON answer encoded ahead of writing it: POST /v1/bookings
// signs the ticket and encodes its 201 while the booking is being written
// (engine.DoPrepared), and writes it once the booking is durable.
type answer struct {
	status int
	body   []byte
}

// encodeAnswer encodes v as the answer with status (a 500 with an error
// body if v cannot be encoded).
func encodeAnswer(status int, v any) answer {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // messages quote "<key>"; answers are not HTML
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":{"code":"internal","message":"the answer could not be encoded"}}` + "\n")
	}
	return answer{status: status, body: buf.Bytes()}
}

// write sends the answer.
func (a answer) write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(a.status)
	w.Write(a.body)
}
