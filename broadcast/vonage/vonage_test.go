package vonage_test

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/vonage"
	"github.com/optimum-bcp/optimum/broadcast/vonage/vonagetest"
	"github.com/optimum-bcp/optimum/internal/netguard"
)

// The SMS signature, written out by hand as Vonage documents it: the parameters but sig,
// sorted by key, each as &key=value with & and = in values replaced by _; md5hash is MD5
// of that followed by the secret, the others an HMAC of it keyed with the secret.
func TestSMSSignatureFollowsVonagesRule(t *testing.T) {
	params := url.Values{"text": {"a=b&c"}, "msisdn": {"34611111111"}, "timestamp": {"1765100000"}, "sig": {"ignored"}}
	const canonical = "&msisdn=34611111111&text=a_b_c&timestamp=1765100000"
	md5sum := md5.Sum([]byte(canonical + "s3cr3t"))
	mac := hmac.New(sha256.New, []byte("s3cr3t"))
	mac.Write([]byte(canonical))
	for _, c := range []struct{ method, want string }{
		{"md5hash", hex.EncodeToString(md5sum[:])},
		{"sha256", hex.EncodeToString(mac.Sum(nil))},
	} {
		if got := vonage.SignSMS("s3cr3t", c.method, params); got != c.want {
			t.Errorf("%s: got %s, want %s", c.method, got, c.want)
		}
	}
}

func TestSMSWebhookSignatureIsCheckedWithItsTimestamp(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	good := vonagetest.InboundSMS("+34611111111", "+34911234567", "1", "md5hash", now)
	cases := []struct {
		name   string
		params url.Values
		secret string
		at     time.Time
		want   bool
	}{
		{"signed now", good, vonagetest.SignatureSecret, now, true},
		{"upper-case hex", withSig(good, strings.ToUpper(good.Get("sig"))), vonagetest.SignatureSecret, now, true},
		{"another secret", good, "other", now, false},
		{"text changed", with(good, "text", "2"), vonagetest.SignatureSecret, now, false},
		{"no sig", with(good, "sig", ""), vonagetest.SignatureSecret, now, false},
		{"replayed 6 minutes later", good, vonagetest.SignatureSecret, now.Add(6 * time.Minute), false},
	}
	for _, c := range cases {
		if got := vonage.ValidSMSSignature(c.secret, "md5hash", c.params, c.at); got != c.want {
			t.Errorf("%s: valid = %v, want %v", c.name, got, c.want)
		}
	}
}

func with(p url.Values, k, v string) url.Values {
	out := url.Values{}
	for kk, vv := range p {
		out[kk] = vv
	}
	out.Set(k, v)
	return out
}

func withSig(p url.Values, sig string) url.Values { return with(p, "sig", sig) }

