package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast/vonage"
	"github.com/optimum-bcp/optimum/broadcast/vonage/vonagetest"
)

// With Twilio down (its fake answers 500), an alert reaches everyone through Vonage;
// Mexico (a no-link country) gets the SMS without the link, asking for a reply; a reply
// through Vonage acknowledges; the incident shows each attempt's provider.
func TestAlertFailsOverToVonageAndAReplyThroughItAcknowledges(t *testing.T) {
	vf := vonagetest.New(t)
	fake, base, api, _ := startTwilioServer(t, "technology", map[string]string{
		"VONAGE_API_KEY": vonagetest.APIKey, "VONAGE_API_SECRET": vonagetest.APISecret,
		"VONAGE_SIGNATURE_SECRET": vonagetest.SignatureSecret, "VONAGE_FROM": "+34911234567",
		"OPTIMUM_VONAGE_API_URL": vf.URL(), "OPTIMUM_OUTBOUND_ALLOW": "127.0.0.1",
		"OPTIMUM_SMS_NO_LINK_COUNTRIES": "52", "OPTIMUM_SMS_FAILOVER_THRESHOLD": "1",
	})
	fake.SetFailRate(1, http.StatusInternalServerError)
	status, body := api.do("POST", "/api/v1/incidents", "application/json",
		`{"title":"Caída del centro de datos","impact":"critical","urgency":"critical","location":"CDMX","teams":["technology"]}`)
	var inc struct{ ID, Folio string }
	json.Unmarshal(body, &inc)
	if status != 201 {
		t.Fatalf("declare = %d %s", status, body)
	}
	eventually(t, "two SMS through Vonage", func() bool { return len(vf.Messages()) == 2 })
	if status, body := api.do("GET", "/readyz", "", ""); status != 200 || !bytes.Contains(body, []byte("SMS: twilio is out of use after repeated failures")) {
		t.Errorf("readyz = %d %s, want the provider out of use among the concerns", status, body)
	}
	byTo := map[string]vonagetest.SMS{}
	for _, m := range vf.Messages() {
		byTo[m.To] = m
	}
	ana, bob := byTo["525512345678"], byTo["34612345678"]
	if want := "P1 Caida del centro de datos, CDMX (" + inc.Folio + "). Confirma: responde 1 a este SMS."; ana.Text != want {
		t.Errorf("Ana's SMS (Mexico, no link) = %q, want %q", ana.Text, want)
	}
	if !strings.Contains(bob.Text, "Acknowledge: reply 1 or open "+public+"/a/") {
		t.Errorf("Bob's SMS (Spain) = %q, want the one-tap link", bob.Text)
	}

	res, _, err := vonagetest.PostForm(context.Background(), base+vonage.PathSMS,
		vonagetest.InboundSMS("+525512345678", "+34911234567", "1", "md5hash", time.Now()))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("Ana's reply through Vonage = %v %v", res, err)
	}
	eventually(t, "Ana's acknowledgement and the providers of each attempt", func() bool {
		_, body := api.do("GET", "/api/v1/incidents/"+inc.ID, "", "")
		return bytes.Contains(body, []byte(`"ack_count":1`)) && bytes.Contains(body, []byte(`"providers":["twilio","vonage"]`))
	})
}
