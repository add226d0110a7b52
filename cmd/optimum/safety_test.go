package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// An earthquake: the alert asks "¿Estás a salvo?" instead of only "confirma". Ana answers
// "2" by SMS (needs help), Bob taps "I am safe" on his one-tap link; the incident counts
// one safe and one needing help, each recipient shows their answer, and both count as
// acknowledged. A reply to an alert without a poll still only acknowledges.
func TestSafetyPollBySMSAndLink(t *testing.T) {
	fake, base, api, logs := startTwilioServer(t, "operations")
	status, body := api.do("POST", "/api/v1/incidents", "application/json",
		`{"title":"Sismo de magnitud 7.1","impact":"critical","urgency":"critical","location":"CDMX","teams":["operations"],"safety_poll":true}`)
	if status != 201 {
		t.Fatalf("declare = %d %s", status, body)
	}
	var inc struct {
		ID, Folio  string
		SafetyPoll bool `json:"safety_poll"`
	}
	json.Unmarshal(body, &inc)
	if !inc.SafetyPoll {
		t.Fatalf("the incident does not say it asks a poll: %s", body)
	}
	eventually(t, "two SMS at Twilio", func() bool { return len(fake.Messages()) == 2 })
	sms := map[string]string{}
	for _, m := range fake.Messages() {
		sms[m.Form.Get("To")] = m.Form.Get("Body")
	}
	if !strings.HasPrefix(sms["+525512345678"], "P1 Sismo de magnitud 7.1, CDMX ("+inc.Folio+"). ¿Estas a salvo? Responde 1 = si, 2 = ayuda, o "+public+"/a/") ||
		!strings.HasPrefix(sms["+34612345678"], "P1 Sismo de magnitud 7.1, CDMX ("+inc.Folio+"). Are you safe? Reply 1 = safe, 2 = help, or "+public+"/a/") {
		t.Errorf("poll texts = %q / %q", sms["+525512345678"], sms["+34612345678"])
	}

	res, err := fake.SendInboundSMS(context.Background(), public+"/hooks/twilio/sms", "+525512345678", "+15005550006", "2")
	if err != nil {
		t.Fatal(err)
	}
	reply, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !bytes.Contains(reply, []byte("necesitas ayuda ("+inc.Folio+")")) {
		t.Errorf("reply to 2 = %d %s\n%s", res.StatusCode, reply, logs)
	}

	link := regexp.MustCompile(`https://bcp\.example\.test(/a/[A-Za-z0-9]+)`).FindStringSubmatch(sms["+34612345678"])
	if link == nil {
		t.Fatalf("no link in %q", sms["+34612345678"])
	}
	page, err := http.Get(base + link[1])
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if !bytes.Contains(html, []byte(`value="safe"`)) || !bytes.Contains(html, []byte("I need help")) {
		t.Errorf("the link page does not offer both answers:\n%s", html)
	}
	res, err = http.PostForm(base+link[1], url.Values{"answer": {"safe"}})
	if err != nil {
		t.Fatal(err)
	}
	html, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Contains(html, []byte("We recorded that you are safe")) {
		t.Errorf("answer by link = %d\n%s", res.StatusCode, html)
	}
	res, _ = http.PostForm(base+link[1], url.Values{"answer": {"perhaps"}})
	if res.StatusCode != 400 && res.StatusCode != 422 {
		t.Errorf("an unknown answer = %d, want 4xx", res.StatusCode)
	}
	res.Body.Close()

	_, body = api.do("GET", "/api/v1/incidents/"+inc.Folio, "", "")
	var view struct {
		AckCount int `json:"ack_count"`
		Safety   struct {
			Safe       int `json:"safe"`
			HelpNeeded int `json:"help_needed"`
		}
		Recipients []struct {
			Name    string
			Safety  string
			Channel string `json:"ack_channel"`
		}
	}
	json.Unmarshal(body, &view)
	if view.AckCount != 2 || view.Safety.Safe != 1 || view.Safety.HelpNeeded != 1 {
		t.Errorf("incident = %s", body)
	}
	want := map[string]string{"Ana López": "help_needed/sms", "Bob Smith": "safe/link"}
	for _, r := range view.Recipients {
		if got := r.Safety + "/" + r.Channel; got != want[r.Name] {
			t.Errorf("%s: %s, want %s", r.Name, got, want[r.Name])
		}
	}
}
