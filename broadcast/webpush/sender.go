// Package webpush sends alerts to browsers with the Web Push protocol (RFC 8030), VAPID
// (RFC 8292) and aes128gcm payload encryption (RFC 8291), through
// github.com/SherClockHolmes/webpush-go v1.4.0. The Sender works around that version's
// pitfalls: it passes the VAPID subject without the "mailto:" the library adds itself,
// always sends a TTL (the library's default of 0 lets a service drop an alert for a
// device that is offline this instant), hands the library a payload slice with no spare
// capacity (the library appends its padding into the caller's array, a data race when
// one payload is shared), uses one HTTP client with a timeout (the library's default has
// none), and turns the push service's status into the broadcast.Sender contract (the
// library returns 4xx and 5xx as success).
package webpush

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	webpushgo "github.com/SherClockHolmes/webpush-go"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/internal/netguard"
)

// Defaults of Options.
const (
	DefaultTimeout    = 10 * time.Second
	DefaultTTL        = time.Hour
	DefaultRecordSize = 4096
	// MaxTTL is the longest hold push services accept (FCM's four weeks).
	MaxTTL = 28 * 24 * time.Hour
	// DefaultRetryAfter is the wait asked of the dispatcher after a 429 without Retry-After.
	DefaultRetryAfter = time.Minute
)

// headerOverhead is what the aes128gcm header (salt 16, rs 4, idlen 1, key 65) and the
// GCM tag (16) take out of a record; one more byte is the padding delimiter.
const headerOverhead = 16 + 4 + 1 + 65 + 16 + 1

// ErrPayloadTooLarge means a message does not fit in one push record even with its text
// shortened (its title or link are too long).
var ErrPayloadTooLarge = errors.New("the push payload does not fit in one record")

// Options tune a Sender. Zero values take the defaults.
type Options struct {
	// HTTPClient sends to the push services. Default: a client with DefaultTimeout that
	// does not follow redirects (a push service never redirects; following one would let
	// an endpoint point the server anywhere) and whose every connection is checked by
	// Guard after DNS resolution. A client given here is used as it is, unguarded: tests only.
	HTTPClient *http.Client
	// Guard says which addresses endpoints may reach: public ones over https, plus the
	// networks its allowlist names (config outbound.allow_networks). Any signed-in user may
	// register an endpoint, and the server must not POST into its own network on their
	// behalf (server-side request forgery).
	Guard netguard.Policy
	// TTL is how long a push service may hold a message for an offline browser when the
	// message has no TTL of its own; default one hour, at most MaxTTL.
	TTL time.Duration
	// RecordSize is what every encrypted body is padded to, so its length says nothing of
	// the alert; default and maximum 4096 (push services refuse larger bodies). The
	// payload may take RecordSize-103 bytes; longer texts are shortened.
	RecordSize int
	// AllowPrivateEndpoints adds this machine's loopback addresses to Guard's allowlist,
	// for a local fake push service in tests (OPTIMUM_PUSH_ALLOW_PRIVATE=1).
	AllowPrivateEndpoints bool
	// Now is the clock for the notification's timestamp; default time.Now.
	Now func() time.Time
}

// Sender sends broadcast messages as web push notifications. It implements
// broadcast.Sender and is safe for concurrent use.
type Sender struct {
	keys       Keys
	subscriber string
	client     *http.Client
	opt        Options
}

var _ broadcast.Sender = (*Sender)(nil)

