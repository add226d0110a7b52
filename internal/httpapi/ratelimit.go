package httpapi

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/internal/auth"
	"github.com/optimum-bcp/optimum/internal/config"
)

// limiter is a token bucket per key (a client IP, an email, an actor), in memory. It
// remembers at most max keys: a key whose bucket has refilled is idle and forgotten when
// a new key needs room (forgetting it loses nothing), and when every key is busy the
// least recently seen goes. So memory stays bounded however many clients come, at the
// price that a flood of distinct keys can reset an old key's bucket early.
type limiter struct {
	perSec  float64
	burst   float64
	max     int
	now     func() time.Time
	message string // the detail of the 429 problem

	mu   sync.Mutex
	lru  *list.List // of *bucket, the most recently seen first
	keys map[string]*list.Element
}

type bucket struct {
	key    string
	tokens float64
	at     time.Time
}

func newLimiter(r config.Rate, maxKeys int, now func() time.Time, message string) *limiter {
	return &limiter{
		perSec: float64(r.PerMinute) / 60, burst: float64(r.Burst), max: max(1, maxKeys), now: now, message: message,
		lru: list.New(), keys: map[string]*list.Element{},
	}
}

// allow takes a token from key's bucket. When there is none it returns false and how long
// until there is one.
func (l *limiter) allow(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *bucket
	if el, ok := l.keys[key]; ok {
		l.lru.MoveToFront(el)
		b = el.Value.(*bucket)
		b.refill(now, l.perSec, l.burst)
	} else {
		l.makeRoom(now)
		b = &bucket{key: key, tokens: l.burst, at: now}
		l.keys[key] = l.lru.PushFront(b)
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.perSec * float64(time.Second))
}

func (b *bucket) refill(now time.Time, perSec, burst float64) {
	if d := now.Sub(b.at); d > 0 { // a clock stepping back refills nothing
		b.tokens = math.Min(burst, b.tokens+d.Seconds()*perSec)
		b.at = now
	}
}

// makeRoom forgets a few idle keys from the cold end and, if the map is still full, the
// least recently seen key.
func (l *limiter) makeRoom(now time.Time) {
	for range 2 {
		el := l.lru.Back()
		if el == nil {
			return
		}
		b := el.Value.(*bucket)
		if b.tokens+now.Sub(b.at).Seconds()*l.perSec < l.burst && len(l.keys) < l.max {
			break
		}
		l.lru.Remove(el)
		delete(l.keys, b.key)
	}
}

// peek reports whether key's bucket has a token, without taking it, and if not how long
// until it has one.
func (l *limiter) peek(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.keys[key]
	if !ok {
		return true, 0
	}
	b := el.Value.(*bucket)
	b.refill(now, l.perSec, l.burst)
	if b.tokens >= 1 {
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.perSec * float64(time.Second))
}

// size is the number of keys remembered.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// limits are the abuse limits of one handler: per client IP and per account or actor.
type limits struct {
	log     *slog.Logger
	proxies []netip.Prefix

	signInClient, signInAccount *limiter
	declareActor                *limiter // declaring is not limited per client (declare)

	// signInGlobal slows down password attempts from browsers no account knows, over
	// all accounts together (it never applies to a known browser: session.go).
	signInGlobal *limiter
	// linkPerToken limits the answers of one capability link (one-tap acknowledgement,
	// conformity); linkGuesses limits unknown or expired links per client. A valid
	// link never spends the client's budget, so a whole office behind one address
	// answers at once.
	linkPerToken, linkGuesses *limiter
	// webhookForged limits webhook requests whose signature is wrong, per client. A
	// request Twilio signed is never limited: every one comes from Twilio's addresses.
	webhookForged *limiter
	// ssoStart limits single sign-ins started per client (sso.go).
	ssoStart *limiter
}

