// Package twilio sends SMS and voice calls through Twilio and reads what Twilio sends back:
// status callbacks, inbound SMS replies and key presses, each signed with
// X-Twilio-Signature.
//
// It uses github.com/twilio/twilio-go (only its client and api/v2010 packages, which build
// in about half the time of the top-level package) and works around what that library
// lacks: a base URL (the transport rewrites the host, for local fakes), a context (the
// transport binds each request to the caller's), the response headers on errors (the
// transport keeps Retry-After) and the closing of error bodies (the transport reads and
// closes them, so connections are reused).
package twilio

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"strconv"
	"time"

	twclient "github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/optimum-bcp/optimum/broadcast"
)

// Client talks to one Twilio account. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base *url.URL        // nil: Twilio itself
	rt   *http.Transport // shared by every request, so connections are reused
}

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	cfg.From = append([]string(nil), cfg.From...)
	c := &Client{cfg: cfg}
	if cfg.APIURL != "" {
		c.base, _ = url.Parse(cfg.APIURL) // checked by Validate
	}
	rt := http.DefaultTransport.(*http.Transport).Clone()
	rt.MaxIdleConnsPerHost = 64 // the dispatcher sends in parallel to one host
	c.rt = rt
	return c, nil
}

// Close releases idle connections.
func (c *Client) Close() error {
	c.rt.CloseIdleConnections()
	return nil
}

// SMS returns the SMS sender.
func (c *Client) SMS() *SMS { return &SMS{c: c} }

// Voice returns the voice-call sender.
func (c *Client) Voice() *Voice { return &Voice{c: c} }

// Errors a send can be wrapped in (errors.Is). All are permanent: sending again will not
// help.
var (
	// ErrOptedOut means the person replied STOP to this sender (Twilio 21610): mark them
	// opted out of SMS; they can reply START to opt back in.
	// It wraps broadcast.ErrOptedOut, so the dispatcher records the opt-out.
	ErrOptedOut = fmt.Errorf("%w (replied STOP)", broadcast.ErrOptedOut)
	// ErrInvalidNumber means the number is not a valid phone number (Twilio 21211 and
	// kin, or refused before sending because it is not E.164).
	ErrInvalidNumber = errors.New("not a valid phone number")
	// ErrNotMobile means the number cannot receive SMS (Twilio 21614): a landline.
	ErrNotMobile = errors.New("the number cannot receive SMS")
	// ErrUnauthorized means Twilio refused the credentials (HTTP 401/403, Twilio 20003).
	// It wraps broadcast.ErrProviderAuth: a failover sends through the next provider.
	ErrUnauthorized = fmt.Errorf("twilio refused the credentials: %w", broadcast.ErrProviderAuth)
	// ErrNoCaller means a call was asked for but Config.From lists no number to call from.
	ErrNoCaller = errors.New("no sender number (TWILIO_FROM) to call from")
)

// permanentCodes name the Twilio error codes that say something about the recipient.
var permanentCodes = map[int]error{
	21610: ErrOptedOut,
	21211: ErrInvalidNumber, // invalid To
	21217: ErrInvalidNumber, // phone number does not appear to be valid
	21401: ErrInvalidNumber, // invalid phone number
	21421: ErrInvalidNumber, // phone number is invalid
	21614: ErrNotMobile,
	20003: ErrUnauthorized,
}

// exchange is what the transport saw of one request to Twilio.
type exchange struct {
	status     int
	retryAfter time.Duration
	hasRetry   bool
}

// api returns a twilio-go API service whose requests are bound to ctx and recorded in ex.
// It is cheap (a few small structs): the connections live in the shared transport.
// twilio-go builds every request with context.Background(), so the transport re-binds it;
// the http.Client has no Timeout of its own, because that would wrap the context before
// the transport replaces it: the deadline is on ctx instead.
func (c *Client) api(ctx context.Context, ex *exchange) *api.ApiService {
	hc := &http.Client{
		Transport: &transport{ctx: ctx, base: c.base, next: c.rt, ex: ex},
		// Like twilio-go's own client: never follow redirects.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	tc := &twclient.Client{Credentials: twclient.NewCredentials(c.cfg.AccountSID, c.cfg.AuthToken), HTTPClient: hc}
	tc.SetAccountSid(c.cfg.AccountSID)
	// A RequestHandler built by hand leaves out TWILIO_EDGE and TWILIO_REGION, which
	// NewRequestHandler reads from the environment: the configuration is explicit.
	return api.NewApiService(&twclient.RequestHandler{Client: tc})
}

// sender picks the number a recipient always gets from the pool: rendezvous hashing of
// the recipient with each number, so adding a number to the pool moves only the
// recipients it wins, and removing one moves only its own.
func (c *Client) sender(to string) string {
	best, bestScore := "", uint64(0)
	for _, f := range c.cfg.From {
		h := fnv.New64a()
		h.Write([]byte(to))
		h.Write([]byte{0})
		h.Write([]byte(f))
		if s := mix(h.Sum64()); best == "" || s > bestScore {
			best, bestScore = f, s
		}
	}
	return best
}

// mix is splitmix64's finalizer: FNV alone spreads the last bytes hashed (here the
// sender number) poorly over the high bits, which biases rendezvous hashing.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// statusCallback is the URL Twilio posts status changes of this delivery to.
func (c *Client) statusCallback(deliveryID string) string {
	return c.cfg.publicBase() + PathStatus + "?d=" + url.QueryEscape(deliveryID)
}

// classify turns what twilio-go returned into the Sender contract: nil once Twilio has
// answered 2xx (even when its JSON could not be read: the message is accepted, and
// sending it again would send it twice); retryable on 429, 5xx, timeouts and network
// errors (with a *broadcast.RetryAfterError when Twilio said when); permanent on any other
// 4xx, wrapped in ErrOptedOut, ErrInvalidNumber, ErrNotMobile or ErrUnauthorized when the
// code says so. The *twclient.TwilioRestError stays reachable with errors.As.
func classify(op string, ex *exchange, err error) (retryable bool, _ error) {
	if err == nil || (ex.status >= 200 && ex.status < 300) {
		return false, nil
	}
	status, code := ex.status, 0
	var te *twclient.TwilioRestError
	if errors.As(err, &te) {
		code = te.Code
		if status == 0 { // refused by twilio-go itself, nothing sent
			status = te.Status
		}
	}
	switch {
	case status == 0:
		// No answer at all: a timeout, a cancelled context, a refused connection.
		return true, fmt.Errorf("twilio %s: %w", op, err)
	case status == http.StatusTooManyRequests || code == 20429 || status >= 500:
		err = fmt.Errorf("twilio %s: HTTP %d: %w", op, status, err)
		if ex.hasRetry {
			return true, &broadcast.RetryAfterError{After: ex.retryAfter, Err: err}
		}
		return true, err
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return false, fmt.Errorf("twilio %s: %w: %w", op, ErrUnauthorized, err)
	}
	if known := permanentCodes[code]; known != nil {
		return false, fmt.Errorf("twilio %s: %w: %w", op, known, err)
	}
	return false, fmt.Errorf("twilio %s: HTTP %d: %w", op, status, err)
}

// parseRetryAfter reads a Retry-After header: seconds, or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
