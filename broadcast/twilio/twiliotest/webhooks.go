package twiliotest

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum/broadcast/twilio"
)

// Webhooks: the fake calls the server under test as Twilio does, signing each request
// with X-Twilio-Signature over the URL Twilio would call, which is the server's public URL
// (Config.PublicURL), not the loopback address it listens on. Route says where a public
// URL is really delivered; a URL that no route matches is posted to as it is, which is
// what a test wants when the public URL is the loopback URL.
//
// Every helper returns the server's response with its body already read into memory, so
// the caller may read it and need not close it.

// Route delivers webhooks whose URL starts with publicPrefix (e.g.
// https://optimum.example) to target instead (e.g. http://127.0.0.1:PORT), keeping the
// rest of the URL and the signature over the public URL. Call it once the server listens.
func (f *Fake) Route(publicPrefix, target string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes = append(f.routes, [2]string{strings.TrimRight(publicPrefix, "/"), strings.TrimRight(target, "/")})
}

// route returns where a webhook for publicURL is really sent.
func (f *Fake) route(publicURL string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	best := -1
	for i, r := range f.routes {
		if strings.HasPrefix(publicURL, r[0]) && (best < 0 || len(r[0]) > len(f.routes[best][0])) {
			best = i
		}
	}
	if best < 0 {
		return publicURL
	}
	return f.routes[best][1] + strings.TrimPrefix(publicURL, f.routes[best][0])
}

// Post signs form for publicURL with the fake's auth token and posts it where Route says,
// with the headers Twilio sends. The building block of the helpers below; tests use it to
// send what Twilio might send that the helpers do not.
func (f *Fake) Post(ctx context.Context, publicURL string, form url.Values) (*http.Response, error) {
	return f.PostSigned(ctx, publicURL, form, twilio.Sign(f.opts.AuthToken, publicURL, form))
}

// PostSigned is Post with the signature given, e.g. a forged or stale one.
func (f *Fake) PostSigned(ctx context.Context, publicURL string, form url.Values, signature string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.route(publicURL), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set("I-Twilio-Idempotency-Token", randomHex(16))
	if signature != "" {
		req.Header.Set(twilio.SignatureHeader, signature)
	}
	res, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(body))
	return res, err
}

// SendStatus posts a status callback for sid to callbackURL, as Twilio does when a message
// or call changes status: MessageSid/SmsSid, MessageStatus/SmsStatus for a message (SM…,
// MM…), CallSid, CallStatus and the call-progress fields for a call (CA…), with To, From
// and AccountSid taken from the request that created sid. extra adds or replaces fields,
// e.g. ErrorCode=30003 on undelivered.
func (f *Fake) SendStatus(ctx context.Context, callbackURL, sid, status string, extra url.Values) (*http.Response, error) {
	created, _ := f.Lookup(sid)
	form := url.Values{
		"AccountSid": {f.opts.AccountSID},
		"ApiVersion": {"2010-04-01"},
		"From":       {created.Form.Get("From")},
		"To":         {created.Form.Get("To")},
	}
	if strings.HasPrefix(sid, "CA") {
		f.mu.Lock()
		seq := f.sequence(sid)
		f.mu.Unlock()
		form.Set("CallSid", sid)
		form.Set("CallStatus", status)
		form.Set("Called", created.Form.Get("To"))
		form.Set("Caller", created.Form.Get("From"))
		form.Set("Direction", "outbound-api")
		form.Set("CallbackSource", "call-progress-events")
		form.Set("SequenceNumber", strconv.Itoa(seq))
		form.Set("Timestamp", time.Now().UTC().Format(time.RFC1123Z))
		if status == "completed" {
			form.Set("CallDuration", "12")
			form.Set("Duration", "1")
		}
	} else {
		form.Set("MessageSid", sid)
		form.Set("SmsSid", sid)
		form.Set("MessageStatus", status)
		form.Set("SmsStatus", status)
		if ms := created.Form.Get("MessagingServiceSid"); ms != "" {
			form.Set("MessagingServiceSid", ms)
			if form.Get("From") == "" {
				form.Set("From", "+15005550006") // the service picked a number
			}
		}
		if status == "undelivered" || status == "failed" {
			form.Set("ErrorCode", "30003")
		}
	}
	for k, vs := range extra {
		form[k] = append([]string(nil), vs...)
	}
	return f.Post(ctx, callbackURL, form)
}