// New returns a Sender signing with keys (see LoadKeys).
func New(keys Keys, opt Options) *Sender {
	if opt.AllowPrivateEndpoints {
		opt.Guard.Allow = append(slices.Clone(opt.Guard.Allow), netguard.Loopback...)
	}
	if opt.HTTPClient == nil {
		// Keep connections to each push service open: the default transport keeps only two
		// idle per host, so a burst of alerts would open one connection (a TLS handshake
		// against a real push service) for most pushes.
		tr := opt.Guard.Transport()
		tr.MaxIdleConnsPerHost = 64
		opt.HTTPClient = &http.Client{
			Transport:     opt.Guard.RoundTripper(tr),
			Timeout:       DefaultTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if opt.TTL <= 0 {
		opt.TTL = DefaultTTL
	}
	if opt.RecordSize <= 0 || opt.RecordSize > DefaultRecordSize {
		opt.RecordSize = DefaultRecordSize
	}
	opt.RecordSize = max(opt.RecordSize, 512)
	if opt.Now == nil {
		opt.Now = time.Now
	}
	// webpush-go v1.4.0 prefixes "mailto:" to any subject that is not https, so
	// "mailto:ops@x" would reach the service as "mailto:mailto:ops@x" (Apple answers 403).
	subscriber := keys.Subject
	if !strings.HasPrefix(subscriber, "https:") {
		subscriber = strings.TrimPrefix(subscriber, "mailto:")
	}
	return &Sender{keys: keys, subscriber: subscriber, client: opt.HTTPClient, opt: opt}
}

// Notification is the JSON payload the service worker (static/sw.js) receives.
type Notification struct {
	Title string `json:"title"`
	Body  string `json:"body"`
	// URL is opened by a click, and POSTed to by the "ack" action (the one-tap link).
	URL string `json:"url,omitempty"`
	// Tag groups notifications: a newer one about the same topic replaces the older.
	Tag        string             `json:"tag"`
	Lang       string             `json:"lang,omitempty"`
	DeliveryID string             `json:"delivery_id,omitempty"`
	Actions    []broadcast.Action `json:"actions"`
	// Timestamp is when the server sent it, in unix milliseconds.
	Timestamp int64 `json:"timestamp"`
}

// Send encrypts m for the subscription in m.To and posts it to its push service, with
// Urgency: high, m's TTL (or the default) and a Topic derived from m.Topic, so a newer
// alert about the same incident replaces one still waiting. It returns nil once the
// service accepted the message (2xx). A subscription that answered 404 or 410 gives an
// error wrapping broadcast.ErrGone: remove it. 429 gives a *broadcast.RetryAfterError;
// 5xx, 408 and network errors are retryable; every other answer is permanent.
func (s *Sender) Send(ctx context.Context, m broadcast.Message) (retryable bool, err error) {
	sub, err := ParseSubscription([]byte(m.To))
	if err != nil {
		return false, fmt.Errorf("webpush %s: invalid subscription: %w", m.DeliveryID, err)
	}
	host := sub.Host()
	if err := s.early(sub); err != nil {
		return false, fmt.Errorf("webpush to %s: %w", host, err)
	}
	payload, err := s.payload(m)
	if err != nil {
		return false, fmt.Errorf("webpush to %s: %w", host, err)
	}
	ttl := m.TTL
	if ttl <= 0 {
		ttl = s.opt.TTL
	}
	ttl = min(ttl, MaxTTL)
	opts := &webpushgo.Options{
		HTTPClient:      doer{s.client},
		RecordSize:      uint32(s.opt.RecordSize),
		Subscriber:      s.subscriber,
		Topic:           Topic(m.Topic),
		TTL:             int((ttl + time.Second - 1) / time.Second),
		Urgency:         webpushgo.UrgencyHigh,
		VAPIDPublicKey:  s.keys.Public,
		VAPIDPrivateKey: s.keys.Private,
	}
	target := &webpushgo.Subscription{Endpoint: sub.Endpoint, Keys: webpushgo.Keys{Auth: sub.Keys.Auth, P256dh: sub.Keys.P256dh}}
	// payload[:n:n]: the library appends its padding to the slice it is given.
	res, err := webpushgo.SendNotificationWithContext(ctx, payload[:len(payload):len(payload)], target, opts)
	if err != nil {
		var te transportError
		if errors.As(err, &te) {
			// A refused address will not become public by retrying.
			// Go's text would name the endpoint (a capability), the addresses dialed and the
			// resolver; the error ends up in a delivery's record, which users read.
			return !errors.Is(err, netguard.ErrRefused), fmt.Errorf("webpush to %s: %w", host, netguard.Public(te.err))
		}
		return false, fmt.Errorf("webpush to %s: %w", host, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) // so the connection is reused
	return classify(res, body, host, s.opt.Now())
}

// early refuses, before any work, an endpoint the guard would refuse anyway: a scheme
// other than https, or a host that is itself a refused IP address. A name (localhost
// included) is judged at dial time, on the addresses it resolves to.
func (s *Sender) early(sub Subscription) error {
	u, err := url.Parse(sub.Endpoint)
	if err != nil {
		return err
	}
	if err := s.opt.Guard.CheckScheme(u.Scheme, u.Hostname()); err != nil {
		return err
	}
	if a, err := netip.ParseAddr(u.Hostname()); err == nil && !s.opt.Guard.Allowed(a) {
		return &netguard.RefusedError{Addr: a}
	}
	return nil
}

// classify maps the push service's answer to the Sender contract.
func classify(res *http.Response, body []byte, host string, now time.Time) (bool, error) {
	code := res.StatusCode
	if code >= 200 && code < 300 {
		return false, nil
	}
	se := &StatusError{StatusCode: code, Host: host, Body: oneLine(body)}
	switch {
	case code == http.StatusNotFound || code == http.StatusGone:
		return false, fmt.Errorf("%w: %w", se, broadcast.ErrGone)
	case code == http.StatusTooManyRequests:
		after, ok := retryAfter(res.Header.Get("Retry-After"), now)
		if !ok {
			after = DefaultRetryAfter
		}
		return true, &broadcast.RetryAfterError{After: after, Err: se}
	case code >= 500 || code == http.StatusRequestTimeout:
		if after, ok := retryAfter(res.Header.Get("Retry-After"), now); ok {
			return true, &broadcast.RetryAfterError{After: after, Err: se}
		}
		return true, se
	}
	return false, se
}

// StatusError is a push service's refusal.
type StatusError struct {
	StatusCode int
	Host       string
	// Body is the start of the service's explanation, e.g. {"reason":"BadJwtToken"}, for
	// the server's log; Error leaves it out.
	Body string
}

func (e *StatusError) Error() string {
	var hint string
	switch e.StatusCode {
	case http.StatusBadRequest:
		hint = ": the request was malformed"
	case http.StatusUnauthorized, http.StatusForbidden:
		hint = ": the VAPID signature was refused (check the VAPID keys and subject; the browser may have subscribed with another public key)"
	case http.StatusNotFound, http.StatusGone:
		hint = ": the subscription expired or was revoked"
	case http.StatusRequestEntityTooLarge:
		hint = ": the payload is too large"
	case http.StatusTooManyRequests:
		hint = ": too many requests"
	}
	// Body is left out: the text is stored with the delivery, which users read.
	return fmt.Sprintf("push service %s answered %d %s%s", e.Host, e.StatusCode, http.StatusText(e.StatusCode), hint)
}

// payload renders m as the notification JSON, shortening the text until it fits the
// record.
func (s *Sender) payload(m broadcast.Message) ([]byte, error) {
	n := Notification{Title: m.Title, Body: m.Text, URL: m.URL, Tag: m.Topic, Lang: m.Language, DeliveryID: m.DeliveryID,
		Actions: m.Actions, Timestamp: s.opt.Now().UnixMilli()}
	if n.Tag == "" {
		n.Tag = m.DeliveryID
	}
	if n.Actions == nil {
		n.Actions = []broadcast.Action{}
	}
	limit := s.opt.RecordSize - headerOverhead
	for {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(n); err != nil {
			return nil, err
		}
		data := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
		over := len(data) - limit
		if over <= 0 {
			return data, nil
		}
		if n.Body == "" {
			return nil, fmt.Errorf("%w (%d bytes over %d)", ErrPayloadTooLarge, over, limit)
		}
		n.Body = shorten(n.Body, over)
	}
}

// shorten cuts at least over bytes (and a rune boundary) off s, ending it with "…".
func shorten(s string, over int) string {
	keep := len(s) - over - len("…")
	if keep <= 0 {
		return ""
	}
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return strings.TrimRightFunc(s[:keep], unicode.IsSpace) + "…"
}

// Topic returns the Topic header for a message topic: RFC 8030 allows at most 32
// base64url characters, so it is the first 24 bytes of its SHA-256. "" stays "".
func Topic(topic string) string {
	if topic == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(topic))
	return base64.RawURLEncoding.EncodeToString(sum[:24])
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func oneLine(b []byte) string {
	s := strings.Join(strings.FieldsFunc(string(b), func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }), " ")
	if len(s) > 200 {
		s = shorten(s, len(s)-200)
	}
	return s
}

// doer marks the HTTP client's own errors (network, timeout, cancelled), so Send can tell
// them, which are worth retrying, from the library's errors before sending, which are not.
type doer struct{ c *http.Client }

func (d doer) Do(r *http.Request) (*http.Response, error) {
	res, err := d.c.Do(r)
	if err != nil {
		return nil, transportError{err}
	}
	return res, nil
}

type transportError struct{ err error }

func (e transportError) Error() string { return e.err.Error() }
func (e transportError) Unwrap() error { return e.err }
