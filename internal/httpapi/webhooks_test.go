package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/twilio"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// bobAlerted imports Bob (+34612345678, English) in technology and declares an incident
// for the team; it returns the incident's id.
func bobAlerted(t *testing.T, a *api) string {
	t.Helper()
	a.upload("/api/v1/people/import", adminToken, "text/csv", []byte("name,email,phone,language,teams,manager_email\nBob,bob@example.com,+34612345678,en,technology,\n"))
	d := declaration()
	d["teams"] = []string{"technology"}
	var inc struct{ ID string }
	a.do("POST", "/api/v1/incidents", adminToken, d).json(t, &inc)
	return inc.ID
}

// ackCount is the incident's number of acknowledgements.
func (a *api) ackCount(id string) int {
	a.t.Helper()
	var inc struct {
		AckCount int `json:"ack_count"`
	}
	a.do("GET", "/api/v1/incidents/"+id, adminToken, nil).json(a.t, &inc)
	return inc.AckCount
}

// nonCanonical re-encodes a base64 signature with the unused bits of its last character
// set: the same bytes, other text.
func nonCanonical(t *testing.T, sig string) string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	if !strings.HasSuffix(sig, "=") || strings.HasSuffix(sig, "==") {
		t.Fatalf("signature %q does not end with one padding character", sig)
	}
	i := len(sig) - 2
	other := sig[:i] + string(alphabet[strings.IndexByte(alphabet, sig[i])|3]) + "="
	a, _ := base64.StdEncoding.DecodeString(sig)
	b, err := base64.StdEncoding.DecodeString(other)
	if err != nil || !bytes.Equal(a, b) || other == sig {
		t.Fatalf("%q is not a non-canonical form of %q (%v)", other, sig, err)
	}
	return other
}

// OPTIMUM_PUBLIC_URL with or without a trailing slash is the same server: Twilio's
// signatures over "https://host/hooks/…" are valid either way, and the next step of a
// call is posted to a URL without a double slash.
func TestTwilioWebhooksWithOrWithoutTrailingSlash(t *testing.T) {
	for _, public := range []string{twilioPublic, twilioPublic + "/"} {
		t.Run(public, func(t *testing.T) {
			a, _ := newTestAPI(t, adminToken, func(c *config.Config) { withTwilio(c); c.Server.PublicURL = public })
			bobAlerted(t, a)
			res := a.twilioPost(twilio.PathSMS, url.Values{"MessageSid": {"SM1"}, "From": {"+34612345678"}, "Body": {"hola"}}, "")
			if res.status != 200 || !bytes.Contains(res.body, []byte("<Response>")) {
				t.Errorf("inbound SMS = %d %s", res.status, res.body)
			}
			res = a.twilioPost(twilio.PathVoice+"?d=dlv_x", url.Values{"CallSid": {"CA1"}, "Digits": {"7"}}, "")
			if res.status != 200 || bytes.Contains(res.body, []byte("test//hooks")) || !bytes.Contains(res.body, []byte(`action="`+twilioPublic+twilio.PathVoice)) {
				t.Errorf("key press = %d %s", res.status, res.body)
			}
		})
	}
}

// An English "yes" acknowledges like "SI". The same SMS (same MessageSid) again, its body
// re-encoded in another order and its signature written non-canonically, even two days
// later, gets the same answer and changes nothing.
func TestTwilioRepliesAreKeyedOnTwilioIDs(t *testing.T) {
	storetest.Each(t, testTwilioRepliesAreKeyedOnTwilioIDs)
}

