package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestClientTellsServerErrorFromUnreachable: the CLI says "cannot reach"
// only when nothing answered the connection; a 500 with an error body, a
// connection dropped before the answer and an answer cut off each say the
// service is up but failed, with the id when it gave one.
func TestClientTellsServerErrorFromUnreachable(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/500", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"error":{"code":"internal","message":"internal error panic-0123456789abcdef: the service failed","id":"panic-0123456789abcdef"}}`))
	})
	mux.HandleFunc("/drop", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	mux.HandleFunc("/cut", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.Write([]byte(`{"plan":`))
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()

	tests := []struct {
		name, base, path string
		want, notWant    []string
	}{
		{"server error", srv.URL, "/500", []string{"internal error panic-0123456789abcdef", "HTTP 500", "failed on this request", "under panic-0123456789abcdef"}, []string{"cannot reach"}},
		{"dropped", srv.URL, "/drop", []string{"closed the connection without an answer", "GET /drop"}, []string{"cannot reach"}},
		{"cut off", srv.URL, "/cut", []string{"was cut off", "HTTP 200"}, []string{"cannot reach"}},
		{"unreachable", closed, "/v1/status", []string{"cannot reach the tafweej service at " + closed, "tafweej serve"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &client{base: tt.base, http: &http.Client{Timeout: 10 * time.Second}}
			err := c.do(context.Background(), "GET", tt.path, nil, nil)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error %q says %q", err, w)
				}
			}
		})
	}
}
