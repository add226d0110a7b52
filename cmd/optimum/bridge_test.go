package main

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum/broadcast/twilio/twiliotest"
)

// A P1 incident opens a war-room bridge: the audience is told its number and PIN; a
// person pressing 2 during the alert call joins it, a guest dials in with the PIN (a
// wrong PIN joins nothing); the incident shows who is on the call from Twilio's signed
// conference callbacks, and each join and leave is on the timeline.
func TestWarRoomBridge(t *testing.T) {
	fake := twiliotest.New(t, twiliotest.Options{AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "0123456789abcdef0123456789abcdef"})
	const token = "bridge-admin-token-0123456789abc"
	base, logs := startServer(t, map[string]string{
		"OPTIMUM_BOOTSTRAP_TOKEN": token, "OPTIMUM_PUBLIC_URL": public,
		"TWILIO_ACCOUNT_SID": fake.AccountSID(), "TWILIO_AUTH_TOKEN": fake.AuthToken(),
		"TWILIO_FROM": "+15005550006", "OPTIMUM_TWILIO_API_URL": fake.URL(), "OPTIMUM_BRIDGE_NUMBER": "+15005550009",
	})
	fake.Route(public, base)
	api := client{t, base, token}
	const anaPhone, guest = "+525512345678", "+525599990000"
	if status, body := api.do("POST", "/api/v1/people/import", "text/csv", "name,email,phone,language,teams,manager_email\n"+
		"Ana López,ana@example.com,+52 55 1234 5678,es,operations:lead,\n"); status != 200 {
		t.Fatalf("import = %d %s", status, body)
	}
	// A ladder that calls at once, so that the alert call is there to press 2 in.
	if status, body := api.do("POST", "/api/v1/ladders", "application/json", `{"id":"war","name":{"es":"Guerra","en":"War"},
		"priorities":["P5"],"steps":[{"targets":[{"team":"operations"}],"reminders":[{"after":"0s","channels":["voice","sms"]}],"wait":"30m","owned":"any"}]}`); status != 201 {
		t.Fatalf("ladder = %d %s", status, body)
	}
	declare := func(body string) (id, folio string) {
		status, res := api.do("POST", "/api/v1/incidents", "application/json", body)
		if status != 201 {
			t.Fatalf("declare = %d %s", status, res)
		}
		var inc struct{ ID, Folio string }
		json.Unmarshal(res, &inc)
		return inc.ID, inc.Folio
	}
	p3, _ := declare(`{"title":"Impresora sin tóner","impact":"medium","urgency":"medium","teams":["operations"]}`)
	if status, body := api.do("POST", "/api/v1/incidents/"+p3+"/bridge", "", ""); status != 409 {
		t.Errorf("a P4 incident's bridge = %d %s", status, body)
	}
	id, folio := declare(`{"title":"Caída del centro de datos","impact":"critical","urgency":"critical","teams":["operations"],"ladder":"war"}`)

	type bridge struct {
		Number, PIN string
		OnCall      []struct {
			Name     string
			PersonID string `json:"person_id"`
		} `json:"on_call"`
	}
	type view struct {
		Priority string
		Bridge   *bridge
		Timeline []struct{ Type string }
	}
	get := func() view {
		_, body := api.do("GET", "/api/v1/incidents/"+id, "", "")
		var v view
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("incident: %s", body)
		}
		return v
	}
	status, body := api.do("POST", "/api/v1/incidents/"+id+"/bridge", "", "")
	var opened view
	json.Unmarshal(body, &opened)
	if status != 200 || opened.Bridge == nil || opened.Bridge.Number != "+15005550009" || !regexp.MustCompile(`^\d{6}$`).MatchString(opened.Bridge.PIN) {
		t.Fatalf("open = %d %s", status, body)
	}
	pin := opened.Bridge.PIN
	if _, again := api.do("POST", "/api/v1/incidents/"+id+"/bridge", "", ""); !strings.Contains(string(again), `"pin":"`+pin+`"`) {
		t.Errorf("opened twice: %s", again)
	}
	eventually(t, "the number and PIN by SMS", func() bool {
		for _, m := range fake.Messages() {
			b := m.Form.Get("Body")
			if m.Form.Get("To") == anaPhone && strings.Contains(b, "+15005550009") && strings.Contains(b, "PIN "+pin) {
				return true
			}
		}
		return false
	})

	// Ana presses 2 during the alert call and joins.
	var callSID, action string
	eventually(t, "the alert call", func() bool {
		for _, c := range fake.Calls() {
			if c.Form.Get("To") == anaPhone && c.SID != "" {
				callSID = c.SID
				action = html.UnescapeString(regexp.MustCompile(`action="([^"]+)"`).FindStringSubmatch(c.Form.Get("Twiml"))[1])
				return true
			}
		}
		return false
	})
	ctx := context.Background()
	res, err := fake.SendDigits(ctx, action, callSID, "2")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	twiml := string(raw)
	if res.StatusCode != 200 || !strings.Contains(twiml, ">"+folio+"</Conference></Dial>") || !strings.Contains(twiml, "Te unimos a la llamada de crisis") {
		t.Fatalf("pressing 2 = %d %s\n%s", res.StatusCode, twiml, logs)
	}
	callback := func(twiml string) string {
		t.Helper()
		m := regexp.MustCompile(`statusCallback="([^"]+)"`).FindStringSubmatch(twiml)
		if m == nil {
			t.Fatalf("no statusCallback in %s", twiml)
		}
		return html.UnescapeString(m[1])
	}
	anaCallback := callback(twiml)
	conference := func(cb, call, event string) {
		t.Helper()
		res, err := fake.Post(ctx, cb, url.Values{"AccountSid": {fake.AccountSID()}, "ConferenceSid": {"CF00000000000000000000000000000001"},
			"FriendlyName": {folio}, "CallSid": {call}, "StatusCallbackEvent": {event}, "Muted": {"false"}, "Hold": {"false"},
			"SequenceNumber": {"1"}, "Timestamp": {"Mon, 07 Dec 2026 12:00:00 +0000"}})
		if err != nil || res.StatusCode != 204 {
			t.Fatalf("conference %s of %s = %v %v", event, call, res.StatusCode, err)
		}
	}
	conference(anaCallback, callSID, "participant-join")
	conference(anaCallback, callSID, "participant-join") // Twilio's retry: nothing more

	// A guest dials the bridge number: a wrong PIN, then the right one.
	dial := func(path, call string, form url.Values) string {
		t.Helper()
		form.Set("AccountSid", fake.AccountSID())
		form.Set("CallSid", call)
		form.Set("From", guest)
		form.Set("To", "+15005550009")
		form.Set("Direction", "inbound")
		res, err := fake.Post(ctx, public+path, form)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%s = %v %v", path, res.StatusCode, err)
		}
		raw, _ := io.ReadAll(res.Body)
		return string(raw)
	}
	if got := dial("/hooks/twilio/bridge", "CA00000000000000000000000000000091", url.Values{"CallStatus": {"ringing"}}); !strings.Contains(got, `numDigits="6"`) ||
		!strings.Contains(got, public+"/hooks/twilio/bridge/pin") {
		t.Errorf("dial in = %s", got)
	}
	wrong := "000000"
	if pin == wrong {
		wrong = "111111"
	}
	if got := dial("/hooks/twilio/bridge/pin", "CA00000000000000000000000000000091", url.Values{"Digits": {wrong}}); !strings.Contains(got, "Ese PIN no corresponde") || strings.Contains(got, "<Conference") {
		t.Errorf("wrong PIN = %s", got)
	}
	got := dial("/hooks/twilio/bridge/pin", "CA00000000000000000000000000000092", url.Values{"Digits": {pin}})
	if !strings.Contains(got, ">"+folio+"</Conference>") {
		t.Fatalf("right PIN = %s", got)
	}
	conference(callback(got), "CA00000000000000000000000000000092", "participant-join")

	v := get()
	if v.Bridge == nil || len(v.Bridge.OnCall) != 2 || v.Bridge.OnCall[0].Name != "Ana López" || v.Bridge.OnCall[0].PersonID == "" || v.Bridge.OnCall[1].Name != "Invitado …0000" {
		t.Fatalf("on the bridge = %+v", v.Bridge)
	}
	conference(anaCallback, callSID, "participant-leave")
	v = get()
	joined, left := 0, 0
	for _, e := range v.Timeline {
		switch e.Type {
		case "incident.bridge_joined":
			joined++
		case "incident.bridge_left":
			left++
		}
	}
	if len(v.Bridge.OnCall) != 1 || v.Bridge.OnCall[0].Name != "Invitado …0000" || joined != 2 || left != 1 {
		t.Errorf("after Ana left: on the bridge %+v, %d joined and %d left on the timeline", v.Bridge.OnCall, joined, left)
	}
	// A forged conference callback changes nothing.
	if res, err := fake.PostSigned(ctx, anaCallback, url.Values{"ConferenceSid": {"CF1"}, "CallSid": {"CA00000000000000000000000000000092"}, "StatusCallbackEvent": {"participant-leave"}}, "Zm9yZ2Vk"); err != nil || res.StatusCode != 403 {
		t.Errorf("forged = %v %v", res.StatusCode, err)
	}
	if v := get(); len(v.Bridge.OnCall) != 1 {
		t.Errorf("a forged callback changed the bridge: %+v", v.Bridge.OnCall)
	}
}
