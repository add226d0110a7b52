// Package netguard keeps outbound requests to URLs that users chose (web push endpoints
// now, webhooks later) away from the server's own network. A hostname is checked where
// it matters, on the address the connection is actually made to (net.Dialer's Control
// runs after DNS resolution, for every address tried), so a name that resolves to
// 127.0.0.1, or that changes its answer between a check and the request (DNS
// rebinding), cannot reach an internal service. Loopback, private, link-local,
// multicast and unspecified addresses are refused unless the allowlist names them;
// plain http is refused except to an allowed loopback address (a local fake in tests).
package netguard

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// ErrRefused is wrapped by every refusal of the guard. A refused request is never worth
// retrying: the address will not become public by waiting.
var ErrRefused = errors.New("outbound address refused")

// Policy says which addresses an outbound request may reach. The zero Policy allows
// only public addresses over https.
type Policy struct {
	// Allow lists networks that would otherwise be refused (loopback, private, …).
	Allow []netip.Prefix
}

// ParseAllow reads an allowlist of CIDRs ("10.20.0.0/16") or single addresses
// ("127.0.0.1").
func ParseAllow(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		if pr, err := netip.ParsePrefix(s); err == nil {
			out = append(out, pr.Masked())
		} else if a, err := netip.ParseAddr(s); err == nil {
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		} else {
			return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or an IP address", s)
		}
	}
	return out, nil
}

// Loopback is the allowlist of this machine's own addresses, for local fakes in tests.
var Loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// Internal reports whether a is an address of this machine or of a non-public network:
// loopback, private (RFC 1918, fc00::/7), link-local (169.254.0.0/16, where cloud
// metadata services live, and fe80::/10), multicast or unspecified. IPv4 mapped in IPv6
// is judged as IPv4.
func Internal(a netip.Addr) bool {
	a = a.Unmap()
	if nat64.Contains(a) { // 64:ff9b::a.b.c.d reaches a.b.c.d through a NAT64 gateway
		b := a.As16()
		a = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	return !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || cgnat.Contains(a)
}

var (
	// cgnat is the carrier-grade NAT range (RFC 6598): not public either.
	cgnat = netip.MustParsePrefix("100.64.0.0/10")
	// nat64 is the well-known NAT64 prefix (RFC 6052).
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
)

// Allowed reports whether a connection to a may be made.
func (p Policy) Allowed(a netip.Addr) bool {
	a = a.Unmap()
	if !Internal(a) {
		return true
	}
	for _, pr := range p.Allow {
		if pr.Contains(a) {
			return true
		}
	}
	return false
}

// Control is a net.Dialer Control function: it refuses a connection to an address the
// policy does not allow. It sees the resolved address, after DNS.
func (p Policy) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !p.Allowed(ap.Addr()) {
		return &RefusedError{Addr: ap.Addr()}
	}
	return nil
}

// Dialer returns a dialer that checks every address it connects to.
func (p Policy) Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: p.Control}
}

// Transport returns an HTTP transport whose connections are checked by the policy. It
// ignores HTTP_PROXY and the like: through a proxy the guard would only see the proxy.
func (p Policy) Transport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.DialContext = p.Dialer(10 * time.Second).DialContext
	return tr
}

// Client returns an HTTP client for user-given URLs: connections checked by the policy,
// https only (plain http only to an allowed loopback address), no redirects followed
// (a redirect would be a second URL nobody checked), and the timeout.
func (p Policy) Client(timeout time.Duration) *http.Client {
	return &http.Client{
		Transport:     p.RoundTripper(p.Transport()),
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// RoundTripper wraps next (whose dialer should use Control) with the scheme rule: https,
// or http to a loopback address the allowlist names (a local fake; over the network,
// plain http would show the request to anyone on the way).
func (p Policy) RoundTripper(next http.RoundTripper) http.RoundTripper {
	return schemeGuard{p: p, next: next}
}

type schemeGuard struct {
	p    Policy
	next http.RoundTripper
}

func (g schemeGuard) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := g.p.CheckScheme(r.URL.Scheme, r.URL.Hostname()); err != nil {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, err
	}
	return g.next.RoundTrip(r)
}

// CheckScheme refuses any scheme but https, except http to a loopback host ("localhost"
// or a loopback IP literal) that the allowlist names.
func (p Policy) CheckScheme(scheme, host string) error {
	switch scheme {
	case "https":
		return nil
	case "http":
		if strings.EqualFold(host, "localhost") && p.Allowed(netip.MustParseAddr("127.0.0.1")) {
			return nil
		}
		if a, err := netip.ParseAddr(host); err == nil && a.Unmap().IsLoopback() && p.Allowed(a) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s:// to %s (only https)", ErrRefused, scheme, host)
}
