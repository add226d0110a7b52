// Package vonage sends SMS and voice calls through Vonage (formerly Nexmo), the second
// provider behind broadcast.Failover, and reads what Vonage sends back: delivery
// receipts and inbound SMS (signed with the account's signature secret, a "sig"
// parameter), and call events and key presses (signed with a JWT in Authorization).
//
// It speaks the documented REST APIs with net/http, no SDK:
//
//   - SMS API: POST {SMSAPIURL}/sms/json, a form with api_key and api_secret;
//   - Voice API: POST {VoiceAPIURL}/v1/calls, JSON with an NCCO, authenticated by a JWT
//     (RS256) signed with the Vonage application's private key.
//
// Every request goes through the outbound guard (internal/netguard): https to a public
// address, or http to a loopback address the allowlist names (the local fake in tests).
package vonage

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/internal/netguard"
)

// Default API locations.
const (
	DefaultSMSAPIURL   = "https://rest.nexmo.com"
	DefaultVoiceAPIURL = "https://api.nexmo.com"
	DefaultTimeout     = 10 * time.Second
)

// Config is what the Vonage senders need; the caller fills it from the config file and
// VONAGE_* variables (this package reads no environment).
type Config struct {
	// APIKey and APISecret authenticate SMS requests.
	APIKey, APISecret string
	// SignatureSecret signs inbound SMS and delivery receipts ("sig", with
	// SignatureMethod) and call webhooks (a JWT, HS256). Without it no webhook of Vonage
	// is accepted.
	SignatureSecret string
	// SignatureMethod is the SMS signature algorithm chosen in the dashboard: md5hash
	// (Vonage's default), md5, sha1, sha256 or sha512 (HMACs).
	SignatureMethod string
	// ApplicationID and PrivateKeyPEM (the application's RSA key) sign Voice API
	// requests. Without them, calls are not placed through Vonage.
	ApplicationID string
	PrivateKeyPEM []byte
	// From is the default sender: an E.164 number (needed for calls), a short code or an
	// alphanumeric ID. Senders overrides it per country for SMS.
	From    string
	Senders broadcast.CountrySenders
	// SMSAPIURL and VoiceAPIURL replace Vonage's hosts (a local fake in tests).
	SMSAPIURL, VoiceAPIURL string
	// PublicURL is this server's URL as Vonage sees it: receipts and call events come
	// back under it.
	PublicURL string
	Timeout   time.Duration
	// Guard checks every connection's address (config outbound.allow_networks).
	Guard netguard.Policy
}

// Paths of the webhooks Vonage calls, under Config.PublicURL.
const (
	PathStatus     = "/hooks/vonage/status"      // SMS delivery receipts (?d=DELIVERY)
	PathSMS        = "/hooks/vonage/sms"         // inbound SMS (the number's webhook)
	PathVoiceEvent = "/hooks/vonage/voice/event" // call status events (?d=DELIVERY)
	PathVoiceInput = "/hooks/vonage/voice/input" // key presses (?d=DELIVERY[&s=STEP])
)

// Errors a send can be wrapped in (errors.Is).
var (
	// ErrUnauthorized means Vonage refused the account: wrong key, secret or signature,
	// a suspended account, no credit. It wraps broadcast.ErrProviderAuth, so a Failover
	// sends through the next provider.
	ErrUnauthorized = fmt.Errorf("vonage refused the account: %w", broadcast.ErrProviderAuth)
	// ErrInvalidNumber means the number is not one Vonage can send to.
	ErrInvalidNumber = errors.New("not a valid phone number")
	// ErrNoCaller means a call was asked for without an application or a number to call from.
	ErrNoCaller = errors.New("vonage: calls need VONAGE_APPLICATION_ID, a private key and an E.164 VONAGE_FROM")
)

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("vonage: "+format, args...)) }
	if c.APIKey == "" {
		bad("the API key is missing (VONAGE_API_KEY)")
	}
	if c.APISecret == "" {
		bad("the API secret is missing (VONAGE_API_SECRET)")
	}
	if c.SignatureSecret == "" {
		bad("the signature secret is missing (VONAGE_SIGNATURE_SECRET): without it, replies and receipts cannot be verified")
	}
	if _, ok := hashes[c.method()]; !ok {
		bad("the signature method %q is not one of md5hash, md5, sha1, sha256, sha512", c.SignatureMethod)
	}
	if c.From == "" {
		bad("the sender is missing (VONAGE_FROM)")
	} else if broadcast.SenderKind(c.From) == "" || broadcast.SenderKind(c.From) == broadcast.SenderService {
		bad("the sender %q is not an E.164 number, a short code or an alphanumeric ID", c.From)
	}
	errs = append(errs, c.Senders.Validate("vonage", broadcast.SenderLongCode, broadcast.SenderShortCode, broadcast.SenderAlphanumeric)...)
	if (c.ApplicationID == "") != (len(c.PrivateKeyPEM) == 0) {
		bad("calls need both the application id (VONAGE_APPLICATION_ID) and its private key (VONAGE_PRIVATE_KEY_FILE)")
	}
	if len(c.PrivateKeyPEM) > 0 {
		if _, err := parseKey(c.PrivateKeyPEM); err != nil {
			bad("the private key: %v", err)
		}
	}
	for name, u := range map[string]string{"SMS API URL": c.SMSAPIURL, "Voice API URL": c.VoiceAPIURL} {
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			bad("the %s %q is not an absolute http(s) URL", name, u)
		}
	}
	if c.PublicURL == "" {
		bad("the public URL (OPTIMUM_PUBLIC_URL) is missing: receipts, replies and key presses come back to it")
	}
	return errors.Join(errs...)
}

