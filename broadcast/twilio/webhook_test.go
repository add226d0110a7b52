package twilio_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/twilio"
	"github.com/optimum-bcp/optimum/broadcast/twilio/twiliotest"
)

// tracker is the shape of the server's Twilio webhooks, in miniature: every request is
// checked against the public URL, statuses only move forward, replies acknowledge.
type tracker struct {
	token, public string

	mu     sync.Mutex
	status map[string]string // delivery id → Twilio status
	acks   []string          // "delivery or folio/channel"
}

func (tr *tracker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(body))
	if err != nil || !twilio.ValidSignature(tr.token, tr.public+r.URL.RequestURI(), form, r.Header.Get(twilio.SignatureHeader)) {
		http.Error(w, "invalid signature", http.StatusForbidden)
		return
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	d := r.URL.Query().Get("d")
	switch r.URL.Path {
	case twilio.PathStatus:
		if s := twilio.ParseStatus(form); twilio.Later(tr.status[d], s.Status) {
			tr.status[d] = s.Status
		}
	case twilio.PathSMS:
		if reply := twilio.ParseReply(form.Get("Body"), false); reply.Kind == twilio.ReplyAck {
			tr.acks = append(tr.acks, reply.Folio+"/sms")
		}
		io.WriteString(w, twilio.SMSReply("Recibido, gracias."))
	case twilio.PathVoice:
		answer := twilio.VoiceNone
		if form.Get("Digits") == "1" {
			answer = twilio.VoiceAcked
			tr.acks = append(tr.acks, d+"/voice")
		}
		io.WriteString(w, twilio.VoiceReply("es", answer, false, tr.public+r.URL.RequestURI()))
	}
}

func (tr *tracker) get(d string) string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.status[d]
}

func TestDeliveryTrackingThroughSignedCallbacks(t *testing.T) {
	fake := twiliotest.New(t, twiliotest.Options{})
	tr := &tracker{token: fake.AuthToken(), public: publicURL, status: map[string]string{}}
	srv := httptest.NewServer(tr)
	t.Cleanup(srv.Close)
	fake.Route(publicURL, srv.URL)
	c := newClient(t, fake, nil)
	ctx := context.Background()

	m := alert("+5215512345678")
	sid, _, err := c.SMS().SendSID(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if err := fake.Advance(ctx, sid, "sending", "sent", "delivered"); err != nil {
		t.Fatalf("Advance: %v", err)
	}
	if got := tr.get(m.DeliveryID); got != "delivered" {
		t.Fatalf("status = %q, want delivered", got)
	}

	cb := fake.Messages()[0].Form.Get("StatusCallback")
	// A late or replayed "sent" is validly signed but must not move the delivery back.
	if res, err := fake.SendStatus(ctx, cb, sid, "sent", nil); err != nil || res.StatusCode != 200 {
		t.Fatalf("late callback: %v %v", res, err)
	}
	// A forged "failed" (signed with another token) is refused and changes nothing.
	forged := url.Values{"MessageSid": {sid}, "MessageStatus": {"failed"}}
	res, err := fake.PostSigned(ctx, cb, forged, twilio.Sign("not-the-token", cb, forged))
	if err != nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("forged callback: %v %v, want 403", res, err)
	}
	// A genuine callback of one delivery replayed against another is refused: the
	// delivery id is in the signed URL.
	other := strings.Replace(cb, "d=", "d=x", 1)
	res, err = fake.PostSigned(ctx, other, forged, twilio.Sign(fake.AuthToken(), cb, forged))
	if err != nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("callback replayed on another delivery: %v %v, want 403", res, err)
	}
	if got := tr.get(m.DeliveryID); got != "delivered" {
		t.Errorf("status after a late, a forged and a replayed callback = %q, want delivered", got)
	}

	// The person answers the SMS with the folio, and presses 1 during the call.
	res, err = fake.SendInboundSMS(ctx, publicURL+twilio.PathSMS, m.To, pool[0], "ok BCP-2026-000042")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("inbound SMS: %v %v", res, err)
	}
	if b, _ := io.ReadAll(res.Body); !strings.Contains(string(b), "<Message>Recibido, gracias.</Message>") {
		t.Errorf("inbound SMS answer = %s", b)
	}
	m.Channel = broadcast.ChannelVoice
	callSid, _, err := c.Voice().SendSID(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	twiml := fake.Calls()[0].Form.Get("Twiml")
	action := publicURL + twilio.PathVoice + "?d=" + url.QueryEscape(m.DeliveryID)
	if !strings.Contains(twiml, escapeAttr(action)) {
		t.Fatalf("Twiml has no Gather action %s", action)
	}
	res, err = fake.SendDigits(ctx, action, callSid, "1")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("key press: %v %v", res, err)
	}
	if b, _ := io.ReadAll(res.Body); !strings.Contains(string(b), "Gracias") || !strings.Contains(string(b), "<Hangup/>") {
		t.Errorf("key press answer = %s", b)
	}
	tr.mu.Lock()
	acks := strings.Join(tr.acks, " ")
	tr.mu.Unlock()
	if want := "BCP-2026-000042/sms " + m.DeliveryID + "/voice"; acks != want {
		t.Errorf("acknowledgements = %q, want %q", acks, want)
	}
}

