package main

import (
	"fmt"
	"net"
	"strings"
)

// isLoopback reports whether a listen host only accepts connections from
// this machine ("" and unspecified addresses listen everywhere).
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// listenRule checks where the service listens. The embedded NATS server on
// a non-loopback address without TLS is refused (anyone on the network
// would see every ticket code and device signature), unless insecure, which
// gives a warning instead. HTTP on a non-loopback address without TLS is a
// warning only: a reverse proxy usually terminates TLS in front of it.
func listenRule(natsListen string, embedded, natsTLS, insecure bool, httpAddr string) (warnings []string, err error) {
	if embedded {
		host, _, serr := net.SplitHostPort(natsListen)
		if serr != nil {
			return nil, usagef("e.g. --nats-listen 127.0.0.1:4222", "--nats-listen %q: %v", natsListen, serr)
		}
		if !isLoopback(host) && !natsTLS {
			if !insecure {
				return nil, usagef("give the listener a certificate with --nats-listen-cert FILE --nats-listen-key FILE (and --nats-listen-ca FILE to require client certificates), listen on 127.0.0.1, or accept the risk with --insecure-nats",
					"--nats-listen %q is reachable from the network but has no TLS: gate devices' ticket codes and counters' readings would cross it in clear text", natsListen)
			}
			warnings = append(warnings, fmt.Sprintf("--insecure-nats: the embedded NATS server listens on %s without TLS; ticket codes and readings cross the network in clear text", natsListen))
		}
	}
	if host, _, herr := net.SplitHostPort(httpAddr); herr == nil && !isLoopback(host) {
		warnings = append(warnings, fmt.Sprintf("--http %s is reachable from the network without TLS: put a TLS-terminating reverse proxy in front of it (API keys travel in its headers)", httpAddr))
	}
	return warnings, nil
}
