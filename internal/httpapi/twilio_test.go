package httpapi_test

import (
	"bytes"
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/twilio"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

const (
	twilioToken  = "0123456789abcdef0123456789abcdef"
	twilioPublic = "https://bcp.example.test"
)

func withTwilio(c *config.Config) {
	c.Server.PublicURL = twilioPublic
	c.Twilio.AccountSID, c.Twilio.AuthToken, c.Twilio.From = "AC0123456789abcdef0123456789abcdef", twilioToken, []string{"+15005550006"}
}

// twilioPost posts a form to a webhook as Twilio would, signed for the public URL
// unless sig is given.
func (a *api) twilioPost(pathAndQuery string, form url.Values, sig string) response {
	a.t.Helper()
	if sig == "" {
		sig = twilio.Sign(twilioToken, twilioPublic+pathAndQuery, form)
	}
	req, _ := http.NewRequest("POST", a.srv.URL+pathAndQuery, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(twilio.SignatureHeader, sig)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	return response{res.StatusCode, res.Header, buf.Bytes()}
}

// Pressing 1 during an alert call acknowledges as the person called; any other key asks
// again; an unsigned request changes nothing.
func TestVoiceKeyPressAcknowledges(t *testing.T) { storetest.Each(t, testVoiceKeyPressAcknowledges) }

func testVoiceKeyPressAcknowledges(t *testing.T) {
	a, _ := newTestAPI(t, adminToken, withTwilio)
	a.upload("/api/v1/people/import", adminToken, "text/csv", []byte("name,email,phone,language,teams,manager_email\nBob,bob@example.com,+34612345678,en,technology,\n"))
	d := declaration()
	d["teams"] = []string{"technology"}
	var inc struct{ ID, Folio string }
	a.do("POST", "/api/v1/incidents", adminToken, d).json(t, &inc)
	var people []struct{ ID string }
	a.do("GET", "/api/v1/people", adminToken, nil).json(t, &people)
	now := time.Now()
	err := a.db.Deliveries().Enqueue(context.Background(), []broadcast.Delivery{{
		Message: broadcast.Message{DeliveryID: "dlv_call", Channel: broadcast.ChannelVoice, To: "+34612345678", Language: "en"},
		Subject: inc.ID, Recipient: people[0].ID, DueAt: now, Deadline: now.Add(time.Hour),
	}})
	if err != nil {
		t.Fatal(err)
	}
	path := "/hooks/twilio/voice?d=dlv_call"
	if res := a.twilioPost(path, url.Values{"CallSid": {"CA1"}, "Digits": {"1"}}, "Zm9yZ2Vk"); res.status != 403 {
		t.Errorf("unsigned = %d", res.status)
	}
	res := a.twilioPost(path, url.Values{"CallSid": {"CA1"}, "Digits": {"7"}}, "")
	if res.status != 200 || !bytes.Contains(res.body, []byte("<Gather")) || !bytes.Contains(res.body, []byte(`language="en-US"`)) {
		t.Errorf("key 7 = %d %s", res.status, res.body)
	}
	// Twilio posts the next key to the Gather's action, as a real call does.
	res = a.twilioPost(gatherAction(t, res.body), url.Values{"CallSid": {"CA1"}, "Digits": {"1"}}, "")
	if res.status != 200 || !bytes.Contains(res.body, []byte("<Hangup/>")) {
		t.Errorf("key 1 = %d %s", res.status, res.body)
	}
	view := a.do("GET", "/api/v1/incidents/"+inc.ID, adminToken, nil)
	if !bytes.Contains(view.body, []byte(`"ack_count":1`)) || !bytes.Contains(view.body, []byte(`"ack_channel":"voice"`)) {
		t.Errorf("incident = %s", view.body)
	}
}

// Status callbacks only move a delivery forward: a late "sent" after "delivered" changes
// nothing; an unknown delivery is 404.
func TestStatusCallbacksMoveForwardOnly(t *testing.T) {
	storetest.Each(t, testStatusCallbacksMoveForwardOnly)
}

func testStatusCallbacksMoveForwardOnly(t *testing.T) {
	a, _ := newTestAPI(t, adminToken, withTwilio)
	now := time.Now()
	a.db.Deliveries().Enqueue(context.Background(), []broadcast.Delivery{{
		Message: broadcast.Message{DeliveryID: "dlv_sms", Channel: broadcast.ChannelSMS, To: "+34612345678", Language: "es"},
		Subject: "inc_x", Recipient: "per_x", DueAt: now, Deadline: now.Add(time.Hour),
	}})
	for i, st := range []string{"sent", "delivered", "sent"} {
		form := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {st}, "SmsStatus": {st}}
		if i == 2 {
			form.Set("ErrorCode", "") // a late callback, not a replay of the first
		}
		if res := a.twilioPost("/hooks/twilio/status?d=dlv_sms", form, ""); res.status != 204 {
			t.Fatalf("%s = %d %s", st, res.status, res.body)
		}
	}
	list, _ := a.db.Deliveries().SubjectDeliveries(context.Background(), "inc_x")
	if len(list) != 1 || list[0].Status != "delivered" || list[0].ProviderStatus != "delivered" {
		t.Errorf("delivery = %+v", list)
	}
	if res := a.twilioPost("/hooks/twilio/status?d=dlv_nope", url.Values{"MessageSid": {"SM2"}, "MessageStatus": {"sent"}}, ""); res.status != 404 {
		t.Errorf("unknown delivery = %d", res.status)
	}
}

// gatherAction is the path and query of the action of the first Gather in TwiML, under
// the public URL: where Twilio posts the next key press.
func gatherAction(t *testing.T, twiml []byte) string {
	t.Helper()
	m := regexp.MustCompile(`<Gather [^>]*action="([^"]+)"`).FindSubmatch(twiml)
	if m == nil {
		t.Fatalf("no Gather action in %s", twiml)
	}
	action := html.UnescapeString(string(m[1]))
	if !strings.HasPrefix(action, twilioPublic+"/") {
		t.Fatalf("action %q is not under %s", action, twilioPublic)
	}
	return strings.TrimPrefix(action, twilioPublic)
}