func (c Config) method() string {
	if c.SignatureMethod == "" {
		return "md5hash"
	}
	return strings.ToLower(c.SignatureMethod)
}

// Client talks to one Vonage account. It is safe for concurrent use.
type Client struct {
	cfg  Config
	key  *rsa.PrivateKey // nil: no calls
	http *http.Client
	tr   *http.Transport
}

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.SMSAPIURL == "" {
		cfg.SMSAPIURL = DefaultSMSAPIURL
	}
	if cfg.VoiceAPIURL == "" {
		cfg.VoiceAPIURL = DefaultVoiceAPIURL
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	cfg.SMSAPIURL, cfg.VoiceAPIURL = strings.TrimRight(cfg.SMSAPIURL, "/"), strings.TrimRight(cfg.VoiceAPIURL, "/")
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	c := &Client{cfg: cfg}
	if len(cfg.PrivateKeyPEM) > 0 {
		c.key, _ = parseKey(cfg.PrivateKeyPEM) // checked by Validate
	}
	c.tr = cfg.Guard.Transport()
	c.tr.MaxIdleConnsPerHost = 64 // the dispatcher sends in parallel to one host
	c.http = &http.Client{
		Transport:     cfg.Guard.RoundTripper(c.tr),
		Timeout:       cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// Close releases idle connections.
func (c *Client) Close() error {
	c.tr.CloseIdleConnections()
	return nil
}

// SMS returns the SMS sender.
func (c *Client) SMS() *SMS { return &SMS{c: c} }

// Voice returns the call sender, nil when no application is configured.
func (c *Client) Voice() *Voice {
	if c.key == nil {
		return nil
	}
	return &Voice{c: c}
}

// SignatureSecret and SignatureMethod are what the webhook handlers verify with.
func (c *Client) SignatureSecret() string { return c.cfg.SignatureSecret }

// SignatureMethod is the SMS webhook signature algorithm.
func (c *Client) SignatureMethod() string { return c.cfg.method() }

func parseKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	b, _ := pem.Decode(pemBytes)
	if b == nil {
		return nil, errors.New("not a PEM private key")
	}
	if k, err := x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
		if rk, ok := k.(*rsa.PrivateKey); ok {
			return rk, nil
		}
		return nil, errors.New("not an RSA key")
	}
	return x509.ParsePKCS1PrivateKey(b.Bytes)
}

// post sends one request and returns the status and (at most 64 KiB of) the body.
// A request that got no answer (refused, timed out) returns status 0 and the error.
func (c *Client) post(ctx context.Context, u, contentType string, body []byte, header http.Header) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, netguard.Public(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	return res.StatusCode, res.Header, b, nil
}

// classifyHTTP turns an HTTP answer other than success into the Sender contract: no
// answer, 429 and 5xx are retryable (with the provider's Retry-After), 401 and 403 are
// the account's (ErrUnauthorized), any other 4xx is permanent.
func classifyHTTP(op string, status int, h http.Header, body []byte, err error) (bool, error) {
	switch {
	case status == 0:
		if errors.Is(err, netguard.ErrRefused) {
			return false, fmt.Errorf("vonage %s: %w", op, err)
		}
		return true, fmt.Errorf("vonage %s: %w", op, err)
	case status == http.StatusTooManyRequests || status >= 500:
		e := fmt.Errorf("vonage %s: HTTP %d: %s", op, status, snippet(body))
		if s, perr := strconv.Atoi(h.Get("Retry-After")); perr == nil && s >= 0 {
			return true, &broadcast.RetryAfterError{After: time.Duration(s) * time.Second, Err: e}
		}
		return true, e
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return false, fmt.Errorf("vonage %s: HTTP %d: %w", op, status, ErrUnauthorized)
	}
	return false, fmt.Errorf("vonage %s: HTTP %d: %s", op, status, snippet(body))
}

func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// msisdn is an E.164 number as Vonage writes it: digits only, no "+".
func msisdn(e164 string) string { return strings.TrimPrefix(e164, "+") }