func testTwilioRepliesAreKeyedOnTwilioIDs(t *testing.T) {
	a, clk := newTestAPI(t, adminToken, withTwilio)
	id := bobAlerted(t, a)
	form := url.Values{"MessageSid": {"SM1"}, "From": {"+34612345678"}, "Body": {"YES"}, "To": {"+15005550006"}}
	first := a.twilioPost(twilio.PathSMS, form, "")
	if first.status != 200 || a.ackCount(id) != 1 {
		t.Fatalf("YES = %d %s; ack_count %d, want 1", first.status, first.body, a.ackCount(id))
	}
	timeline := a.timelineLen(id)

	sig := nonCanonical(t, twilio.Sign(twilioToken, twilioPublic+twilio.PathSMS, form))
	body := "To=%2B15005550006&Body=YES&From=%2B34612345678&MessageSid=SM1" // another order
	replay := func() response {
		req, _ := http.NewRequest("POST", a.srv.URL+twilio.PathSMS, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(twilio.SignatureHeader, sig)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(res.Body)
		return response{res.StatusCode, res.Header, buf.Bytes()}
	}
	for _, wait := range []time.Duration{0, 49 * time.Hour} {
		clk.Advance(wait)
		res := replay()
		if res.status != 200 || !bytes.Equal(res.body, first.body) {
			t.Errorf("replay after %v = %d %s, want the first answer %s", wait, res.status, res.body, first.body)
		}
		if n := a.timelineLen(id); n != timeline {
			t.Errorf("replay after %v changed the timeline: %d entries, want %d", wait, n, timeline)
		}
	}
	// Another SMS (another MessageSid) with the same text is processed as such.
	form.Set("MessageSid", "SM2")
	if res := a.twilioPost(twilio.PathSMS, form, ""); res.status != 200 || bytes.Equal(res.body, first.body) {
		t.Errorf("a second YES = %d %s, want an answer of its own", res.status, res.body)
	}
	// START still opts in.
	form.Set("MessageSid", "SM3")
	form.Set("Body", "START")
	if res := a.twilioPost(twilio.PathSMS, form, ""); res.status != 200 || a.ackCount(id) != 1 {
		t.Errorf("START = %d %s, ack_count %d", res.status, res.body, a.ackCount(id))
	}
}

// A request that failed is processed when Twilio retries it: nothing is recorded for it.
func TestTwilioRetriesAFailedRequest(t *testing.T) {
	storetest.Each(t, testTwilioRetriesAFailedRequest)
}

func testTwilioRetriesAFailedRequest(t *testing.T) {
	a, _ := newTestAPI(t, adminToken, withTwilio)
	form := url.Values{"MessageSid": {"SM9"}, "MessageStatus": {"delivered"}}
	if res := a.twilioPost("/hooks/twilio/status?d=dlv_late", form, ""); res.status != 404 {
		t.Fatalf("status of a delivery not recorded yet = %d %s", res.status, res.body)
	}
	now := time.Now()
	a.db.Deliveries().Enqueue(context.Background(), []broadcast.Delivery{{
		Message: broadcast.Message{DeliveryID: "dlv_late", Channel: broadcast.ChannelSMS, To: "+34612345678", Language: "es"},
		Subject: "inc_x", Recipient: "per_x", DueAt: now, Deadline: now.Add(time.Hour),
	}})
	if res := a.twilioPost("/hooks/twilio/status?d=dlv_late", form, ""); res.status != 204 {
		t.Fatalf("Twilio's retry = %d %s", res.status, res.body)
	}
	list, _ := a.db.Deliveries().SubjectDeliveries(context.Background(), "inc_x")
	if len(list) != 1 || list[0].ProviderStatus != "delivered" {
		t.Errorf("delivery = %+v", list)
	}
}

// Pressing the same wrong key twice in a call asks again twice; then 1 acknowledges.
func TestSameWrongKeyTwiceInACall(t *testing.T) {
	a, _ := newTestAPI(t, adminToken, withTwilio)
	id := bobAlerted(t, a)
	var people []struct{ ID string }
	a.do("GET", "/api/v1/people", adminToken, nil).json(t, &people)
	now := time.Now()
	a.db.Deliveries().Enqueue(context.Background(), []broadcast.Delivery{{
		Message: broadcast.Message{DeliveryID: "dlv_call", Channel: broadcast.ChannelVoice, To: "+34612345678", Language: "en"},
		Subject: id, Recipient: people[0].ID, DueAt: now, Deadline: now.Add(time.Hour),
	}})
	path := "/hooks/twilio/voice?d=dlv_call"
	for i := range 2 {
		res := a.twilioPost(path, url.Values{"CallSid": {"CA7"}, "Digits": {"7"}}, "")
		if res.status != 200 || !bytes.Contains(res.body, []byte("<Gather")) {
			t.Fatalf("wrong key, time %d = %d %s", i+1, res.status, res.body)
		}
		path = gatherAction(t, res.body)
	}
	if res := a.twilioPost(path, url.Values{"CallSid": {"CA7"}, "Digits": {"1"}}, ""); res.status != 200 || !bytes.Contains(res.body, []byte("<Hangup/>")) {
		t.Errorf("key 1 = %d %s", res.status, res.body)
	}
	if n := a.ackCount(id); n != 1 {
		t.Errorf("ack_count = %d, want 1", n)
	}
}

// Requests with a wrong signature are limited per client; signed ones never are, though
// they all come from Twilio's few addresses.
func TestForgedWebhooksAreLimitedSignedOnesNever(t *testing.T) {
	a, _ := newTestAPI(t, adminToken, func(c *config.Config) { withTwilio(c); behindProxy(c) })
	from := []string{"X-Forwarded-For", "203.0.113.9"}
	var statuses []int
	for range 12 {
		req, _ := http.NewRequest("POST", a.srv.URL+twilio.PathSMS, strings.NewReader("MessageSid=SMx&Body=1&From=%2B34612345678"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(twilio.SignatureHeader, "Zm9yZ2VkIHNpZ25hdHVyZSAxMjM0NQ==")
		req.Header.Set(from[0], from[1])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		statuses = append(statuses, res.StatusCode)
	}
	if got := statuses[9:]; got[0] != 403 || got[1] != 429 || got[2] != 429 {
		t.Errorf("forged requests = %v, want 403 ten times, then 429", statuses)
	}
	for i := range 50 { // Twilio, from the same address, signs what it sends
		form := url.Values{"MessageSid": {"SM" + string(rune('A'+i%26)) + string(rune('a'+i/26))}, "From": {"+34600000000"}, "Body": {"hola"}}
		req, _ := http.NewRequest("POST", a.srv.URL+twilio.PathSMS, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(twilio.SignatureHeader, twilio.Sign(twilioToken, twilioPublic+twilio.PathSMS, form))
		req.Header.Set(from[0], from[1])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("signed request %d = %d", i+1, res.StatusCode)
		}
	}
}
