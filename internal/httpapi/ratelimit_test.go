package httpapi

import (
	"fmt"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/internal/config"
)

func TestLimiterRefillsAtItsRate(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := newLimiter(config.Rate{PerMinute: 30, Burst: 3}, 100, func() time.Time { return now }, "")
	for _, tt := range []struct {
		advance time.Duration
		ok      bool
		wait    time.Duration
	}{
		{0, true, 0},
		{0, true, 0},
		{0, true, 0},
		{0, false, 2 * time.Second}, // 30 a minute: one every 2 s
		{time.Second, false, time.Second},
		{time.Second, true, 0},
		{time.Minute, true, 0}, // a long pause refills up to the burst only
		{0, true, 0},
		{0, true, 0},
		{0, false, 2 * time.Second},
		{-time.Hour, false, 2 * time.Second}, // a clock stepping back refills nothing
	} {
		now = now.Add(tt.advance)
		ok, wait := l.allow("k")
		if ok != tt.ok || wait.Round(time.Millisecond) != tt.wait {
			t.Errorf("after +%v: allow = %v, %v; want %v, %v", tt.advance, ok, wait, tt.ok, tt.wait)
		}
	}
}

// However many keys come, the limiter remembers at most max; the least recently seen go
// first, so a key in use keeps its bucket while a crowd passes by.
func TestLimiterStaysBounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := newLimiter(config.Rate{PerMinute: 1, Burst: 1}, 100, func() time.Time { return now }, "")
	l.allow("busy")
	for i := range 10_000 {
		now = now.Add(time.Second)
		if i%50 == 0 { // seen every 50 keys, in a map of 100
			l.allow("busy")
		}
		l.allow(fmt.Sprint("client-", i))
		if n := l.size(); n > 100 {
			t.Fatalf("size = %d after %d keys, want at most 100", n, i+1)
		}
	}
	if _, ok := l.keys["busy"]; !ok {
		t.Error("the busy key was forgotten")
	}
	now = now.Add(time.Hour) // everyone is idle now: new keys replace them
	for i := range 100 {
		l.allow(fmt.Sprint("later-", i))
	}
	if n := l.size(); n > 100 {
		t.Errorf("size = %d, want at most 100", n)
	}
}

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tt := range []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"direct", "203.0.113.5:4000", nil, "ip:203.0.113.5"},
		{"untrusted peer's header is ignored", "203.0.113.5:4000", []string{"198.51.100.1"}, "ip:203.0.113.5"},
		{"trusted proxy", "10.1.2.3:4000", []string{"198.51.100.1"}, "ip:198.51.100.1"},
		{"forged left entries are skipped", "10.1.2.3:4000", []string{"1.2.3.4, 198.51.100.1"}, "ip:198.51.100.1"},
		{"chain of trusted proxies", "10.1.2.3:4000", []string{"198.51.100.1, 10.9.9.9", "10.8.8.8"}, "ip:198.51.100.1"},
		{"only proxies", "10.1.2.3:4000", []string{"10.9.9.9"}, "ip:10.9.9.9"},
		{"garbage stops at the last trusted hop", "10.1.2.3:4000", []string{"198.51.100.1, bogus"}, "ip:10.1.2.3"},
		{"trusted without header", "10.1.2.3:4000", nil, "ip:10.1.2.3"},
		{"IPv6 per /64", "[2001:db8:1:2:3:4:5:6]:4000", nil, "ip:2001:db8:1:2::/64"},
		{"IPv4-mapped IPv6", "[::ffff:203.0.113.5]:4000", nil, "ip:203.0.113.5"},
		{"IPv6 proxy", "[::1]:4000", []string{"2001:db8::9"}, "ip:2001:db8::/64"},
		{"unparseable peer", "pipe", nil, "ip:unknown"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/api/v1/session", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientKey(clientIP(r, trusted)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}
