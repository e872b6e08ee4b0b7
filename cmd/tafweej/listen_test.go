package main

import (
	"errors"
	"strings"
	"testing"
)

func TestNATSOffLoopbackNeedsTLS(t *testing.T) {
	for _, c := range []struct {
		name                    string
		natsListen              string
		embedded, tls, insecure bool
		httpAddr                string
		wantErr                 string
		wantWarnings            int
	}{
		{"loopback", "127.0.0.1:4222", true, false, false, "127.0.0.1:8080", "", 0},
		{"localhost", "localhost:4222", true, false, false, "[::1]:8080", "", 0},
		{"all interfaces, no TLS", "0.0.0.0:4222", true, false, false, "127.0.0.1:8080", "has no TLS", 0},
		{"empty host, no TLS", ":4222", true, false, false, "127.0.0.1:8080", "has no TLS", 0},
		{"LAN address, no TLS", "10.0.0.2:4222", true, false, false, "127.0.0.1:8080", "--insecure-nats", 0},
		{"LAN address, TLS", "10.0.0.2:4222", true, true, false, "127.0.0.1:8080", "", 0},
		{"LAN address, insecure", "10.0.0.2:4222", true, false, true, "127.0.0.1:8080", "", 1},
		{"external NATS: the listener is unused", "0.0.0.0:4222", false, false, false, "127.0.0.1:8080", "", 0},
		{"HTTP off loopback: a warning", "127.0.0.1:4222", true, false, false, "0.0.0.0:8080", "", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			w, err := listenRule(c.natsListen, c.embedded, c.tls, c.insecure, c.httpAddr)
			var ue *usageError
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.wantErr != "" && (!errors.As(err, &ue) || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("error %v, want a usage error with %q", err, c.wantErr)
			case len(w) != c.wantWarnings:
				t.Errorf("warnings %q, want %d", w, c.wantWarnings)
			}
		})
	}
}