// newLimits builds the limits of the configuration. They run on the auth service's
// clock, so tests that move it move both the limits and the sign-in lockout.
func (s *Server) newLimits() *limits {
	c := s.Config.Limits
	now := time.Now
	if s.Auth != nil {
		now = s.Auth.Now
	}
	proxies, _ := c.Proxies() // Validate has checked them
	const signIn = "Too many sign-in attempts. Wait a moment and try again."
	const declare = "Too many declarations in a short time. Wait a moment and try again; if the crisis is real, call the continuity team."
	return &limits{
		log: s.Logger, proxies: proxies,
		signInClient:  newLimiter(c.SignInPerClient, c.MaxKeys, now, signIn),
		signInAccount: newLimiter(c.SignInPerAccount, c.MaxKeys, now, signIn),
		declareActor:  newLimiter(c.DeclarePerActor, c.MaxKeys, now, declare),
		signInGlobal:  newLimiter(c.SignInGlobal, 1, now, signIn),
		linkPerToken: newLimiter(c.LinkPerToken, c.MaxKeys, now,
			"Too many answers from this link in a short time. Wait a moment and try again."),
		linkGuesses: newLimiter(c.LinkGuessesPerClient, c.MaxKeys, now,
			"Too many unknown or expired links from your address. Wait a moment and try again; if your link does not work, ask the continuity team."),
		webhookForged: newLimiter(c.WebhookForgedPerClient, c.MaxKeys, now,
			"Too many unsigned webhook requests from this address."),
		ssoStart: newLimiter(c.SSOStartPerClient, c.MaxKeys, now, signIn),
	}
}

// check takes a token of key from lm, or returns the 429 error after setting Retry-After.
func (l *limits) check(w http.ResponseWriter, lm *limiter, key string) error {
	if ok, wait := lm.allow(key); !ok {
		return rateLimited(w, wait, lm.message)
	}
	return nil
}

// rateLimited sets Retry-After (whole seconds, at least 1) and returns the ERATELIMITED
// error for writeError.
func rateLimited(w http.ResponseWriter, wait time.Duration, message string) error {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	return optimum.Errorf(optimum.ERATELIMITED, "%s", message)
}

// throttled sets Retry-After when err is the sign-in lockout, and returns err.
func throttled(w http.ResponseWriter, err error) error {
	var te *auth.ThrottledError
	if errors.As(err, &te) {
		w.Header().Set("Retry-After", strconv.Itoa(te.RetryAfter()))
	}
	return err
}

// perActor answers 429 to an actor over lm's rate; it runs after require.
func (l *limits) perActor(lm *limiter, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, _ := optimum.ActorFrom(r.Context())
		if err := l.check(w, lm, "actor:"+a.ID); err != nil {
			writeError(w, r, l.log, err)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// declare limits declaring per actor; wrap it inside require. It is not limited per
// client: a site declaring several incidents at once from one address is normal in a
// crisis, and nobody reaches it without credentials.
func (l *limits) declare(h http.Handler) http.Handler {
	return l.perActor(l.declareActor, h)
}

// perAccount limits a signed-in route per actor under the sign-in rate (phone codes):
// people behind one address do not share it.
func (l *limits) perAccount(h http.Handler) http.Handler {
	return l.perActor(l.signInAccount, h)
}

// linkLookup checks a capability token without using it: nil when it is valid,
// ENOTFOUND when it is unknown, another error when it is spent or expired.
type linkLookup func(ctx context.Context, token string) error

// capability limits a route reached by a capability link, {token} in its path. The token
// is looked up first: a valid one is limited only per link (answer, the same
// person answering again), never per client, so everybody behind one office NAT or
// carrier NAT answers at once. An unknown, spent or expired one spends the client's
// budget of guesses, and once it is empty the client gets 429 instead of the page that
// says so. Guessing is hopeless anyway (one-tap tokens carry about 81 random bits,
// conformity tokens 192); the limit keeps a flood of made-up links cheap and visible.
func (l *limits) capability(lookup linkLookup, answer bool, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.PathValue("token")
		err := lookup(r.Context(), token)
		refuse := func(err error) {
			// A person who tapped a link reads Spanish unless they ask otherwise, as on
			// the link's page (pageLang), and a browser gets a page, not JSON.
			if strings.Contains(r.Header.Get("Accept"), "text/html") {
				lang := pageLang(r)
				linkPageHeaders(w)
				w.WriteHeader(http.StatusTooManyRequests)
				_ = limitedPage.Execute(w, map[string]string{"Lang": lang, "Title": limitedTitle[lang],
					"Detail": translate(lang, optimum.ErrorMessage(err))})
				return
			}
			if r.Header.Get("Accept-Language") == "" {
				r = r.Clone(r.Context())
				r.Header.Set("Accept-Language", langES)
			}
			writeError(w, r, l.log, err)
		}
		switch code := optimum.ErrorCode(err); {
		case err == nil:
			if answer {
				sum := sha256.Sum256([]byte(token))
				if err := l.check(w, l.linkPerToken, "link:"+hex.EncodeToString(sum[:16])); err != nil {
					refuse(err)
					return
				}
			}
		case code == optimum.ENOTFOUND || code == optimum.ECONFLICT || code == optimum.EINVALID:
			if err := l.check(w, l.linkGuesses, clientKey(clientIP(r, l.proxies))); err != nil {
				refuse(err)
				return
			}
		}
		h.ServeHTTP(w, r) // it answers a bad link itself, as before
	})
}

