// Package vonagetest is a local fake of Vonage for tests: the SMS API (/sms/json) and
// the Voice API (/v1/calls), checking what Vonage checks, and a webhook caller that
// signs delivery receipts, inbound SMS and call events as Vonage does.
//
// The SMS API checks api_key and api_secret and the required parameters and answers 200
// with Vonage's JSON, whose per-message status says what went wrong (4 for invalid
// credentials, 2 for a missing parameter, 3 for an invalid one), as the real API does.
// The Voice API checks the Bearer JWT: RS256, signed by the application's key, with the
// application id, iat and a future exp (401 otherwise), and the call's to, from and
// NCCO. Failures can be injected (SetFail). Every request is recorded. It is safe for
// concurrent use.
package vonagetest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast/vonage"
)

// Credentials the fake accepts unless told otherwise.
const (
	APIKey          = "a1b2c3d4"
	APISecret       = "S3cretS3cret1234"
	SignatureSecret = "sigsecretsigsecretsigsecret"
	ApplicationID   = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
)

// SMS is one message the SMS API accepted.
type SMS struct {
	ID, From, To, Text, Type, ClientRef, Callback string
}

// Call is one call the Voice API accepted.
type Call struct {
	UUID, To, From string
	NCCO           []map[string]any
	EventURL       string
}

// Fake is a fake Vonage. Create it with New.
type Fake struct {
	srv  *httptest.Server
	key  *rsa.PrivateKey
	mu   sync.Mutex
	sms  []SMS
	call []Call
	fail int // HTTP status answered to everything; 0: none
	seq  int
	// Refused counts requests refused for their authentication.
	refused int
}

// New starts a fake Vonage on a loopback port with a new application key; it stops
// when the test ends.
func New(tb testing.TB) *Fake {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	f := &Fake{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /sms/json", f.serveSMS)
	mux.HandleFunc("POST /v1/calls", f.serveCall)
	f.srv = httptest.NewServer(mux)
	tb.Cleanup(f.srv.Close)
	return f
}

// URL is the fake's base URL, for both SMSAPIURL and VoiceAPIURL.
func (f *Fake) URL() string { return f.srv.URL }

// PrivateKeyPEM is the application's private key, for Config.PrivateKeyPEM.
func (f *Fake) PrivateKeyPEM() []byte {
	b, _ := x509.MarshalPKCS8PrivateKey(f.key)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: b})
}

// SetFail makes the fake answer status to every request (0 stops it).
func (f *Fake) SetFail(status int) {
	f.mu.Lock()
	f.fail = status
	f.mu.Unlock()
}

// Messages returns the accepted SMS, in order.
func (f *Fake) Messages() []SMS {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]SMS(nil), f.sms...)
}

// Calls returns the accepted calls, in order.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.call...)
}

// Refused returns how many requests were refused for their authentication.
func (f *Fake) Refused() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refused
}

func (f *Fake) injected(w http.ResponseWriter) bool {
	f.mu.Lock()
	st := f.fail
	f.mu.Unlock()
	if st == 0 {
		return false
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(st)
	fmt.Fprintf(w, `{"type":"https://developer.nexmo.com/api-errors#internal-error","title":"Internal Error","detail":"injected %d"}`, st)
	return true
}

func smsStatus(w http.ResponseWriter, status, text string) {
	writeJSON(w, http.StatusOK, map[string]any{"message-count": "1",
		"messages": []map[string]string{{"status": status, "error-text": text}}})
}

func (f *Fake) serveSMS(w http.ResponseWriter, r *http.Request) {
	if f.injected(w) {
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		smsStatus(w, "2", "Missing api_key")
		return
	}
	if err := r.ParseForm(); err != nil {
		smsStatus(w, "3", "Invalid form")
		return
	}
	p := r.PostForm
	if p.Get("api_key") == "" || p.Get("api_secret") == "" {
		smsStatus(w, "2", "Missing api_key or api_secret")
		return
	}
	if p.Get("api_key") != APIKey || p.Get("api_secret") != APISecret {
		f.mu.Lock()
		f.refused++
		f.mu.Unlock()
		smsStatus(w, "4", "Bad Credentials")
		return
	}
	for _, k := range []string{"from", "to", "text"} {
		if p.Get(k) == "" {
			smsStatus(w, "2", "Missing "+k)
			return
		}
	}
	if strings.HasPrefix(p.Get("to"), "+") || strings.Trim(p.Get("to"), "0123456789") != "" {
		smsStatus(w, "3", "Invalid to address")
		return
	}
	if t := p.Get("type"); t != "" && t != "text" && t != "unicode" {
		smsStatus(w, "3", "Invalid type")
		return
	}
	if cb := p.Get("callback"); cb != "" {
		if u, err := url.Parse(cb); err != nil || u.Host == "" {
			smsStatus(w, "23", "Invalid callback url")
			return
		}
	}
	f.mu.Lock()
	f.seq++
	id := fmt.Sprintf("0C%014X", f.seq)
	f.sms = append(f.sms, SMS{ID: id, From: p.Get("from"), To: p.Get("to"), Text: p.Get("text"), Type: p.Get("type"),
		ClientRef: p.Get("client-ref"), Callback: p.Get("callback")})
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"message-count": "1", "messages": []map[string]string{{
		"to": p.Get("to"), "message-id": id, "status": "0", "remaining-balance": "15.50000000",
		"message-price": "0.03330000", "network": "33410", "client-ref": p.Get("client-ref")}}})
}

