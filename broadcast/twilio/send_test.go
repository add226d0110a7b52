package twilio_test

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	twclient "github.com/twilio/twilio-go/client"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/twilio"
	"github.com/optimum-bcp/optimum/broadcast/twilio/twiliotest"
)

const publicURL = "https://optimum.example.com"

var pool = []string{"+15005550006", "+15005550007", "+15005550008"}

// newClient returns a client of the fake's account that sends from pool.
func newClient(tb testing.TB, fake *twiliotest.Fake, change func(*twilio.Config)) *twilio.Client {
	tb.Helper()
	cfg := twilio.Config{
		AccountSID: fake.AccountSID(),
		AuthToken:  fake.AuthToken(),
		From:       pool,
		APIURL:     fake.URL(),
		PublicURL:  publicURL,
	}
	if change != nil {
		change(&cfg)
	}
	c, err := twilio.New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func alert(to string) broadcast.Message {
	return broadcast.Message{
		DeliveryID: "dlv-42/a b",
		Attempt:    1,
		Channel:    broadcast.ChannelSMS,
		To:         to,
		Language:   "es",
		Title:      "BCP-2026-000042 Caída del sistema de pagos",
		Text:       "Confirma: responde 1 o toque el enlace. BCP-2026-000042 Caida de pagos.",
		URL:        "https://optimum.example.com/a/k3J9xQ",
	}
}

func TestSMSIsAcceptedWithTheFieldsTwilioNeeds(t *testing.T) {
	fake := twiliotest.New(t, twiliotest.Options{})
	sms := newClient(t, fake, nil).SMS()

	m := alert("+5215512345678")
	sid, retryable, err := sms.SendSID(context.Background(), m)
	if err != nil || retryable {
		t.Fatalf("SendSID = %v, %v; want accepted", retryable, err)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 {
		t.Fatalf("the fake got %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if got.SID != sid || !strings.HasPrefix(sid, "SM") || len(sid) != 34 {
		t.Errorf("sid = %q, the fake created %q; want the same SM + 32 hex", sid, got.SID)
	}
	if got.Status != 201 {
		t.Errorf("the fake answered %d, want 201", got.Status)
	}
	if v := got.Form.Get("To"); v != m.To {
		t.Errorf("To = %q, want %q", v, m.To)
	}
	if v := got.Form.Get("Body"); v != sms.Body(m) || !strings.HasSuffix(v, m.URL) {
		t.Errorf("Body = %q, want %q ending with the link", v, sms.Body(m))
	}
	if v := got.Form.Get("From"); !contains(pool, v) {
		t.Errorf("From = %q, want one of %v", v, pool)
	}
	if v := got.Form.Get("MessagingServiceSid"); v != "" {
		t.Errorf("MessagingServiceSid = %q, want none when sending from a number", v)
	}
	wantCB := publicURL + "/hooks/twilio/status?d=" + url.QueryEscape(m.DeliveryID)
	if v := got.Form.Get("StatusCallback"); v != wantCB {
		t.Errorf("StatusCallback = %q, want %q", v, wantCB)
	}
	if u, p, _ := basicAuth(got); u != fake.AccountSID() || p != fake.AuthToken() {
		t.Errorf("basic auth = %q:%q, want the account's", u, p)
	}
	if ua := got.Header.Get("User-Agent"); !strings.HasPrefix(ua, "twilio-go/") {
		t.Errorf("User-Agent = %q, want twilio-go's", ua)
	}
}

func TestSMSAlwaysComesFromTheSameNumberForAPerson(t *testing.T) {
	fake := twiliotest.New(t, twiliotest.Options{})
	sms := newClient(t, fake, nil).SMS()
	people := []string{"+5215500000001", "+5215500000002", "+5215500000003", "+5215500000004",
		"+5215500000005", "+5215500000006", "+5215500000007", "+5215500000008"}
	for round := 0; round < 2; round++ {
		for _, p := range people {
			if _, err := sms.Send(context.Background(), alert(p)); err != nil {
				t.Fatalf("Send(%s): %v", p, err)
			}
		}
	}
	first := map[string]string{}
	used := map[string]bool{}
	for _, r := range fake.Messages() {
		to, from := r.Form.Get("To"), r.Form.Get("From")
		if f, ok := first[to]; ok && f != from {
			t.Errorf("%s got SMS from %s and from %s; want always the same number", to, f, from)
		}
		first[to] = from
		used[from] = true
	}
	if len(used) < 2 {
		t.Errorf("8 people all got the same number %v; want the pool shared", used)
	}
}

func TestSMSThroughAMessagingService(t *testing.T) {
	fake := twiliotest.New(t, twiliotest.Options{})
	sms := newClient(t, fake, func(c *twilio.Config) {
		c.From = nil
		c.MessagingServiceSID = "MG0123456789abcdef0123456789abcdef"
	}).SMS()
	m := alert("+5215512345678")
	m.TTL = 10 * time.Minute
	if _, err := sms.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := fake.Messages()[0].Form
	if v := got.Get("MessagingServiceSid"); v != "MG0123456789abcdef0123456789abcdef" {
		t.Errorf("MessagingServiceSid = %q", v)
	}
	if v := got.Get("From"); v != "" {
		t.Errorf("From = %q, want none: the service picks the number", v)
	}
	if v := got.Get("ValidityPeriod"); v != "600" {
		t.Errorf("ValidityPeriod = %q, want the TTL in seconds, 600", v)
	}
}

func TestSMSTransliteratesToFitOneSegment(t *testing.T) {
	fake := twiliotest.New(t, twiliotest.Options{})
	sms := newClient(t, fake, func(c *twilio.Config) { c.Transliterate = true }).SMS()
	m := alert("+5215512345678")
	m.Text = "Confirma: responde 1. BCP-2026-000042 Caída del sistema de pagos en la región norte; " +
		"la operación está detenida. Atención inmediata."
	m.URL = "https://o.example/a/k3J9"
	body := sms.Body(m)
	if enc, n := twilio.Segments(body); enc != twilio.GSM7 || n != 1 {
		t.Errorf("Body %q is %s in %d segments, want GSM-7 in 1", body, enc, n)
	}
	if _, err := sms.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := fake.Messages()[0].Form.Get("Body"); got != body || strings.ContainsAny(got, "íóá") {
		t.Errorf("Body sent = %q, want the transliterated %q", got, body)
	}
}

func TestVoiceCallSpeaksTheAlertAndGathersOneKey(t *testing.T) {
	for _, tc := range []struct{ lang, locale, prompt string }{
		{"es", "es-MX", "Presiona 1 para confirmar recepción"},
		{"en", "en-US", "Press 1 to acknowledge"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			fake := twiliotest.New(t, twiliotest.Options{})
			voice := newClient(t, fake, nil).Voice()
			m := alert("+5215512345678")
			m.Channel, m.Language = broadcast.ChannelVoice, tc.lang
			sid, _, err := voice.SendSID(context.Background(), m)
			if err != nil || !strings.HasPrefix(sid, "CA") {
				t.Fatalf("SendSID = %q, %v; want a CA sid", sid, err)
			}
			calls := fake.Calls()
			if len(calls) != 1 {
				t.Fatalf("the fake got %d calls, want 1", len(calls))
			}
			form := calls[0].Form
			twiml := form.Get("Twiml")
			action := publicURL + "/hooks/twilio/voice?d=" + url.QueryEscape(m.DeliveryID)
			for _, want := range []string{
				`<Gather input="dtmf" numDigits="1" action="` + escapeAttr(action) + `" method="POST" timeout="10">`,
				`language="` + tc.locale + `"`,
				`loop="2"`,
				"Caída del sistema de pagos",
				escapeAttr(tc.prompt),
			} {
				if !strings.Contains(twiml, want) {
					t.Errorf("Twiml lacks %q:\n%s", want, twiml)
				}
			}
			if strings.Contains(twiml, m.URL) {
				t.Errorf("Twiml reads the link aloud:\n%s", twiml)
			}
			if v := form.Get("From"); !contains(pool, v) {
				t.Errorf("From = %q, want one of %v", v, pool)
			}
			if v := form["StatusCallbackEvent"]; strings.Join(v, ",") != "initiated,ringing,answered,completed" {
				t.Errorf("StatusCallbackEvent = %v", v)
			}
			if v := form.Get("StatusCallback"); v != publicURL+"/hooks/twilio/status?d="+url.QueryEscape(m.DeliveryID) {
				t.Errorf("StatusCallback = %q", v)
			}
		})
	}
}

func TestVoiceKeepsTwiMLUnderTwiliosLimit(t *testing.T) {
	fake := twiliotest.New(t, twiliotest.Options{})
	voice := newClient(t, fake, nil).Voice()
	m := alert("+5215512345678")
	m.Text = strings.Repeat("Evacúe el edificio <por la salida> & espere instrucciones. ", 200)
	if _, err := voice.Send(context.Background(), m); err != nil {
		t.Fatalf("Send with a very long text: %v", err)
	}
	twiml := fake.Calls()[0].Form.Get("Twiml")
	if len(twiml) > 4000 {
		t.Errorf("Twiml is %d bytes, want at most 4000", len(twiml))
	}
	if !strings.Contains(twiml, "Presiona 1") || !strings.HasSuffix(twiml, "</Response>") {
		t.Errorf("the cut Twiml lost its prompt or its end:\n%s", twiml)
	}
}

func TestVoiceWithoutSenderNumbersIsPermanent(t *testing.T) {
	fake := twiliotest.New(t, twiliotest.Options{})
	voice := newClient(t, fake, func(c *twilio.Config) {
		c.From = nil
		c.MessagingServiceSID = "MG0123456789abcdef0123456789abcdef"
	}).Voice()
	retryable, err := voice.Send(context.Background(), alert("+5215512345678"))
	if !errors.Is(err, twilio.ErrNoCaller) || retryable {
		t.Errorf("Send = %v, %v; want permanent ErrNoCaller", retryable, err)
	}
	if n := len(fake.Calls()); n != 0 {
		t.Errorf("the fake got %d calls, want none", n)
	}
}

func TestSendErrors(t *testing.T) {
	for _, tc := range []struct {
		name          string
		setup         func(*twiliotest.Fake)
		to            string
		badToken      bool
		wantRetryable bool
		wantIs        error
		wantAfter     time.Duration // > 0: want a *broadcast.RetryAfterError
		wantCode      int           // > 0: want the TwilioRestError reachable
	}{
		{name: "wrong credentials are permanent", badToken: true, wantIs: twilio.ErrUnauthorized, wantCode: 20003},
		{name: "429 with Retry-After says when", setup: func(f *twiliotest.Fake) { f.FailNext(1, 429, 7*time.Second) },
			wantRetryable: true, wantAfter: 7 * time.Second, wantCode: 20429},
		{name: "429 without Retry-After is retryable", setup: func(f *twiliotest.Fake) { f.FailNext(1, 429, 0) },
			wantRetryable: true, wantCode: 20429},
		{name: "500 is retryable", setup: func(f *twiliotest.Fake) { f.FailNext(1, 500, 0) },
			wantRetryable: true, wantCode: 20500},
		{name: "an HTML 503 from a proxy is retryable", setup: func(f *twiliotest.Fake) {
			f.FailNextWith(1, twiliotest.Failure{Status: 503, HTML: true, RetryAfter: 2 * time.Second})
		}, wantRetryable: true, wantAfter: 2 * time.Second},
		{name: "an invalid number is permanent", to: twiliotest.InvalidNumber, wantIs: twilio.ErrInvalidNumber, wantCode: 21211},
		{name: "an opted-out person is permanent", to: twiliotest.OptedOutNumber, wantIs: twilio.ErrOptedOut, wantCode: 21610},
		{name: "a landline is permanent", to: twiliotest.NotMobileNumber, wantIs: twilio.ErrNotMobile, wantCode: 21614},
		{name: "an unknown 400 is permanent", setup: func(f *twiliotest.Fake) { f.RejectTo("+5215512345678", 21408) },
			wantCode: 21408},
		{name: "a number that is not E.164 is refused before sending", to: "55 1234 5678", wantIs: twilio.ErrInvalidNumber},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := twiliotest.New(t, twiliotest.Options{})
			if tc.setup != nil {
				tc.setup(fake)
			}
			sms := newClient(t, fake, func(c *twilio.Config) {
				if tc.badToken {
					c.AuthToken = "0000000000000000000000000000beef"
				}
			}).SMS()
			to := tc.to
			if to == "" {
				to = "+5215512345678"
			}
			retryable, err := sms.Send(context.Background(), alert(to))
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if retryable != tc.wantRetryable {
				t.Errorf("retryable = %v, want %v (err %v)", retryable, tc.wantRetryable, err)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("err = %v, want it to wrap %v", err, tc.wantIs)
			}
			var ra *broadcast.RetryAfterError
			if got := errors.As(err, &ra); got != (tc.wantAfter > 0) {
				t.Errorf("err %v is a RetryAfterError: %v, want %v", err, got, tc.wantAfter > 0)
			} else if got && ra.After != tc.wantAfter {
				t.Errorf("RetryAfter = %v, want %v", ra.After, tc.wantAfter)
			}
			var te *twclient.TwilioRestError
			if tc.wantCode > 0 && (!errors.As(err, &te) || te.Code != tc.wantCode) {
				t.Errorf("err = %v, want a TwilioRestError with code %d", err, tc.wantCode)
			}
		})
	}
}

