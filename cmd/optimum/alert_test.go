package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/optimum-bcp/optimum/broadcast/twilio/twiliotest"
	"github.com/optimum-bcp/optimum/broadcast/webpush/webpushtest"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

const public = "https://bcp.example.test"

// client is a bearer-token HTTP client for the server under test.
type client struct {
	t     *testing.T
	base  string
	token string
}

func (c client) do(method, path, contentType, body string) (int, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, data
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startTwilioServer starts a server whose SMS and calls go to a fake Twilio that sends
// its signed callbacks back, with Ana (Spanish, +52 55 1234 5678, lead) and Bob (English,
// +34 612 34 56 78) in team. env adds to (or overrides) the server's variables.
func startTwilioServer(t *testing.T, team string, env ...map[string]string) (*twiliotest.Fake, string, client, *logBuffer) {
	t.Helper()
	fake := twiliotest.New(t, twiliotest.Options{AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "0123456789abcdef0123456789abcdef"})
	const token = "alert-admin-token-0123456789"
	vars := map[string]string{
		"OPTIMUM_BOOTSTRAP_TOKEN": token,
		"OPTIMUM_PUBLIC_URL":      public,
		"TWILIO_ACCOUNT_SID":      fake.AccountSID(),
		"TWILIO_AUTH_TOKEN":       fake.AuthToken(),
		"TWILIO_FROM":             "+15005550006",
		"OPTIMUM_TWILIO_API_URL":  fake.URL(),
	}
	for _, e := range env {
		maps.Copy(vars, e)
	}
	base, logs := startServer(t, vars)
	fake.Route(public, base)
	api := client{t, base, token}
	status, body := api.do("POST", "/api/v1/people/import", "text/csv", "name,email,phone,language,teams,manager_email\n"+
		"Ana López,ana@example.com,+52 55 1234 5678,es,"+team+":lead,\n"+
		"Bob Smith,bob@example.com,+34 612 34 56 78,en,"+team+",\n")
	if status != 200 {
		t.Fatalf("import = %d %s", status, body)
	}
	return fake, base, api, logs
}

// Declare → the SMS reach (the fake) Twilio with the right text, in each person's
// language, with a one-tap link → Twilio reports them delivered → a signed inbound "1"
// acknowledges → the live board shows it. Forged and replayed webhooks change nothing.
func TestAlertBySMSAndAcknowledgeByReply(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { alertBySMSAndAcknowledgeByReply(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		alertBySMSAndAcknowledgeByReply(t, map[string]string{"OPTIMUM_DATABASE_URL": storetest.PostgresURL(t)})
	})
}

func alertBySMSAndAcknowledgeByReply(t *testing.T, env map[string]string) {
	fake, base, api, logs := startTwilioServer(t, "technology", env)
	token := api.token
	board, _, err := websocket.DefaultDialer.Dial(strings.Replace(base, "http", "ws", 1)+"/api/v1/stream?token="+token, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer board.Close()

	status, body := api.do("POST", "/api/v1/incidents", "application/json",
		`{"title":"Caída del centro de datos","impact":"critical","urgency":"critical","location":"CDMX","teams":["technology"]}`)
	var inc struct{ ID, Folio string }
	json.Unmarshal(body, &inc)
	if status != 201 {
		t.Fatalf("declare = %d %s", status, body)
	}
	eventually(t, "two SMS at Twilio", func() bool { return len(fake.Messages()) == 2 })
	sms := map[string]twiliotest.Request{}
	for _, m := range fake.Messages() {
		sms[m.Form.Get("To")] = m
	}
	ana, bob := sms["+525512345678"], sms["+34612345678"]
	for who, m := range map[string]twiliotest.Request{"Ana": ana, "Bob": bob} {
		text := m.Form.Get("Body")
		if !strings.Contains(text, inc.Folio) || !strings.Contains(text, public+"/a/") {
			t.Errorf("%s's SMS lacks the folio or the link: %q", who, text)
		}
		if m.Form.Get("From") != "+15005550006" || !strings.HasPrefix(m.Form.Get("StatusCallback"), public+"/hooks/twilio/status?d=dlv_") {
			t.Errorf("%s's SMS form = %v", who, m.Form)
		}
	}
	if !strings.HasPrefix(ana.Form.Get("Body"), "P1 Caida del centro de datos, CDMX ("+inc.Folio+"). Confirma: responde 1 o entra a "+public+"/a/") ||
		!strings.HasPrefix(bob.Form.Get("Body"), "P1 Caida del centro de datos, CDMX ("+inc.Folio+"). Acknowledge: reply 1 or open "+public+"/a/") {
		t.Errorf("texts = %q / %q (Spanish transliterated to GSM-7, English)", ana.Form.Get("Body"), bob.Form.Get("Body"))
	}
	if err := fake.Advance(context.Background(), ana.SID, "sent", "delivered"); err != nil {
		t.Fatal(err)
	}

	res, err := fake.SendInboundSMS(context.Background(), public+"/hooks/twilio/sms", "+525512345678", "+15005550006", "1")
	if err != nil {
		t.Fatal(err)
	}
	reply, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !bytes.Contains(reply, []byte("Recepción confirmada: "+inc.Folio)) {
		t.Errorf("reply = %d %s", res.StatusCode, reply)
	}
	eventually(t, "the board shows the acknowledgement", func() bool {
		board.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, data, err := board.ReadMessage()
		if err != nil {
			t.Fatalf("board: %v\n%s", err, logs)
		}
		var e struct {
			Type     string
			Incident struct {
				AckCount int `json:"ack_count"`
			}
		}
		json.Unmarshal(data, &e)
		return e.Type == "incident.acknowledged" && e.Incident.AckCount == 1
	})
	_, body = api.do("GET", "/api/v1/incidents/"+inc.Folio, "", "")
	var view struct {
		Recipients []struct {
			Name           string
			AcknowledgedAt *string `json:"acknowledged_at"`
			Channel        string  `json:"ack_channel"`
			Deliveries     []struct{ Channel, Status string }
		}
	}
	json.Unmarshal(body, &view)
	for _, r := range view.Recipients {
		switch r.Name {
		case "Ana López":
			if r.AcknowledgedAt == nil || r.Channel != "sms" || len(r.Deliveries) != 1 || r.Deliveries[0].Status != "delivered" {
				t.Errorf("Ana = %+v", r)
			}
		case "Bob Smith":
			if r.AcknowledgedAt != nil || len(r.Deliveries) != 1 || r.Deliveries[0].Status != "sent" {
				t.Errorf("Bob = %+v", r)
			}
		}
	}

	// A forged (wrong signature) inbound message is refused; a replayed one (the same
	// MessageSid) gets the first answer again; neither changes anything.
	form := url.Values{"From": {"+34612345678"}, "To": {"+15005550006"}, "Body": {"1"}, "MessageSid": {"SMforged"}}
	if res, _ := fake.PostSigned(context.Background(), public+"/hooks/twilio/sms", form, "bm90IGEgc2lnbmF0dXJl"); res.StatusCode != 403 {
		t.Errorf("forged = %d", res.StatusCode)
	}
	res, _ = fake.Post(context.Background(), public+"/hooks/twilio/sms", url.Values{"From": {"+34612345678"}, "To": {"+15005550006"}, "Body": {"hola"}, "MessageSid": {"SMreplay"}})
	if res.StatusCode != 200 {
		t.Fatalf("first = %d", res.StatusCode)
	}
	firstAnswer, _ := io.ReadAll(res.Body)
	res.Body.Close()
	res, _ = fake.Post(context.Background(), public+"/hooks/twilio/sms", url.Values{"From": {"+34612345678"}, "To": {"+15005550006"}, "Body": {"hola"}, "MessageSid": {"SMreplay"}})
	replayAnswer, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Equal(replayAnswer, firstAnswer) {
		t.Errorf("replay = %d %s, want the first answer %s", res.StatusCode, replayAnswer, firstAnswer)
	}
	_, body = api.do("GET", "/api/v1/incidents/"+inc.Folio, "", "")
	if !bytes.Contains(body, []byte(`"ack_count":1`)) {
		t.Errorf("Bob was acknowledged by a forged or replayed request: %s", body)
	}
}

// A person who subscribed a browser gets the alert as a push, encrypted for that browser
// (the fake push service checks the VAPID signature and decrypts it), with a
// "Confirmar recepción" action that acknowledges through the person's link.
func TestAlertByPushAndAcknowledgeFromTheNotification(t *testing.T) {
	const token = "push-admin-token-0123456789"
	base, _ := startServer(t, map[string]string{"OPTIMUM_BOOTSTRAP_TOKEN": token, "OPTIMUM_PUSH_ALLOW_PRIVATE": "1"})
	api := client{t, base, token}
	if status, body := api.do("POST", "/api/v1/people/import", "text/csv", "name,email,phone,language,teams,manager_email\n"+
		"Ana López,ana@example.com,,es,operations,\n"); status != 200 {
		t.Fatalf("import = %d %s", status, body)
	}
	if status, body := api.do("POST", "/api/v1/users", "application/json",
		`{"email":"ana@example.com","name":"Ana López","role":"responder","password":"una frase de paso larga"}`); status != 201 {
		t.Fatalf("user = %d %s", status, body)
	}
	res, err := http.Post(base+"/api/v1/session", "application/json", strings.NewReader(`{"email":"ana@example.com","password":"una frase de paso larga"}`))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("sign in = %v %v", res.StatusCode, err)
	}
	cookie := strings.Split(res.Header.Get("Set-Cookie"), ";")[0]
	res.Body.Close()
	_, body := api.do("GET", "/api/v1/push/vapid-public-key", "", "")
	var key struct{ Key string }
	json.Unmarshal(body, &key)
	fake := webpushtest.New(t, webpushtest.Options{VAPIDPublicKey: key.Key})
	sub, _ := fake.NewSubscription()
	req, _ := http.NewRequest("POST", base+"/api/v1/push/subscriptions", bytes.NewReader(sub))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cookie", cookie)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 201 {
		t.Fatalf("subscribe = %v %v", res.StatusCode, err)
	}

	status, body := api.do("POST", "/api/v1/incidents", "application/json",
		`{"title":"Inundación en la planta","impact":"high","urgency":"critical","teams":["operations"],"drill":true}`)
	var inc struct{ ID, Folio string }
	json.Unmarshal(body, &inc)
	if status != 201 {
		t.Fatalf("declare = %d %s", status, body)
	}
	eventually(t, "a push at the push service", func() bool { return len(fake.Received()) == 1 })
	n, err := fake.Received()[0].Notification()
	if err != nil {
		t.Fatal(err)
	}
	title, _ := n["title"].(string)
	link, _ := n["url"].(string)
	actions, _ := json.Marshal(n["actions"])
	if !strings.HasPrefix(title, "SIMULACRO") || !strings.Contains(title, inc.Folio) || !strings.Contains(link, "/a/") || !bytes.Contains(actions, []byte("Confirmar recepción")) {
		t.Fatalf("notification = %v", n)
	}
	// The service worker's "ack" action: POST to the link, marked as coming from push.
	ack, _ := http.NewRequest("POST", link+"?via=push", nil)
	ack.Header.Set("Accept", "application/json")
	res, err = http.DefaultClient.Do(ack)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("ack = %v %v", res.StatusCode, err)
	}
	res.Body.Close()
	// The push service may have the push before the dispatcher has recorded it sent.
	eventually(t, "the push acknowledged and recorded sent", func() bool {
		_, body = api.do("GET", "/api/v1/incidents/"+inc.ID, "", "")
		return bytes.Contains(body, []byte(`"ack_channel":"webpush"`)) && bytes.Contains(body, []byte(`"channel":"webpush","status":"sent"`))
	})
}