// checkJWT verifies a Voice API request's token as Vonage does.
func (f *Fake) checkJWT(auth string) error {
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		return fmt.Errorf("no Bearer token")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return fmt.Errorf("not a JWT")
	}
	var head struct{ Alg string }
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if json.Unmarshal(hb, &head) != nil || head.Alg != "RS256" {
		return fmt.Errorf("alg must be RS256")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&f.key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		return fmt.Errorf("bad signature")
	}
	var c struct {
		App string `json:"application_id"`
		IAT int64  `json:"iat"`
		Exp int64  `json:"exp"`
		JTI string `json:"jti"`
	}
	pb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(pb, &c); err != nil {
		return err
	}
	now := time.Now().Unix()
	switch {
	case c.App != ApplicationID:
		return fmt.Errorf("unknown application")
	case c.IAT > now+60 || (c.Exp != 0 && c.Exp < now):
		return fmt.Errorf("token not valid now")
	case c.JTI == "":
		return fmt.Errorf("no jti")
	}
	return nil
}

func (f *Fake) serveCall(w http.ResponseWriter, r *http.Request) {
	if err := f.checkJWT(r.Header.Get("Authorization")); err != nil {
		f.mu.Lock()
		f.refused++
		f.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, map[string]string{"type": "https://developer.nexmo.com/api-errors#unauthorized",
			"title": "Unauthorized", "detail": err.Error()})
		return
	}
	if f.injected(w) {
		return
	}
	var body struct {
		To []struct {
			Type, Number string
		} `json:"to"`
		From struct {
			Type, Number string
		} `json:"from"`
		NCCO     []map[string]any `json:"ncco"`
		EventURL []string         `json:"event_url"`
	}
	bad := func(detail string) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"type": "https://developer.nexmo.com/api-errors#bad-request",
			"title": "Bad Request", "detail": detail})
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		bad("content type must be application/json")
		return
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		bad(err.Error())
		return
	}
	if len(body.To) != 1 || body.To[0].Type != "phone" || body.To[0].Number == "" || body.From.Number == "" {
		bad("to and from must be phone endpoints")
		return
	}
	if len(body.NCCO) == 0 {
		bad("ncco or answer_url is required")
		return
	}
	for _, a := range body.NCCO {
		if _, ok := a["action"].(string); !ok {
			bad("every NCCO action needs an action")
			return
		}
	}
	f.mu.Lock()
	f.seq++
	uuid := fmt.Sprintf("63f61863-4a51-4f6b-86e1-%012x", f.seq)
	ev := ""
	if len(body.EventURL) > 0 {
		ev = body.EventURL[0]
	}
	f.call = append(f.call, Call{UUID: uuid, To: body.To[0].Number, From: body.From.Number, NCCO: body.NCCO, EventURL: ev})
	f.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]string{"uuid": uuid, "status": "started", "direction": "outbound",
		"conversation_uuid": "CON-" + uuid})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Signed adds timestamp, nonce and sig to params as Vonage signs SMS webhooks (with
// method, e.g. "md5hash").
func Signed(params url.Values, secret, method string, now time.Time) url.Values {
	out := url.Values{}
	for k, v := range params {
		out[k] = append([]string(nil), v...)
	}
	out.Set("timestamp", strconv.FormatInt(now.Unix(), 10))
	n := make([]byte, 8)
	_, _ = rand.Read(n)
	out.Set("nonce", fmt.Sprintf("%x", n))
	out.Set("sig", vonage.SignSMS(secret, method, out))
	return out
}

// Receipt returns the signed delivery receipt of m with status (delivered, failed…).
func Receipt(m SMS, status, method string, now time.Time) url.Values {
	return Signed(url.Values{"msisdn": {m.To}, "to": {m.From}, "network-code": {"33410"}, "messageId": {m.ID},
		"price": {"0.03330000"}, "status": {status}, "scts": {now.UTC().Format("0601021504")}, "err-code": {"0"},
		"api-key": {APIKey}, "client-ref": {m.ClientRef}, "message-timestamp": {now.UTC().Format("2006-01-02 15:04:05")}},
		SignatureSecret, method, now)
}

// InboundSMS returns the signed parameters of an SMS from the phone from (E.164) to the
// number to.
func InboundSMS(from, to, text, method string, now time.Time) url.Values {
	n := make([]byte, 6)
	_, _ = rand.Read(n)
	return Signed(url.Values{"msisdn": {strings.TrimPrefix(from, "+")}, "to": {strings.TrimPrefix(to, "+")},
		"messageId": {fmt.Sprintf("1A%X", n)}, "text": {text}, "type": {"text"}, "keyword": {strings.ToUpper(strings.Fields(text + " x")[0])},
		"api-key": {APIKey}, "message-timestamp": {now.UTC().Format("2006-01-02 15:04:05")}}, SignatureSecret, method, now)
}

// PostForm posts params to u as a form, as Vonage posts SMS webhooks.
func PostForm(ctx context.Context, u string, params url.Values) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(params.Encode()))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(req)
}

// PostEvent posts a call webhook's JSON body to u, signed with a JWT as Vonage signs
// them.
func PostEvent(ctx context.Context, u string, body any, now time.Time) (*http.Response, []byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", vonage.VoiceToken(SignatureSecret, b, now))
	return do(req)
}

func do(req *http.Request) (*http.Response, []byte, error) {
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res, b, err
}