func TestSendRetriesSucceedOnceTwilioRecovers(t *testing.T) {
	fake := twiliotest.New(t, twiliotest.Options{})
	fake.FailNext(2, 503, 0)
	sms := newClient(t, fake, nil).SMS()
	var err error
	for range 3 {
		var retryable bool
		if retryable, err = sms.Send(context.Background(), alert("+5215512345678")); err == nil || !retryable {
			break
		}
	}
	if err != nil {
		t.Fatalf("third Send: %v, want accepted", err)
	}
	if got := statuses(fake.Messages()); got != "503,503,201" {
		t.Errorf("the fake answered %s, want 503,503,201", got)
	}
}

func TestSendHonoursTheContext(t *testing.T) {
	fake := twiliotest.New(t, twiliotest.Options{})
	fake.SetLatency(time.Hour)
	sms := newClient(t, fake, nil).SMS()

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	retryable, err := sms.Send(ctx, alert("+5215512345678"))
	if !errors.Is(err, context.DeadlineExceeded) || !retryable {
		t.Errorf("Send = %v, %v; want a retryable deadline error", retryable, err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	retryable, err = newClient(t, fake, nil).Voice().Send(ctx, alert("+5215512345678"))
	if !errors.Is(err, context.Canceled) || !retryable {
		t.Errorf("Voice.Send with a cancelled context = %v, %v; want a retryable cancellation", retryable, err)
	}
}

func TestConfigValidateListsEveryProblem(t *testing.T) {
	err := twilio.Config{
		AccountSID: "AC-test",
		AuthToken:  "s3cr3t!",
		From:       []string{"5512345678", "+15005550006", "+15005550006"},
		APIURL:     "127.0.0.1:8080",
		PublicURL:  "/relative",
	}.Validate()
	if err == nil {
		t.Fatal("Validate accepted a bad configuration")
	}
	for _, want := range []string{"account SID", "auth token", `"5512345678" is not E.164`, "listed twice", "API URL", "public URL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error lacks %q:\n%v", want, err)
		}
	}
	err = twilio.Config{AccountSID: "AC123", AuthToken: "abc", PublicURL: "https://x.example"}.Validate()
	if err == nil || !strings.Contains(err.Error(), "TWILIO_FROM") {
		t.Errorf("Validate without senders = %v, want it to ask for TWILIO_FROM or a Messaging Service", err)
	}
	good := twilio.Config{AccountSID: "AC123", AuthToken: "abc", From: []string{"+15005550006"}, PublicURL: "https://x.example/"}
	if err := good.Validate(); err != nil {
		t.Errorf("Validate(%+v) = %v, want nil", good, err)
	}
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }

// statuses lists the HTTP statuses the fake answered, in order.
func statuses(rs []twiliotest.Request) string {
	var s []string
	for _, r := range rs {
		s = append(s, strconv.Itoa(r.Status))
	}
	return strings.Join(s, ",")
}

// basicAuth reads the credentials a recorded request carried.
func basicAuth(r twiliotest.Request) (user, pass string, ok bool) {
	req := &http.Request{Header: r.Header}
	return req.BasicAuth()
}

func escapeAttr(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
