package main

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum/broadcast/twilio/twiliotest"
)

// An alert call placed while the incident's bridge is open says "Marca 2 para unirte a
// la llamada de crisis", and pressing 1 in it still acknowledges (through the Twilio
// fake's signed Gather callback); the call's 2 joins the conference named by the folio
// (TestWarRoomBridge).
func TestAlertCallOffersTheBridgeAndOneStillAcknowledges(t *testing.T) {
	fake := twiliotest.New(t, twiliotest.Options{AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "0123456789abcdef0123456789abcdef"})
	const token = "bridge-call-admin-token-0123456789"
	base, logs := startServer(t, map[string]string{
		"OPTIMUM_BOOTSTRAP_TOKEN": token, "OPTIMUM_PUBLIC_URL": public,
		"TWILIO_ACCOUNT_SID": fake.AccountSID(), "TWILIO_AUTH_TOKEN": fake.AuthToken(),
		"TWILIO_FROM": "+15005550006", "OPTIMUM_TWILIO_API_URL": fake.URL(), "OPTIMUM_BRIDGE_NUMBER": "+15005550009",
	})
	fake.Route(public, base)
	api := client{t, base, token}
	const anaPhone = "+525512345678"
	if status, body := api.do("POST", "/api/v1/people/import", "text/csv", "name,email,phone,language,teams,manager_email\n"+
		"Ana López,ana@example.com,+52 55 1234 5678,es,operations:lead,\n"); status != 200 {
		t.Fatalf("import = %d %s", status, body)
	}
	// The call comes 3 s after the SMS: by then the bridge is open.
	if status, body := api.do("POST", "/api/v1/ladders", "application/json", `{"id":"later","name":{"es":"Después","en":"Later"},
		"priorities":["P5"],"steps":[{"targets":[{"team":"operations"}],"reminders":[{"after":"0s","channels":["sms"]},{"after":"3s","channels":["voice"]}],"wait":"30m","owned":"any"}]}`); status != 201 {
		t.Fatalf("ladder = %d %s", status, body)
	}
	status, body := api.do("POST", "/api/v1/incidents", "application/json",
		`{"title":"Incendio en el almacén","impact":"critical","urgency":"critical","teams":["operations"],"ladder":"later"}`)
	if status != 201 {
		t.Fatalf("declare = %d %s", status, body)
	}
	var inc struct{ ID, Folio string }
	json.Unmarshal(body, &inc)
	if status, body := api.do("POST", "/api/v1/incidents/"+inc.ID+"/bridge", "", ""); status != 200 {
		t.Fatalf("open the bridge = %d %s", status, body)
	}

	var callSID, twiml string
	eventually(t, "the alert call", func() bool {
		for _, c := range fake.Calls() {
			if c.Form.Get("To") == anaPhone && c.SID != "" {
				callSID, twiml = c.SID, c.Form.Get("Twiml")
				return true
			}
		}
		return false
	})
	if !strings.Contains(twiml, "Marca 2 para unirte a la llamada de crisis.") || !strings.Contains(twiml, "Presiona 1") {
		t.Fatalf("the alert call says:\n%s", twiml)
	}
	action := html.UnescapeString(regexp.MustCompile(`action="([^"]+)"`).FindStringSubmatch(twiml)[1])
	res, err := fake.SendDigits(context.Background(), action, callSID, "1")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || strings.Contains(string(raw), "<Conference") {
		t.Fatalf("pressing 1 = %d %s\n%s", res.StatusCode, raw, logs)
	}
	var got struct {
		AckCount       int    `json:"ack_count"`
		AcknowledgedAt string `json:"acknowledged_at"`
		Recipients     []struct {
			AckChannel string `json:"ack_channel"`
		} `json:"recipients"`
	}
	_, body = api.do("GET", "/api/v1/incidents/"+inc.ID, "", "")
	json.Unmarshal(body, &got)
	if got.AckCount != 1 || got.AcknowledgedAt == "" || len(got.Recipients) != 1 || got.Recipients[0].AckChannel != "voice" {
		t.Errorf("after pressing 1: %s", body)
	}
}
