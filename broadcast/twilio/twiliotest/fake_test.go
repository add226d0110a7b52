package twiliotest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast/twilio"
	"github.com/optimum-bcp/optimum/broadcast/twilio/twiliotest"
)

// post sends a raw form to the fake, as any HTTP client would.
func post(t *testing.T, fake *twiliotest.Fake, path, user, pass, contentType string, form url.Values) (int, http.Header, map[string]any) {
	t.Helper()
	code, header, body, err := tryPost(fake, path, user, pass, contentType, form)
	if err != nil {
		t.Fatal(err)
	}
	return code, header, body
}

// tryPost is post for goroutines other than the test's, which must not call t.Fatal.
func tryPost(fake *twiliotest.Fake, path, user, pass, contentType string, form url.Values) (int, http.Header, map[string]any, error) {
	req, _ := http.NewRequest(http.MethodPost, fake.URL()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", contentType)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return 0, nil, nil, fmt.Errorf("the fake's answer is not JSON: %v", err)
	}
	return res.StatusCode, res.Header, body, nil
}

const formType = "application/x-www-form-urlencoded"

func TestFakeAnswersLikeTwilio(t *testing.T) {
	fake := twiliotest.New(t, twiliotest.Options{})
	sid, tok := fake.AccountSID(), fake.AuthToken()
	messages := "/2010-04-01/Accounts/" + sid + "/Messages.json"
	calls := "/2010-04-01/Accounts/" + sid + "/Calls.json"
	sms := url.Values{"To": {"+5215512345678"}, "From": {"+15005550006"}, "Body": {"Hola"}}

	status, hdr, body := post(t, fake, messages, sid, "wrong", formType, sms)
	if status != 401 || body["code"] != float64(20003) || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("wrong password: %d %v %v; want 401, code 20003 and a Basic challenge", status, body, hdr)
	}
	if status, _, _ := post(t, fake, messages, "", "", formType, sms); status != 401 {
		t.Errorf("no credentials: %d, want 401", status)
	}
	if status, _, body := post(t, fake, "/2010-04-01/Accounts/ACother/Messages.json", sid, tok, formType, sms); status != 404 || body["code"] != float64(20404) {
		t.Errorf("another account: %d %v, want 404 20404", status, body)
	}
	if status, _, _ := post(t, fake, messages, sid, tok, "application/json", sms); status != 400 {
		t.Errorf("JSON body: %d, want 400", status)
	}
	for _, tc := range []struct {
		drop, set, value string
		code             int
	}{
		{drop: "To", code: 21604},
		{drop: "From", code: 21603},
		{drop: "Body", code: 21602},
		{set: "To", value: "5512345678", code: 21211},
		{set: "Body", value: strings.Repeat("x", 1601), code: 21617},
		{set: "To", value: twiliotest.OptedOutNumber, code: 21610},
		{set: "To", value: twiliotest.NotMobileNumber, code: 21614},
	} {
		form := url.Values{}
		for k, v := range sms {
			form[k] = v
		}
		form.Del(tc.drop)
		if tc.set != "" {
			form.Set(tc.set, tc.value)
		}
		if status, _, body := post(t, fake, messages, sid, tok, formType, form); status != 400 || body["code"] != float64(tc.code) {
			t.Errorf("drop %q set %q=%.20q: %d %v, want 400 with code %d", tc.drop, tc.set, tc.value, status, body, tc.code)
		}
	}

	status, _, body = post(t, fake, messages, sid, tok, formType, sms)
	if status != 201 {
		t.Fatalf("valid message: %d %v, want 201", status, body)
	}
	if s, _ := body["sid"].(string); !strings.HasPrefix(s, "SM") || len(s) != 34 {
		t.Errorf("sid = %v, want SM + 32 hex", body["sid"])
	}
	for k, want := range map[string]any{"status": "queued", "num_segments": "1", "num_media": "0", "to": "+5215512345678", "account_sid": sid} {
		if body[k] != want {
			t.Errorf("%s = %#v, want %#v (Twilio sends counts as strings)", k, body[k], want)
		}
	}
	if _, err := time.Parse(time.RFC1123Z, body["date_created"].(string)); err != nil {
		t.Errorf("date_created %v is not RFC 2822: %v", body["date_created"], err)
	}

	svc := url.Values{"To": {"+5215512345678"}, "MessagingServiceSid": {"MG1"}, "Body": {"Hola"}}
	if status, _, body := post(t, fake, messages, sid, tok, formType, svc); status != 201 || body["status"] != "accepted" || body["from"] != nil {
		t.Errorf("through a Messaging Service: %d %v, want 201 accepted without from", status, body)
	}

	call := url.Values{"To": {"+5215512345678"}, "From": {"+15005550006"}, "Twiml": {"<Response/>"}}
	status, _, body = post(t, fake, calls, sid, tok, formType, call)
	if s, _ := body["sid"].(string); status != 201 || !strings.HasPrefix(s, "CA") || body["status"] != "queued" {
		t.Errorf("valid call: %d %v, want 201 queued CA…", status, body)
	}
	call.Del("Twiml")
	if status, _, body := post(t, fake, calls, sid, tok, formType, call); status != 400 || body["code"] != float64(21205) {
		t.Errorf("call without Url or Twiml: %d %v, want 400 21205", status, body)
	}
	call.Set("Twiml", strings.Repeat("x", 4001))
	if status, _, _ := post(t, fake, calls, sid, tok, formType, call); status != 400 {
		t.Errorf("call with 4001 characters of Twiml: %d, want 400", status)
	}

	if got, want := len(fake.Messages()), 13; got != want {
		t.Errorf("Messages() has %d requests, want every one of the %d", got, want)
	}
	if got := len(fake.Calls()); got != 3 {
		t.Errorf("Calls() has %d requests, want 3", got)
	}
}

