// Package webpushtest is a local push service for tests that checks what the real ones
// check: the VAPID JWT (RFC 8292) signed with the server's key, for the endpoint's
// origin, expiring within 24 hours, with a mailto: or https: subject; the TTL, Urgency,
// Topic and Content-Encoding headers; and the RFC 8291 aes128gcm body, which it decrypts
// with the subscription's private key, as a browser would. Everything is the standard
// library.
package webpushtest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configure a fake push service.
type Options struct {
	// VAPIDPublicKey is the server's public key (base64url); a push signed with any other
	// key is refused with 403, as real services refuse a subscription made with another
	// applicationServerKey.
	VAPIDPublicKey string
	// Now is the fake's clock for the JWT's expiry; default time.Now.
	Now func() time.Time
}

// Push is one message the fake accepted.
type Push struct {
	Endpoint string
	Header   http.Header
	TTL      int
	Urgency  string
	Topic    string
	// Subject is the JWT's sub claim.
	Subject string
	// Payload is the decrypted plaintext, without padding.
	Payload []byte
	// BodySize is the length of the encrypted body.
	BodySize int
	At       time.Time
}

// Notification decodes the payload as the sender's notification JSON.
func (p Push) Notification() (map[string]any, error) {
	var v map[string]any
	err := json.Unmarshal(p.Payload, &v)
	return v, err
}

// Rejection is a request the fake refused and why.
type Rejection struct {
	Endpoint string
	Status   int
	Reason   string
}

// Fake is a running push service. It is safe for concurrent use.
type Fake struct {
	// URL is the service's base URL (http://127.0.0.1:port).
	URL string

	srv *httptest.Server
	opt Options

	mu       sync.Mutex
	subs     map[string]*browser // by path
	expired  map[string]int      // by path: the status to answer
	failN    int
	failCode int
	failWait string
	latency  time.Duration
	received []Push
	rejected []Rejection
}

type browser struct {
	key  *ecdh.PrivateKey
	auth []byte
}

// New starts a fake push service, closed when the test ends.
func New(tb testing.TB, opt Options) *Fake {
	tb.Helper()
	if opt.Now == nil {
		opt.Now = time.Now
	}
	f := &Fake{opt: opt, subs: map[string]*browser{}, expired: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	f.URL = f.srv.URL
	tb.Cleanup(f.srv.Close)
	return f
}

// Client returns an HTTP client for the fake.
func (f *Fake) Client() *http.Client { return f.srv.Client() }

// NewSubscription makes a browser: a fresh P-256 key pair and auth secret, and an
// endpoint on the fake. It returns the PushSubscription JSON a browser would send
// ({endpoint, expirationTime, keys: {p256dh, auth}}) and the endpoint.
func (f *Fake) NewSubscription() (subJSON []byte, endpoint string) {
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	auth := make([]byte, 16)
	rand.Read(auth)
	id := make([]byte, 12)
	rand.Read(id)
	path := "/push/" + base64.RawURLEncoding.EncodeToString(id)
	f.mu.Lock()
	f.subs[path] = &browser{key: key, auth: auth}
	f.mu.Unlock()
	endpoint = f.URL + path
	enc := base64.RawURLEncoding
	subJSON, _ = json.Marshal(map[string]any{
		"endpoint":       endpoint,
		"expirationTime": nil,
		"keys":           map[string]string{"p256dh": enc.EncodeToString(key.PublicKey().Bytes()), "auth": enc.EncodeToString(auth)},
	})
	return subJSON, endpoint
}

// Expire makes the endpoint answer status (404 or 410) from now on, as a push service
// does for a subscription the browser dropped.
func (f *Fake) Expire(endpoint string, status int) {
	f.mu.Lock()
	f.expired[f.path(endpoint)] = status
	f.mu.Unlock()
}

// FailNext makes the next n requests, to any endpoint, answer status (429, 500, 503…)
// with the Retry-After header when retryAfter is not "".
func (f *Fake) FailNext(n, status int, retryAfter string) {
	f.mu.Lock()
	f.failN, f.failCode, f.failWait = n, status, retryAfter
	f.mu.Unlock()
}

// SetLatency delays every answer by d (or until the request is cancelled).
func (f *Fake) SetLatency(d time.Duration) {
	f.mu.Lock()
	f.latency = d
	f.mu.Unlock()
}

// Received returns the pushes accepted so far, oldest first.
func (f *Fake) Received() []Push {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Push(nil), f.received...)
}