// clientIP is the address of the client: the TCP peer, unless the peer is a trusted
// proxy, in which case X-Forwarded-For is read from the right, skipping trusted hops,
// and the first untrusted address is the client. Entries left of it could be forged by
// the client, so they are never believed.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	addr := ap.Addr().Unmap()
	if !isTrusted(addr, trusted) {
		return addr
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return addr
		}
		addr = a.Unmap()
		if !isTrusted(addr, trusted) {
			return addr
		}
	}
	return addr
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientKey is the bucket key of an address: IPv4 per address, IPv6 per /64, since one
// subscriber usually holds a whole /64 and could otherwise rotate through it.
func clientKey(a netip.Addr) string {
	if !a.IsValid() {
		return "ip:unknown"
	}
	if a.Is6() {
		p, _ := a.Prefix(64)
		return "ip:" + p.String()
	}
	return "ip:" + a.String()
}

// accountKey is the bucket key of an email as typed, normalized the way sign-in does.
func accountKey(email string) string {
	return fmt.Sprintf("email:%s", strings.ToLower(strings.TrimSpace(email)))
}

// limitedPage tells a person who tapped a link too often, or from an address that sent
// too many bad links, to wait; the Retry-After header says how long.
var limitedPage = template.Must(template.New("limited").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>OPTIMUM BCP</title><link rel="stylesheet" href="/app.css"></head>
<body class="ack-page"><main class="ack"><h1>{{.Title}}</h1><p role="alert">{{.Detail}}</p></main></body></html>`))

var limitedTitle = map[string]string{langES: "Espera un momento", langEN: "Wait a moment"}

// oneTimeCode limits a route that spends a one-time code in its path (a login link, a
// set-password link) like capability links: a valid code never counts per client, so a
// whole office can take its links from one address; an answer that says the code is
// unknown, used or expired (401, 404) spends the client's budget of guesses
// (link_guesses_per_client), and a client whose budget is empty is refused before its
// code is tried.
func (l *limits) oneTimeCode(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := clientKey(clientIP(r, l.proxies))
		if ok, wait := l.linkGuesses.peek(key); !ok {
			writeError(w, r, l.log, rateLimited(w, wait, l.linkGuesses.message))
			return
		}
		sw := &guessStatusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.status == http.StatusUnauthorized || sw.status == http.StatusNotFound {
			l.linkGuesses.allow(key)
		}
	})
}

// guessStatusWriter remembers the status a handler answered.
type guessStatusWriter struct {
	http.ResponseWriter
	status int
}

func (w *guessStatusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *guessStatusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *guessStatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ackLinkValid is the linkLookup of one-tap acknowledgement links (/a/{token}).
func (s *Server) ackLinkValid(ctx context.Context, token string) error {
	_, _, err := s.Incidents.Link(ctx, token)
	return err
}

// conformityLinkValid is the linkLookup of conformity links (/c/{token}).
func (s *Server) conformityLinkValid(ctx context.Context, token string) error {
	if s.Desk == nil {
		return nil
	}
	_, _, err := s.Desk.Conformity(ctx, token)
	return err
}
