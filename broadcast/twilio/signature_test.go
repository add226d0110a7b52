package twilio_test

import (
	"net/url"
	"testing"

	twclient "github.com/twilio/twilio-go/client"

	"github.com/optimum-bcp/optimum/broadcast/twilio"
)

const token = "12345678901234567890123456789012"

func statusForm() url.Values {
	return url.Values{
		"AccountSid":    {"AC0123456789abcdef0123456789abcdef"},
		"ApiVersion":    {"2010-04-01"},
		"MessageSid":    {"SM0123456789abcdef0123456789abcdef"},
		"MessageStatus": {"delivered"},
		"SmsSid":        {"SM0123456789abcdef0123456789abcdef"},
		"SmsStatus":     {"delivered"},
		"From":          {"+15005550006"},
		"To":            {"+5215512345678"},
	}
}

func TestSignMatchesTwilioGo(t *testing.T) {
	// twilio-go's validator is right for forms without repeated keys: Sign must agree.
	u := "https://optimum.example.com/hooks/twilio/status?d=dlv-42"
	form := statusForm()
	rv := twclient.NewRequestValidator(token)
	if !rv.ValidateBody(u, []byte(form.Encode()), twilio.Sign(token, u, form)) {
		t.Error("twilio-go does not accept the signature Sign computes")
	}
	// And the reverse: a signature twilio-go accepts for the map is one ValidSignature takes.
	params := map[string]string{}
	for k := range form {
		params[k] = form.Get(k)
	}
	if !twilio.ValidSignature(token, u, form, twilio.Sign(token, u, form)) {
		t.Error("ValidSignature refuses Sign's signature")
	}
	if !rv.Validate(u, params, twilio.Sign(token, u, form)) {
		t.Error("twilio-go's Validate disagrees with Sign")
	}
}

func TestValidSignature(t *testing.T) {
	const u = "https://optimum.example.com/hooks/twilio/status?d=dlv-42"
	form := statusForm()
	sig := twilio.Sign(token, u, form)

	tampered := statusForm()
	tampered.Set("MessageStatus", "failed")
	extra := statusForm()
	extra.Set("Injected", "x")
	repeated := url.Values{"CallSid": {"CA1"}, "StatusCallbackEvent": {"ringing", "answered", "initiated"}}
	repeatedSig := twilio.Sign(token, u, repeated)
	reordered := url.Values{"CallSid": {"CA1"}, "StatusCallbackEvent": {"answered", "initiated", "ringing"}}
	fewer := url.Values{"CallSid": {"CA1"}, "StatusCallbackEvent": {"ringing", "answered"}}

	for _, tc := range []struct {
		name string
		url  string
		form url.Values
		sig  string
		want bool
	}{
		{"valid", u, form, sig, true},
		{"valid with the default port added", "https://optimum.example.com:443/hooks/twilio/status?d=dlv-42", form, sig, true},
		{"tampered body", u, tampered, sig, false},
		{"an added field", u, extra, sig, false},
		{"another delivery in the query", "https://optimum.example.com/hooks/twilio/status?d=dlv-43", form, sig, false},
		{"query left out", "https://optimum.example.com/hooks/twilio/status", form, sig, false},
		{"another path", "https://optimum.example.com/hooks/twilio/sms?d=dlv-42", form, sig, false},
		{"http instead of https", "http://optimum.example.com/hooks/twilio/status?d=dlv-42", form, sig, false},
		{"another port", "https://optimum.example.com:8443/hooks/twilio/status?d=dlv-42", form, sig, false},
		{"wrong token", u, form, twilio.Sign("another", u, form), false},
		{"empty signature", u, form, "", false},
		{"not base64", u, form, "%%%", false},
		{"repeated keys", u, repeated, repeatedSig, true},
		{"repeated keys in another order", u, reordered, repeatedSig, true},
		{"a repeated value dropped", u, fewer, repeatedSig, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := twilio.ValidSignature(token, tc.url, tc.form, tc.sig); got != tc.want {
				t.Errorf("ValidSignature = %v, want %v", got, tc.want)
			}
		})
	}
	if twilio.ValidSignature("", u, form, twilio.Sign("", u, form)) {
		t.Error("ValidSignature with an empty token accepted a request")
	}
}

func TestValidSignatureOfPlainHTTPPublicURL(t *testing.T) {
	// A public URL on http (a test, or a LAN) is signed as such and checked as such.
	const u = "http://127.0.0.1:8080/hooks/twilio/sms"
	form := url.Values{"Body": {"1"}, "From": {"+5215512345678"}}
	if !twilio.ValidSignature(token, u, form, twilio.Sign(token, u, form)) {
		t.Error("refused a valid http signature")
	}
	if twilio.ValidSignature(token, "https://127.0.0.1:8080/hooks/twilio/sms", form, twilio.Sign(token, u, form)) {
		t.Error("accepted an http signature for the https URL")
	}
}