// Rejected returns the requests refused for what they carried (not those failed on
// purpose with Expire or FailNext).
func (f *Fake) Rejected() []Rejection {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Rejection(nil), f.rejected...)
}

func (f *Fake) path(endpoint string) string { return strings.TrimPrefix(endpoint, f.URL) }

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	// Read the body first: the server notices a client that gave up only once it has.
	body, readErr := io.ReadAll(io.LimitReader(r.Body, 4097))
	f.mu.Lock()
	latency := f.latency
	f.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	f.mu.Lock()
	b := f.subs[r.URL.Path]
	expired := f.expired[r.URL.Path]
	fail, failCode, failWait := f.failN > 0, f.failCode, f.failWait
	if fail {
		f.failN--
	}
	f.mu.Unlock()
	switch {
	case r.Method != http.MethodPost:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	case fail:
		if failWait != "" {
			w.Header().Set("Retry-After", failWait)
		}
		http.Error(w, http.StatusText(failCode), failCode)
		return
	case b == nil:
		f.reject(w, r, http.StatusNotFound, "NotFound", "no such subscription")
		return
	case expired != 0:
		http.Error(w, `{"reason":"Unregistered"}`, expired)
		return
	}
	p := Push{Endpoint: f.URL + r.URL.Path, Header: r.Header.Clone(), At: f.opt.Now()}
	sub, err := f.checkVAPID(r)
	if err != nil {
		f.reject(w, r, http.StatusForbidden, "BadJwtToken", err.Error())
		return
	}
	p.Subject = sub
	if p.TTL, p.Urgency, p.Topic, err = checkHeaders(r.Header); err != nil {
		f.reject(w, r, http.StatusBadRequest, "BadHeader", err.Error())
		return
	}
	if readErr != nil {
		f.reject(w, r, http.StatusBadRequest, "BadBody", readErr.Error())
		return
	}
	if len(body) > 4096 {
		f.reject(w, r, http.StatusRequestEntityTooLarge, "PayloadTooLarge", "the body is larger than 4096 bytes")
		return
	}
	p.BodySize = len(body)
	if p.Payload, err = decrypt(b, body); err != nil {
		f.reject(w, r, http.StatusBadRequest, "BadEncryption", err.Error())
		return
	}
	f.mu.Lock()
	f.received = append(f.received, p)
	n := len(f.received)
	f.mu.Unlock()
	w.Header().Set("Location", fmt.Sprintf("%s/message/%d", f.URL, n))
	w.WriteHeader(http.StatusCreated)
}

func (f *Fake) reject(w http.ResponseWriter, r *http.Request, status int, reason, detail string) {
	f.mu.Lock()
	f.rejected = append(f.rejected, Rejection{Endpoint: f.URL + r.URL.Path, Status: status, Reason: reason + ": " + detail})
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"reason": reason, "detail": detail})
}

// checkVAPID verifies "Authorization: vapid t=<JWT>, k=<public key>" and returns the sub.
func (f *Fake) checkVAPID(r *http.Request) (string, error) {
	scheme, params, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "vapid") {
		return "", errors.New(`the Authorization header must be "vapid t=<JWT>, k=<key>"`)
	}
	var token, k string
	for _, p := range strings.Split(params, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch name {
		case "t":
			token = value
		case "k":
			k = value
		}
	}
	if token == "" || k == "" {
		return "", errors.New("the Authorization header lacks t= or k=")
	}
	if k != strings.TrimRight(f.opt.VAPIDPublicKey, "=") {
		return "", errors.New("k is not the VAPID public key the subscription was made with")
	}
	keyBytes, err := base64.RawURLEncoding.DecodeString(k)
	if err != nil {
		return "", errors.New("k is not base64url")
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), keyBytes)
	if err != nil {
		return "", fmt.Errorf("k is not a P-256 point: %v", err)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("the JWT does not have three parts")
	}
	var header struct{ Alg, Typ string }
	if err := decodePart(parts[0], &header); err != nil || header.Alg != "ES256" {
		return "", fmt.Errorf("the JWT header must say alg ES256 (got %+v, %v)", header, err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return "", errors.New("the JWT signature must be 64 bytes r||s")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return "", errors.New("the JWT signature does not verify with k")
	}
	var claims struct {
		Aud string
		Exp *json.Number
		Sub string
	}
	if err := decodePart(parts[1], &claims); err != nil {
		return "", fmt.Errorf("the JWT claims: %v", err)
	}
	if want := "http://" + r.Host; claims.Aud != want {
		return "", fmt.Errorf("aud is %q, want %q", claims.Aud, want)
	}
	if claims.Exp == nil {
		return "", errors.New("exp is missing")
	}
	exp, err := claims.Exp.Int64()
	if err != nil {
		return "", errors.New("exp is not a whole number")
	}
	now := f.opt.Now().Unix()
	if exp <= now || exp > now+24*3600 {
		return "", fmt.Errorf("exp is %d s from now; it must be in the future and within 24 hours", exp-now)
	}
	switch {
	case strings.HasPrefix(claims.Sub, "mailto:mailto:"):
		return "", fmt.Errorf("sub %q has mailto: twice", claims.Sub)
	case strings.HasPrefix(claims.Sub, "mailto:"):
		addr := strings.TrimPrefix(claims.Sub, "mailto:")
		_, domain, ok := strings.Cut(addr, "@")
		if !ok || domain == "" {
			return "", fmt.Errorf("sub %q is not a mailto: address", claims.Sub)
		}
		if d := strings.ToLower(domain); d == "localhost" || strings.HasSuffix(d, ".localhost") {
			return "", fmt.Errorf("sub %q is a localhost contact (Apple refuses these)", claims.Sub)
		}
	case strings.HasPrefix(claims.Sub, "https://"):
	default:
		return "", fmt.Errorf("sub %q must start with mailto: or https://", claims.Sub)
	}
	return claims.Sub, nil
}

