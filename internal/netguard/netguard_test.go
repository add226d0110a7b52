package netguard_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/internal/netguard"
)

// The addresses a user-given URL may reach, written out by hand.
func TestAllowedAddresses(t *testing.T) {
	office := netguard.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}}
	for _, tc := range []struct {
		addr          string
		zero, allowed bool // by the zero policy; by office, which allows 10.20.0.0/16
	}{
		{"8.8.8.8", true, true},
		{"142.250.72.14", true, true},
		{"2a00:1450:4001:80b::200a", true, true},
		{"127.0.0.1", false, false},
		{"127.8.9.10", false, false},
		{"::1", false, false},
		{"::ffff:127.0.0.1", false, false},
		{"10.0.0.1", false, false},
		{"10.20.3.4", false, true},
		{"::ffff:10.20.3.4", false, true},
		{"172.16.0.1", false, false},
		{"172.31.255.255", false, false},
		{"172.32.0.1", true, true},
		{"192.168.1.1", false, false},
		{"169.254.169.254", false, false}, // cloud metadata
		{"fe80::1", false, false},
		{"fc00::1", false, false},
		{"fd12:3456::1", false, false},
		{"224.0.0.1", false, false},
		{"ff02::1", false, false},
		{"0.0.0.0", false, false},
		{"::", false, false},
		{"100.64.0.1", false, false},      // carrier-grade NAT
		{"64:ff9b::7f00:1", false, false}, // NAT64 of 127.0.0.1
		{"64:ff9b::808:808", true, true},  // NAT64 of 8.8.8.8
	} {
		a := netip.MustParseAddr(tc.addr)
		if got := (netguard.Policy{}).Allowed(a); got != tc.zero {
			t.Errorf("zero policy allows %s: %v, want %v", tc.addr, got, tc.zero)
		}
		if got := office.Allowed(a); got != tc.allowed {
			t.Errorf("office policy allows %s: %v, want %v", tc.addr, got, tc.allowed)
		}
	}
}

func TestParseAllow(t *testing.T) {
	got, err := netguard.ParseAllow([]string{"10.0.0.0/8", "127.0.0.1", " ::1 ", "192.168.1.7/24"})
	want := []string{"10.0.0.0/8", "127.0.0.1/32", "::1/128", "192.168.1.0/24"}
	if err != nil || len(got) != len(want) {
		t.Fatalf("ParseAllow = %v, %v", got, err)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("[%d] = %s, want %s", i, got[i], want[i])
		}
	}
	if _, err := netguard.ParseAllow([]string{"intranet"}); err == nil {
		t.Error("a name was accepted as a network")
	}
}

// internalService is an https service on loopback that counts what reaches it and
// answers with a secret, as an internal admin endpoint would.
func internalService(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "internal secret")
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// trusting is c with the test server's certificate trusted, its guard kept.
func trusting(c *http.Client, p netguard.Policy, srv *httptest.Server) *http.Client {
	tr := p.Transport()
	tr.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	tr.TLSClientConfig.ServerName = "example.com" // the name httptest's certificate holds
	c.Transport = p.RoundTripper(tr)
	return c
}