func TestFakeInjectsFailures(t *testing.T) {
	fake := twiliotest.New(t, twiliotest.Options{})
	messages := "/2010-04-01/Accounts/" + fake.AccountSID() + "/Messages.json"
	sms := url.Values{"To": {"+5215512345678"}, "From": {"+15005550006"}, "Body": {"Hola"}}

	fake.FailNext(1, 429, 3*time.Second)
	status, hdr, body := post(t, fake, messages, fake.AccountSID(), fake.AuthToken(), formType, sms)
	if status != 429 || body["code"] != float64(20429) || hdr.Get("Retry-After") != "3" {
		t.Errorf("FailNext 429: %d %v Retry-After %q, want 429 20429 and 3", status, body, hdr.Get("Retry-After"))
	}
	if status, _, _ := post(t, fake, messages, fake.AccountSID(), fake.AuthToken(), formType, sms); status != 201 {
		t.Errorf("after the failure: %d, want 201", status)
	}

	fake.SetFailRate(0.5, 500)
	failed := 0
	for range 200 {
		if status, _, _ := post(t, fake, messages, fake.AccountSID(), fake.AuthToken(), formType, sms); status == 500 {
			failed++
		}
	}
	if failed < 60 || failed > 140 {
		t.Errorf("%d of 200 failed at rate 0.5", failed)
	}
}

func TestFakeIsSafeForConcurrentUse(t *testing.T) {
	fake := twiliotest.New(t, twiliotest.Options{})
	messages := "/2010-04-01/Accounts/" + fake.AccountSID() + "/Messages.json"
	sms := url.Values{"To": {"+5215512345678"}, "From": {"+15005550006"}, "Body": {"Hola"}}
	fake.SetFailRate(0.1, 503)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				if _, _, _, err := tryPost(fake, messages, fake.AccountSID(), fake.AuthToken(), formType, sms); err != nil {
					t.Error(err) // not Fatal: this is not the test's goroutine
					return
				}
				_ = fake.Messages()
			}
		})
	}
	wg.Wait()
	if n := len(fake.Messages()); n != 80 {
		t.Errorf("recorded %d requests, want 80", n)
	}
}

