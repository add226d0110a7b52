package webpush

import (
	"crypto/ecdh"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
)

// Limits on what a browser may send as its subscription. Real endpoints are a few
// hundred characters (FCM, Mozilla, Apple, Windows).
const (
	MaxSubscriptionSize = 8 << 10
	MaxEndpointLength   = 2048
)

// Subscription is a browser's PushSubscription (what toJSON() gives): the push service
// URL to POST to and the keys the payload is encrypted for (RFC 8291).
type Subscription struct {
	Endpoint string      `json:"endpoint"`
	Keys     BrowserKeys `json:"keys"`
}

// BrowserKeys are a subscription's keys, as unpadded base64url.
type BrowserKeys struct {
	// P256dh is the browser's ECDH public key: an uncompressed P-256 point (65 bytes).
	P256dh string `json:"p256dh"`
	// Auth is the 16-byte authentication secret.
	Auth string `json:"auth"`
}

// Browser is a subscription kept for a person: one of their browsers.
type Browser struct {
	ID       string
	PersonID string
	Subscription
	UserAgent     string
	CreatedAt     time.Time
	LastSuccessAt *time.Time // the push service last accepted a message for it
	LastFailureAt *time.Time // a send to it last failed
}

// JSON returns the subscription as a broadcast.Message's To for the web push channel.
func (s Subscription) JSON() string {
	data, _ := json.Marshal(s)
	return string(data)
}

// Host returns the endpoint's host (the push service), which is safe to log and show;
// the rest of the endpoint is a bearer capability and is not.
func (s Subscription) Host() string { return EndpointHost(s.Endpoint) }

// EndpointHost returns the host of a push endpoint, "" when it is not a URL.
func EndpointHost(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// ParseSubscription reads and checks a browser's PushSubscription JSON: the endpoint
// must be an absolute https URL (http is accepted only on loopback hosts, for local
// fakes), p256dh a point on P-256 and auth 16 bytes. Keys come back as unpadded
// base64url whatever base64 flavour they arrived in. Problems are an optimum.EINVALID
// error listing each field.
func ParseSubscription(data []byte) (Subscription, error) {
	const msg = "The push subscription has errors."
	if len(data) > MaxSubscriptionSize {
		return Subscription{}, optimum.Invalid(msg, []optimum.FieldError{{Field: "", Message: "is larger than 8 KiB; a browser's PushSubscription is far smaller"}})
	}
	var in struct {
		Endpoint       *string         `json:"endpoint"`
		ExpirationTime json.RawMessage `json:"expirationTime"`
		Keys           *struct {
			P256dh *string `json:"p256dh"`
			Auth   *string `json:"auth"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return Subscription{}, optimum.Invalid(msg, []optimum.FieldError{{Field: "", Message: "must be the JSON of a PushSubscription: {endpoint, expirationTime, keys: {p256dh, auth}}"}})
	}
	var (
		sub      Subscription
		problems []optimum.FieldError
	)
	bad := func(field, message string) {
		problems = append(problems, optimum.FieldError{Field: field, Message: message})
	}
	if in.Endpoint == nil || *in.Endpoint == "" {
		bad("endpoint", "is required")
	} else if m := checkEndpoint(*in.Endpoint); m != "" {
		bad("endpoint", m)
	} else {
		sub.Endpoint = *in.Endpoint
	}
	if t := strings.TrimSpace(string(in.ExpirationTime)); t != "" && t != "null" {
		var ms float64
		if json.Unmarshal(in.ExpirationTime, &ms) != nil || ms < 0 {
			bad("expirationTime", "must be null or a time in milliseconds")
		}
	}
	if in.Keys == nil {
		bad("keys", "is required: {p256dh, auth}")
		return sub, optimum.Invalid(msg, problems)
	}
	if in.Keys.P256dh == nil || *in.Keys.P256dh == "" {
		bad("keys.p256dh", "is required")
	} else if b, err := decodeKey(*in.Keys.P256dh); err != nil || len(b) != 65 {
		bad("keys.p256dh", "must be a base64url uncompressed P-256 public key (65 bytes)")
	} else if _, err := ecdh.P256().NewPublicKey(b); err != nil {
		bad("keys.p256dh", "is not a point on the P-256 curve")
	} else {
		sub.Keys.P256dh = base64.RawURLEncoding.EncodeToString(b)
	}
	if in.Keys.Auth == nil || *in.Keys.Auth == "" {
		bad("keys.auth", "is required")
	} else if b, err := decodeKey(*in.Keys.Auth); err != nil || len(b) != 16 {
		bad("keys.auth", "must be a base64url secret of 16 bytes")
	} else {
		sub.Keys.Auth = base64.RawURLEncoding.EncodeToString(b)
	}
	if err := optimum.Invalid(msg, problems); err != nil {
		return Subscription{}, err
	}
	return sub, nil
}

// checkEndpoint returns what is wrong with a push endpoint, "" when nothing is.
func checkEndpoint(endpoint string) string {
	if len(endpoint) > MaxEndpointLength {
		return "is longer than 2048 characters"
	}
	u, err := url.Parse(endpoint)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return "must be an absolute URL of a push service"
	}
	if u.User != nil || u.Fragment != "" {
		return "must not carry credentials or a fragment"
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return "must use https"
		}
	default:
		return "must use https"
	}
	return ""
}

func isLoopback(host string) bool {
	if isLocalHost(host) {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