func TestVoiceReplyAsksAgainForAnotherKey(t *testing.T) {
	got := twilio.VoiceReply("en", twilio.VoiceNone, false, "https://x.example/hooks/twilio/voice?d=1&x=2")
	for _, want := range []string{`action="https://x.example/hooks/twilio/voice?d=1&amp;x=2"`, "Press 1 to acknowledge", `language="en-US"`} {
		if !strings.Contains(got, want) {
			t.Errorf("VoiceReply lacks %q:\n%s", want, got)
		}
	}
}

// A safety-poll call asks for 1 (safe) or 2 (help) instead of "1 to acknowledge", in the
// script and when it asks again, and thanks for each answer in its own words.
func TestSafetyPollCallsAskSafeOrHelp(t *testing.T) {
	fake := twiliotest.New(t, twiliotest.Options{})
	voice := newClient(t, fake, nil).Voice()
	m := broadcast.Message{DeliveryID: "dlv_poll", Channel: broadcast.ChannelVoice, To: "+525512345678", Language: "es",
		Title: "Alerta de crisis", Text: "Sismo en CDMX.", Actions: []broadcast.Action{{ID: "safe", Title: "Estoy a salvo"}, {ID: "help_needed", Title: "Necesito ayuda"}}}
	script := voice.TwiML(m)
	if !strings.Contains(script, "Si estás a salvo, presiona 1. Si necesitas ayuda, presiona 2.") || strings.Contains(script, "confirmar recepción") {
		t.Errorf("poll call script:\n%s", script)
	}
	again := twilio.VoiceReply("es", twilio.VoiceNone, true, "https://x.example/hooks/twilio/voice?d=1")
	if !strings.Contains(again, "presiona 2") {
		t.Errorf("asking again should repeat the poll:\n%s", again)
	}
	for answer, want := range map[string]string{twilio.VoiceSafe: "estás a salvo", twilio.VoiceHelpNeeded: "necesitas ayuda", twilio.VoiceAcked: "confirmación quedó registrada"} {
		if got := twilio.VoiceReply("es", answer, true, "https://x.example/v"); !strings.Contains(got, want) || !strings.Contains(got, "<Hangup/>") {
			t.Errorf("answer %s: %s", answer, got)
		}
	}
}

// BenchmarkSMSSend measures sends per second through twilio-go to the local fake: the
// client's own cost plus a loopback HTTP round trip, not Twilio's.
func BenchmarkSMSSend(b *testing.B) {
	for _, bc := range []struct {
		name     string
		parallel bool
	}{{"serial", false}, {"parallel", true}} {
		b.Run(bc.name, func(b *testing.B) {
			fake := twiliotest.New(b, twiliotest.Options{})
			sms := newClient(b, fake, func(c *twilio.Config) { c.Transliterate = true }).SMS()
			m := alert("+5215512345678")
			b.ReportAllocs()
			b.ResetTimer()
			if bc.parallel {
				b.SetParallelism(4)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := sms.Send(context.Background(), m); err != nil {
							b.Error(err)
							return
						}
					}
				})
			} else {
				for b.Loop() {
					if _, err := sms.Send(context.Background(), m); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sends/s")
		})
	}
}
