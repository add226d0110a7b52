package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/vonage"
	"github.com/optimum-bcp/optimum/broadcast/vonage/vonagetest"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

func withVonage(c *config.Config) {
	withTwilio(c)
	c.Vonage.APIKey, c.Vonage.APISecret, c.Vonage.SignatureSecret = vonagetest.APIKey, vonagetest.APISecret, vonagetest.SignatureSecret
	c.Vonage.From = "+34911234567"
}

func (a *api) vonageForm(path string, params url.Values) response {
	a.t.Helper()
	res, body, err := vonagetest.PostForm(context.Background(), a.srv.URL+path, params)
	if err != nil {
		a.t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, body}
}

func (a *api) vonageEvent(path string, ev any, sign bool) response {
	a.t.Helper()
	if !sign {
		b, _ := json.Marshal(ev)
		req, _ := http.NewRequest("POST", a.srv.URL+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", vonage.VoiceToken("not-the-secret", b, time.Now()))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			a.t.Fatal(err)
		}
		defer res.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(res.Body)
		return response{res.StatusCode, res.Header, buf.Bytes()}
	}
	res, body, err := vonagetest.PostEvent(context.Background(), a.srv.URL+path, ev, time.Now())
	if err != nil {
		a.t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, body}
}

// A reply through Vonage acknowledges like one through Twilio; a forged one (wrong
// signature) is 403 and changes nothing; the same message again changes nothing.
func TestVonageReplyAcknowledges(t *testing.T) { storetest.Each(t, testVonageReplyAcknowledges) }

func testVonageReplyAcknowledges(t *testing.T) {
	a, _ := newTestAPI(t, adminToken, withVonage)
	id := bobAlerted(t, a)
	now := time.Now()
	forged := vonagetest.InboundSMS("+34612345678", "+34911234567", "1", "md5hash", now)
	forged.Set("sig", strings.Repeat("0", 32))
	if res := a.vonageForm(vonage.PathSMS, forged); res.status != 403 || a.ackCount(id) != 0 {
		t.Fatalf("forged reply = %d %s, ack_count %d", res.status, res.body, a.ackCount(id))
	}
	stale := vonagetest.InboundSMS("+34612345678", "+34911234567", "1", "md5hash", now.Add(-10*time.Minute))
	if res := a.vonageForm(vonage.PathSMS, stale); res.status != 403 {
		t.Errorf("a reply signed 10 minutes ago = %d, want 403", res.status)
	}
	reply := vonagetest.InboundSMS("+34612345678", "+34911234567", "1", "md5hash", now)
	if res := a.vonageForm(vonage.PathSMS, reply); res.status != 200 || a.ackCount(id) != 1 {
		t.Fatalf("reply 1 = %d %s, ack_count %d, want 1", res.status, res.body, a.ackCount(id))
	}
	timeline := a.timelineLen(id)
	if res := a.vonageForm(vonage.PathSMS, reply); res.status != 200 || a.timelineLen(id) != timeline {
		t.Errorf("the same reply again = %d, timeline %d entries, want %d", res.status, a.timelineLen(id), timeline)
	}
}

// Delivery receipts move a delivery forward only, and only when signed.
func TestVonageReceiptsMoveForwardOnly(t *testing.T) {
	storetest.Each(t, testVonageReceiptsMoveForwardOnly)
}

