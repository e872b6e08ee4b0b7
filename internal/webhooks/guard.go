package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrForbiddenAddress: an endpoint resolves to an address webhooks may not
// reach (loopback, private, link-local, ...).
var ErrForbiddenAddress = errors.New("webhooks: address not allowed")

// specialRanges are the ranges beyond what netip's predicates cover that no
// webhook may reach.
var specialRanges = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network"
		"100.64.0.0/10",   // carrier-grade NAT
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"240.0.0.0/4",     // reserved, and broadcast
		"64:ff9b::/96",    // NAT64: could reach a private IPv4 address
		"64:ff9b:1::/48",  // local NAT64
		"2001:db8::/32",   // documentation
		"fec0::/10",       // site-local (deprecated)
		"2002::/16",       // 6to4: embeds an IPv4 address
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// allowedAddr reports whether a webhook may connect to ip.
func allowedAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range specialRanges {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// checkURL checks an endpoint URL's form: absolute http(s), a host, no
// credentials, no fragment.
func checkURL(raw string) (*url.URL, error) {
	if len(raw) > 2000 {
		return nil, inputErrorf("url", "url has %d bytes; at most 2000 are accepted", len(raw))
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return nil, inputErrorf("url", "url %q is not an absolute http(s) URL (e.g. \"https://hooks.example.com/tafweej\")", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, inputErrorf("url", "url %q has scheme %q; http and https are accepted", raw, u.Scheme)
	}
	if u.User != nil {
		return nil, inputErrorf("url", "url must not hold credentials (user:password@); requests are signed with the endpoint's secret instead")
	}
	if u.Fragment != "" {
		return nil, inputErrorf("url", "url %q has a fragment (#...), which is never sent; remove it", raw)
	}
	if u.Hostname() == "" {
		return nil, inputErrorf("url", "url %q has no host", raw)
	}
	return u, nil
}

// resolveAllowed resolves host and refuses it if any of its addresses may
// not be reached (a name with one public and one private address is
// refused: the dialler may pick either).
func resolveAllowed(ctx context.Context, r *net.Resolver, host string) error {
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		if !allowedAddr(ip) {
			return fmt.Errorf("%w: %s is a loopback, private, link-local or other special address", ErrForbiddenAddress, ip)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("host %q does not resolve: %v", host, err)
	}
	for _, a := range addrs {
		if !allowedAddr(a) {
			return fmt.Errorf("%w: host %q resolves to %s, a loopback, private, link-local or other special address", ErrForbiddenAddress, host, a.Unmap())
		}
	}
	return nil
}

// dialControl refuses, at connect time, an address webhooks may not reach:
// it sees the address actually dialled, after any DNS answer.
func dialControl(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse dialled address %q", ErrForbiddenAddress, address)
	}
	if !allowedAddr(ap.Addr()) {
		return fmt.Errorf("%w: %s is a loopback, private, link-local or other special address", ErrForbiddenAddress, ap.Addr().Unmap())
	}
	return nil
}