func decodePart(part string, v any) error {
	data, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

// checkHeaders checks TTL (required, a whole number > 0: a TTL of 0 is legal but lets the
// service drop the message for a device offline this instant, the pitfall this fake
// guards against), Urgency and Topic when present, and Content-Encoding: aes128gcm.
func checkHeaders(h http.Header) (ttl int, urgency, topic string, err error) {
	v := h.Get("TTL")
	if v == "" {
		return 0, "", "", errors.New("the TTL header is missing")
	}
	ttl, err = strconv.Atoi(v)
	if err != nil || ttl <= 0 {
		return 0, "", "", fmt.Errorf("TTL is %q; it must be a whole number of seconds above 0", v)
	}
	urgency = h.Get("Urgency")
	switch urgency {
	case "", "very-low", "low", "normal", "high":
	default:
		return 0, "", "", fmt.Errorf("Urgency %q is not very-low, low, normal or high", urgency)
	}
	topic = h.Get("Topic")
	if len(topic) > 32 || strings.Trim(topic, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return 0, "", "", fmt.Errorf("Topic %q must be at most 32 base64url characters", topic)
	}
	if ce := h.Get("Content-Encoding"); ce != "aes128gcm" {
		return 0, "", "", fmt.Errorf("Content-Encoding is %q, want aes128gcm", ce)
	}
	return ttl, urgency, topic, nil
}

// decrypt opens an RFC 8291 message: salt(16) | rs(4) | idlen(1) | as_public(65) |
// one record, whose plaintext ends with the 0x02 delimiter and zero padding.
func decrypt(b *browser, body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("the body is shorter than the aes128gcm header")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if idlen != 65 || len(body) < 21+idlen {
		return nil, fmt.Errorf("the key id is %d bytes; it must be the 65-byte server public key", idlen)
	}
	asPub, record := body[21:21+idlen], body[21+idlen:]
	if rs < 18 || len(record) > int(rs) {
		return nil, fmt.Errorf("the record is %d bytes with rs %d: exactly one record is expected", len(record), rs)
	}
	serverKey, err := ecdh.P256().NewPublicKey(asPub)
	if err != nil {
		return nil, fmt.Errorf("the server public key: %v", err)
	}
	secret, err := b.key.ECDH(serverKey)
	if err != nil {
		return nil, err
	}
	info := append(append([]byte("WebPush: info\x00"), b.key.PublicKey().Bytes()...), asPub...)
	ikm, err := hkdf.Key(sha256.New, secret, b.auth, string(info), 32)
	if err != nil {
		return nil, err
	}
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, record, nil)
	if err != nil {
		return nil, errors.New("the record does not decrypt with the subscription's keys")
	}
	plain = bytes.TrimRight(plain, "\x00")
	if len(plain) == 0 || plain[len(plain)-1] != 0x02 {
		return nil, errors.New("the record does not end with the 0x02 last-record delimiter")
	}
	return plain[:len(plain)-1], nil
}