// signedServer is a server under test in miniature: it checks X-Twilio-Signature against
// its public URL and records the forms it accepted.
type signedServer struct {
	public, token string
	mu            sync.Mutex
	got           []url.Values
	paths         []string
}

func (s *signedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	if !twilio.ValidSignature(s.token, s.public+r.URL.RequestURI(), form, r.Header.Get(twilio.SignatureHeader)) {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	s.mu.Lock()
	s.got = append(s.got, form)
	s.paths = append(s.paths, r.URL.RequestURI())
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	io.WriteString(w, twilio.SMSReply(""))
}

func TestFakeWebhooksAreSignedForThePublicURL(t *testing.T) {
	fake := twiliotest.New(t, twiliotest.Options{})
	const public = "https://optimum.example.com"
	srv := &signedServer{public: public, token: fake.AuthToken()}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	fake.Route(public, hs.URL)

	// A call to advance, created through the REST API as the server would.
	calls := "/2010-04-01/Accounts/" + fake.AccountSID() + "/Calls.json"
	created := url.Values{
		"To": {"+5215512345678"}, "From": {"+15005550006"}, "Twiml": {"<Response/>"},
		"StatusCallback":      {public + twilio.PathStatus + "?d=dlv-1"},
		"StatusCallbackEvent": {"ringing", "completed"},
	}
	_, _, body := post(t, fake, calls, fake.AccountSID(), fake.AuthToken(), formType, created)
	callSid := body["sid"].(string)

	ctx := context.Background()
	if err := fake.Advance(ctx, callSid, "initiated", "ringing", "in-progress", "completed"); err != nil {
		t.Fatalf("Advance: %v", err)
	}
	for _, send := range []func() (*http.Response, error){
		func() (*http.Response, error) {
			return fake.SendInboundSMS(ctx, public+twilio.PathSMS, "+5215512345678", "+15005550006", "1 BCP-2026-000042")
		},
		func() (*http.Response, error) {
			return fake.SendDigits(ctx, public+twilio.PathVoice+"?d=dlv-1", callSid, "1")
		},
	} {
		res, err := send()
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("webhook: %v %v, want 200", res, err)
		}
	}
	res, err := fake.PostSigned(ctx, public+twilio.PathSMS, url.Values{"Body": {"1"}}, "forged=")
	if err != nil || res.StatusCode != 403 {
		t.Errorf("forged signature: %v %v, want the server's 403", res, err)
	}

	srv.mu.Lock()
	defer srv.mu.Unlock()
	wantPaths := []string{"/hooks/twilio/status?d=dlv-1", "/hooks/twilio/status?d=dlv-1", "/hooks/twilio/sms", "/hooks/twilio/voice?d=dlv-1"}
	if strings.Join(srv.paths, " ") != strings.Join(wantPaths, " ") {
		t.Fatalf("the server got %v, want %v (only the subscribed call events)", srv.paths, wantPaths)
	}
	if g := srv.got[0]; g.Get("CallStatus") != "ringing" || g.Get("CallSid") != callSid || g.Get("To") != "+5215512345678" {
		t.Errorf("ringing callback = %v", g)
	}
	if g := srv.got[1]; g.Get("CallStatus") != "completed" || g.Get("CallDuration") == "" {
		t.Errorf("completed callback = %v", g)
	}
	if g := srv.got[2]; g.Get("Body") != "1 BCP-2026-000042" || g.Get("From") != "+5215512345678" ||
		!strings.HasPrefix(g.Get("MessageSid"), "SM") || g.Get("SmsStatus") != "received" || g.Get("NumMedia") != "0" {
		t.Errorf("inbound SMS = %v", g)
	}
	if g := srv.got[3]; g.Get("Digits") != "1" || g.Get("CallSid") != callSid || g.Get("CallStatus") != "in-progress" {
		t.Errorf("key press = %v", g)
	}
}