// A person proves their phone with a six-digit code sent by SMS; the directory then
// counts them reachable on a verified channel.
func TestPhoneVerificationByCode(t *testing.T) {
	fake := twiliotest.New(t, twiliotest.Options{})
	const token = "verify-admin-token-0123456789"
	base, _ := startServer(t, map[string]string{
		"OPTIMUM_BOOTSTRAP_TOKEN": token, "OPTIMUM_PUBLIC_URL": public,
		"TWILIO_ACCOUNT_SID": fake.AccountSID(), "TWILIO_AUTH_TOKEN": fake.AuthToken(),
		"TWILIO_FROM": "+15005550006", "OPTIMUM_TWILIO_API_URL": fake.URL(),
	})
	api := client{t, base, token}
	api.do("POST", "/api/v1/people/import", "text/csv", "name,email,phone,language,teams,manager_email\nAna López,ana@example.com,+52 55 1234 5678,es,operations,\n")
	api.do("POST", "/api/v1/users", "application/json", `{"email":"ana@example.com","name":"Ana López","role":"responder","password":"una frase de paso larga"}`)
	res, err := http.Post(base+"/api/v1/session", "application/json", strings.NewReader(`{"email":"ana@example.com","password":"una frase de paso larga"}`))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("sign in = %v %v", res.StatusCode, err)
	}
	cookie := strings.Split(res.Header.Get("Set-Cookie"), ";")[0]
	post := func(path, body string) (int, []byte) {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cookie", cookie)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		return res.StatusCode, data
	}
	if status, body := post("/api/v1/me/phone/verification", ""); status != 202 {
		t.Fatalf("start = %d %s", status, body)
	}
	eventually(t, "the code by SMS", func() bool { return len(fake.Messages()) == 1 })
	sms := fake.Messages()[0].Form
	code := regexp.MustCompile(`\d{6}`).FindString(sms.Get("Body"))
	if sms.Get("To") != "+525512345678" || code == "" || !strings.Contains(sms.Get("Body"), "codigo de verificacion") {
		t.Fatalf("sms = %v", sms)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if status, body := post("/api/v1/me/phone/verification/confirm", `{"code":"`+wrong+`"}`); status != 422 {
		t.Errorf("wrong code = %d %s", status, body)
	}
	if status, body := post("/api/v1/me/phone/verification/confirm", `{"code":"`+code+`"}`); status != 200 || !bytes.Contains(body, []byte(`"phone_verified_at":"`)) {
		t.Fatalf("right code = %d %s", status, body)
	}
	if status, _ := post("/api/v1/me/phone/verification/confirm", `{"code":"`+code+`"}`); status != 409 {
		t.Errorf("the code worked twice: %d", status)
	}
	_, body := api.do("GET", "/api/v1/readiness?teams=operations", "", "")
	if !bytes.Contains(body, []byte(`"verified":1`)) {
		t.Errorf("readiness = %s", body)
	}
}