// A hostname is judged by the address it resolves to, when connecting: "localhost"
// reaches 127.0.0.1 and is refused, and nothing reaches the service; allowed
// explicitly, it goes through.
func TestHostnameResolvingToLoopbackIsRefusedAtDial(t *testing.T) {
	srv, hits := internalService(t)
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	url := "https://localhost:" + port + "/admin"

	guarded := netguard.Policy{}
	res, err := trusting(guarded.Client(5*time.Second), guarded, srv).Get(url)
	if err == nil {
		res.Body.Close()
		t.Fatalf("GET %s passed: %s", url, res.Status)
	}
	if !errors.Is(err, netguard.ErrRefused) {
		t.Errorf("err = %v, want ErrRefused", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached the internal service", n)
	}

	allowed := netguard.Policy{Allow: netguard.Loopback}
	res, err = trusting(allowed.Client(5*time.Second), allowed, srv).Get(url)
	if err != nil {
		t.Fatalf("allowed loopback: %v", err)
	}
	res.Body.Close()
	if hits.Load() != 1 {
		t.Errorf("hits = %d after an allowed request", hits.Load())
	}
}

// Only https, except plain http to a loopback address the allowlist names (a local fake).
func TestOnlyHTTPS(t *testing.T) {
	zero, loop := netguard.Policy{}, netguard.Policy{Allow: netguard.Loopback}
	for _, tc := range []struct {
		policy       netguard.Policy
		scheme, host string
		ok           bool
	}{
		{zero, "https", "push.example.com", true},
		{zero, "http", "push.example.com", false},
		{loop, "http", "push.example.com", false},
		{zero, "http", "127.0.0.1", false},
		{loop, "http", "127.0.0.1", true},
		{loop, "http", "localhost", true},
		{loop, "http", "10.0.0.1", false},
		{loop, "ftp", "127.0.0.1", false},
		{zero, "", "push.example.com", false},
	} {
		err := tc.policy.CheckScheme(tc.scheme, tc.host)
		if (err == nil) != tc.ok {
			t.Errorf("%s://%s with allow %v: err = %v, want ok %v", tc.scheme, tc.host, tc.policy.Allow, err, tc.ok)
		}
	}
	// The client applies it: http to a public name never leaves.
	_, err := zero.Client(time.Second).Get("http://push.example.com/")
	if !errors.Is(err, netguard.ErrRefused) {
		t.Errorf("http GET: %v, want ErrRefused", err)
	}
}

// Redirects are not followed: the Location would be a second URL nobody checked.
func TestRedirectsAreNotFollowed(t *testing.T) {
	target, hits := internalService(t)
	front := httptest.NewTLSServer(http.RedirectHandler(target.URL, http.StatusFound))
	t.Cleanup(front.Close)
	p := netguard.Policy{Allow: netguard.Loopback}
	res, err := trusting(p.Client(5*time.Second), p, front).Get(front.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || hits.Load() != 0 {
		t.Errorf("status %d, %d hits on the redirect target", res.StatusCode, hits.Load())
	}
}

// What a refusal or a network failure says names no address, port or resolver: such
// texts are stored with deliveries, which users read, and an internal name's address
// must not be learned by registering it.
func TestErrorsNameNoAddress(t *testing.T) {
	srv, _ := internalService(t)
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	_, err := netguard.Policy{}.Client(5 * time.Second).Get("https://localhost:" + port + "/")
	var refused *netguard.RefusedError
	if !errors.As(err, &refused) || !refused.Addr.IsLoopback() {
		t.Fatalf("err = %v, want a RefusedError keeping the address for the log", err)
	}
	if strings.Contains(refused.Error(), "127.0.0.1") || strings.Contains(refused.Error(), "::1") {
		t.Errorf("refusal = %q", refused.Error())
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&net.DNSError{Err: "no such host", Name: "db.internal", Server: "10.255.255.53:53", IsNotFound: true}, "the host name does not exist"},
		{&net.DNSError{Err: "server misbehaving", Name: "db.internal", Server: "10.255.255.53:53"}, "the host name could not be resolved"},
		{&net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 8443}, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, "the connection was refused"},
		{&net.OpError{Op: "read", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 8443}, Err: os.NewSyscallError("read", syscall.ECONNRESET)}, "the connection was reset"},
		{fmt.Errorf("post https://10.1.2.3:8443/x: %w", context.DeadlineExceeded), "timed out"},
		{&netguard.RefusedError{Addr: netip.MustParseAddr("10.1.2.3")}, "outbound address refused: the host is not at a public address"},
		{errors.New("dial tcp 10.1.2.3:8443: something new"), "the connection failed"},
	} {
		got := netguard.Public(tc.err)
		if got.Error() != tc.want {
			t.Errorf("Public(%v) = %q, want %q", tc.err, got, tc.want)
		}
		if !errors.Is(got, tc.err) {
			t.Errorf("Public(%v) does not wrap it", tc.err)
		}
	}
}