func TestVoiceWebhookTokenCoversTheBody(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	body := []byte(`{"uuid":"u1","status":"answered"}`)
	tok := vonage.VoiceToken(vonagetest.SignatureSecret, body, now)
	cases := []struct {
		name string
		auth string
		body []byte
		at   time.Time
		want bool
	}{
		{"as signed", tok, body, now, true},
		{"another body", tok, []byte(`{"uuid":"u1","status":"completed"}`), now, false},
		{"no Bearer", strings.TrimPrefix(tok, "Bearer "), body, now, false},
		{"another secret", vonage.VoiceToken("other", body, now), body, now, false},
		{"an hour later", tok, body, now.Add(time.Hour), false},
	}
	for _, c := range cases {
		if got := vonage.ValidVoiceToken(vonagetest.SignatureSecret, c.auth, c.body, c.at); got != c.want {
			t.Errorf("%s: valid = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestSMSGoesWithTheCountrysSender(t *testing.T) {
	fake := vonagetest.New(t)
	c := newVonage(t, fake) // default +34911234567; Mexico (52): OPTIMUM
	sms := c.SMS()
	for _, to := range []string{"+525512345678", "+34611111111"} {
		if _, err := sms.Send(context.Background(), broadcast.Message{DeliveryID: "dlv_" + to[1:], To: to, Text: "Alerta ñ", URL: "https://bcp.example.com/a/x"}); err != nil {
			t.Fatal(err)
		}
	}
	got := fake.Messages()
	want := []vonagetest.SMS{
		{From: "OPTIMUM", To: "525512345678", Text: "Alerta ñ\nhttps://bcp.example.com/a/x", ClientRef: "dlv_525512345678",
			Callback: "https://bcp.example.com/hooks/vonage/status?d=dlv_525512345678"},
		{From: "34911234567", To: "34611111111", Text: "Alerta ñ\nhttps://bcp.example.com/a/x", ClientRef: "dlv_34611111111",
			Callback: "https://bcp.example.com/hooks/vonage/status?d=dlv_34611111111"},
	}
	if len(got) != 2 {
		t.Fatalf("got %d messages", len(got))
	}
	for i := range want {
		got[i].ID = ""
		if got[i] != want[i] {
			t.Errorf("message %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestSMSFailuresAreClassified(t *testing.T) {
	fake := vonagetest.New(t)
	c := newVonage(t, fake)
	m := broadcast.Message{DeliveryID: "d1", To: "+34611111111", Text: "x"}
	fake.SetFail(http.StatusServiceUnavailable)
	if retryable, err := c.SMS().Send(context.Background(), m); !retryable || err == nil {
		t.Errorf("503: retryable %v, %v; want retryable", retryable, err)
	}
	fake.SetFail(0)
	bad, err := vonage.New(vonage.Config{APIKey: vonagetest.APIKey, APISecret: "wrong", SignatureSecret: "s", From: "+34911234567",
		SMSAPIURL: fake.URL(), PublicURL: "https://bcp.example.com", Guard: netguard.Policy{Allow: netguard.Loopback}})
	if err != nil {
		t.Fatal(err)
	}
	retryable, err := bad.SMS().Send(context.Background(), m)
	if retryable || !errors.Is(err, broadcast.ErrProviderAuth) || fake.Refused() != 1 {
		t.Errorf("wrong secret: retryable %v, %v, refused %d; want the account's error (status 4)", retryable, err, fake.Refused())
	}
	if _, err := c.SMS().Send(context.Background(), broadcast.Message{To: "5512345678", Text: "x"}); !errors.Is(err, vonage.ErrInvalidNumber) {
		t.Errorf("a number without +: %v, want ErrInvalidNumber", err)
	}
}

func TestSMSRefusesAnAPIOutsideTheGuard(t *testing.T) {
	fake := vonagetest.New(t)
	c, err := vonage.New(vonage.Config{APIKey: vonagetest.APIKey, APISecret: vonagetest.APISecret, SignatureSecret: "s",
		From: "+34911234567", SMSAPIURL: fake.URL(), PublicURL: "https://bcp.example.com"}) // no loopback allowed
	if err != nil {
		t.Fatal(err)
	}
	retryable, err := c.SMS().Send(context.Background(), broadcast.Message{To: "+34611111111", Text: "x"})
	if retryable || !errors.Is(err, netguard.ErrRefused) || len(fake.Messages()) != 0 {
		t.Errorf("loopback API without allow: retryable %v, %v, %d sent; want refused, nothing sent", retryable, err, len(fake.Messages()))
	}
}

func TestCallIsPlacedWithAnApplicationTokenAndAScript(t *testing.T) {
	fake := vonagetest.New(t)
	c := newVonage(t, fake)
	m := broadcast.Message{DeliveryID: "dlv_1", To: "+34611111111", Language: "es", Title: "Alerta P1", Text: "Sismo en Torre B https://x.example/a"}
	if _, err := c.Voice().Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	calls := fake.Calls()
	if len(calls) != 1 || fake.Refused() != 0 {
		t.Fatalf("calls %d, refused %d", len(calls), fake.Refused())
	}
	call := calls[0]
	if call.To != "34611111111" || call.From != "34911234567" || call.EventURL != "https://bcp.example.com/hooks/vonage/voice/event?d=dlv_1" {
		t.Errorf("call = %+v", call)
	}
	talk, _ := call.NCCO[0]["text"].(string)
	if talk != "Alerta P1. Sismo en Torre B" || call.NCCO[0]["language"] != "es-MX" {
		t.Errorf("first talk = %v", call.NCCO[0])
	}
	if call.NCCO[1]["text"] != "Presiona 1 para confirmar recepción." {
		t.Errorf("prompt = %v", call.NCCO[1])
	}
	in := call.NCCO[2]
	if in["action"] != "input" || !strings.HasPrefix(in["eventUrl"].([]any)[0].(string), "https://bcp.example.com/hooks/vonage/voice/input?d=dlv_1") {
		t.Errorf("input = %v", in)
	}
}