// sequence counts the call-progress callbacks of a call, from 0. f.mu must be held.
func (f *Fake) sequence(sid string) int {
	if f.seq == nil {
		f.seq = map[string]int{}
	}
	n := f.seq[sid]
	f.seq[sid] = n + 1
	return n
}

// Advance sends the status callbacks of sid, in order, to the StatusCallback its creating
// request gave. For a call, only the events its StatusCallbackEvent asked for are sent
// (in-progress is the "answered" event), and the final one always is, as Twilio does. It
// fails on the first answer that is not 2xx.
func (f *Fake) Advance(ctx context.Context, sid string, statuses ...string) error {
	created, ok := f.Lookup(sid)
	if !ok {
		return fmt.Errorf("twiliotest: no message or call %s was created", sid)
	}
	cb := created.Form.Get("StatusCallback")
	if cb == "" {
		return fmt.Errorf("twiliotest: %s was created without a StatusCallback", sid)
	}
	events := map[string]bool{"completed": true}
	for _, e := range created.Form["StatusCallbackEvent"] {
		events[e] = true
	}
	for _, st := range statuses {
		if created.Kind == "call" {
			event := map[string]string{"initiated": "initiated", "ringing": "ringing", "in-progress": "answered"}[st]
			if event == "" {
				event = "completed" // completed, busy, no-answer, failed, canceled
			}
			if !events[event] {
				continue
			}
		}
		res, err := f.SendStatus(ctx, cb, sid, st, nil)
		if err != nil {
			return err
		}
		if res.StatusCode/100 != 2 {
			return fmt.Errorf("twiliotest: status %s of %s: the server answered %s", st, sid, res.Status)
		}
	}
	return nil
}

// SendInboundSMS posts an incoming SMS from a person (from) to one of the account's
// numbers (to), as Twilio calls a number's messaging webhook.
func (f *Fake) SendInboundSMS(ctx context.Context, webhookURL, from, to, body string) (*http.Response, error) {
	sid := newSID("SM")
	_, segments := twilio.Segments(body)
	form := url.Values{
		"AccountSid":    {f.opts.AccountSID},
		"ApiVersion":    {"2010-04-01"},
		"MessageSid":    {sid},
		"SmsMessageSid": {sid},
		"SmsSid":        {sid},
		"SmsStatus":     {"received"},
		"From":          {from},
		"To":            {to},
		"Body":          {body},
		"NumMedia":      {"0"},
		"NumSegments":   {strconv.Itoa(max(segments, 1))},
		"FromCity":      {""},
		"FromState":     {""},
		"FromZip":       {""},
		"FromCountry":   {country(from)},
		"ToCity":        {""},
		"ToState":       {""},
		"ToZip":         {""},
		"ToCountry":     {country(to)},
	}
	return f.Post(ctx, webhookURL, form)
}

// SendDigits posts the keys pressed during callSid to a Gather's action URL, as Twilio
// does when the person presses them.
func (f *Fake) SendDigits(ctx context.Context, actionURL, callSid, digits string) (*http.Response, error) {
	created, _ := f.Lookup(callSid)
	form := url.Values{
		"AccountSid":    {f.opts.AccountSID},
		"ApiVersion":    {"2010-04-01"},
		"CallSid":       {callSid},
		"CallStatus":    {"in-progress"},
		"Direction":     {"outbound-api"},
		"From":          {created.Form.Get("From")},
		"To":            {created.Form.Get("To")},
		"Caller":        {created.Form.Get("From")},
		"Called":        {created.Form.Get("To")},
		"Digits":        {digits},
		"FinishedOnKey": {""},
		"msg":           {"Gather End"},
	}
	return f.Post(ctx, actionURL, form)
}

// country guesses the ISO country of a few E.164 prefixes, as Twilio fills FromCountry.
func country(number string) string {
	switch {
	case strings.HasPrefix(number, "+52"):
		return "MX"
	case strings.HasPrefix(number, "+1"):
		return "US"
	case strings.HasPrefix(number, "+34"):
		return "ES"
	}
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	crand.Read(b)
	return hex.EncodeToString(b)
}