func testVonageReceiptsMoveForwardOnly(t *testing.T) {
	a, _ := newTestAPI(t, adminToken, withVonage)
	now := time.Now()
	a.db.Deliveries().Enqueue(context.Background(), []broadcast.Delivery{{
		Message: broadcast.Message{DeliveryID: "dlv_sms", Channel: broadcast.ChannelSMS, To: "+34612345678", Language: "es"},
		Subject: "inc_x", Recipient: "per_x", DueAt: now, Deadline: now.Add(time.Hour),
	}})
	m := vonagetest.SMS{ID: "0C00000000000001", From: "34911234567", To: "34612345678", ClientRef: "dlv_sms"}
	forged := vonagetest.Receipt(m, "failed", "md5hash", now)
	forged.Set("status", "delivered") // changed after signing
	if res := a.vonageForm(vonage.PathStatus+"?d=dlv_sms", forged); res.status != 403 {
		t.Errorf("tampered receipt = %d, want 403", res.status)
	}
	for _, st := range []string{"accepted", "delivered", "failed"} {
		if res := a.vonageForm(vonage.PathStatus+"?d=dlv_sms", vonagetest.Receipt(m, st, "md5hash", now)); res.status != 200 {
			t.Fatalf("%s = %d %s", st, res.status, res.body)
		}
	}
	list, _ := a.db.Deliveries().SubjectDeliveries(context.Background(), "inc_x")
	if len(list) != 1 || list[0].Status != "delivered" || list[0].ProviderStatus != "delivered" {
		t.Errorf("delivery = %+v, want delivered (a later failed does not undo it)", list)
	}
}

// Pressing 1 during a Vonage call acknowledges; another key asks again with the next
// step; an event with a wrong token is 403; call events move the delivery forward.
func TestVonageKeyPressAcknowledges(t *testing.T) { storetest.Each(t, testVonageKeyPressAcknowledges) }

func testVonageKeyPressAcknowledges(t *testing.T) {
	a, _ := newTestAPI(t, adminToken, withVonage)
	id := bobAlerted(t, a)
	var people []struct{ ID string }
	a.do("GET", "/api/v1/people", adminToken, nil).json(t, &people)
	now := time.Now()
	if err := a.db.Deliveries().Enqueue(context.Background(), []broadcast.Delivery{{
		Message: broadcast.Message{DeliveryID: "dlv_call", Channel: broadcast.ChannelVoice, To: "+34612345678", Language: "en"},
		Subject: id, Recipient: people[0].ID, DueAt: now, Deadline: now.Add(time.Hour),
	}}); err != nil {
		t.Fatal(err)
	}
	press := func(digits string) map[string]any {
		return map[string]any{"uuid": "call-1", "conversation_uuid": "CON-1", "dtmf": map[string]any{"digits": digits, "timed_out": false}}
	}
	path := vonage.PathVoiceInput + "?d=dlv_call&p=false"
	if res := a.vonageEvent(path, press("1"), false); res.status != 403 || a.ackCount(id) != 0 {
		t.Fatalf("unsigned key press = %d, ack_count %d", res.status, a.ackCount(id))
	}
	res := a.vonageEvent(path, press("7"), true)
	var ncco []map[string]any
	if res.status != 200 || json.Unmarshal(res.body, &ncco) != nil || len(ncco) != 2 || ncco[1]["action"] != "input" {
		t.Fatalf("key 7 = %d %s, want the question again", res.status, res.body)
	}
	next := ncco[1]["eventUrl"].([]any)[0].(string)
	if next != twilioPublic+vonage.PathVoiceInput+"?d=dlv_call&p=false&s=1" {
		t.Errorf("next key press goes to %q", next)
	}
	res = a.vonageEvent(strings.TrimPrefix(next, twilioPublic), press("1"), true)
	if res.status != 200 || !bytes.Contains(res.body, []byte("Your acknowledgement is recorded")) || a.ackCount(id) != 1 {
		t.Errorf("key 1 = %d %s, ack_count %d", res.status, res.body, a.ackCount(id))
	}
	for _, st := range []string{"ringing", "answered", "completed"} {
		if res := a.vonageEvent(vonage.PathVoiceEvent+"?d=dlv_call", map[string]any{"uuid": "call-1", "status": st}, true); res.status != 200 {
			t.Fatalf("event %s = %d %s", st, res.status, res.body)
		}
	}
	list, _ := a.db.Deliveries().SubjectDeliveries(context.Background(), id)
	for _, d := range list {
		if d.ID == "dlv_call" && (d.Status != "delivered" || d.ProviderStatus != "completed") {
			t.Errorf("call delivery = %+v, want delivered/completed", d)
		}
	}
}
