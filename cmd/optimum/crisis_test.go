package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast/twilio/twiliotest"
)

// When the web is down, a person of the directory with a verified phone declares by
// texting "CRISIS <texto>" to the alert number or by leaving a voice message on the
// hotline; strangers, unverified numbers, empty texts, repeats and a fourth crisis in an
// hour declare nothing, are recorded with their reason and are answered in plain words.
func TestDeclareByCrisisTextAndHotline(t *testing.T) {
	fake := twiliotest.New(t, twiliotest.Options{AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "0123456789abcdef0123456789abcdef"})
	const token = "crisis-admin-token-0123456789abc"
	start := time.Now().Add(-time.Minute)
	base, logs := startServer(t, map[string]string{
		"OPTIMUM_BOOTSTRAP_TOKEN": token, "OPTIMUM_PUBLIC_URL": public,
		"TWILIO_ACCOUNT_SID": fake.AccountSID(), "TWILIO_AUTH_TOKEN": fake.AuthToken(),
		"TWILIO_FROM": "+15005550006", "OPTIMUM_TWILIO_API_URL": fake.URL(),
	})
	fake.Route(public, base)
	api := client{t, base, token}
	const (
		anaPhone  = "+525512345678"
		betoPhone = "+525522223333"
		stranger  = "+525599990000"
		alertNum  = "+15005550006"
	)
	if status, body := api.do("POST", "/api/v1/people/import", "text/csv", "name,email,phone,language,teams,manager_email\n"+
		"Ana López,ana@example.com,+52 55 1234 5678,es,operations:lead,\n"+
		"Beto Ruiz,beto@example.com,+52 55 2222 3333,en,staff,\n"+
		"Lalo Díaz,lalo@example.com,+52 55 4444 5555,es,staff,\n"); status != 200 {
		t.Fatalf("import = %d %s", status, body)
	}
	// Ana proves her phone is hers with the code sent by SMS; Beto never does.
	if status, body := api.do("POST", "/api/v1/users", "application/json",
		`{"email":"ana@example.com","name":"Ana López","role":"reporter","password":"una frase de paso larga"}`); status != 201 {
		t.Fatalf("user = %d %s", status, body)
	}
	res, err := http.Post(base+"/api/v1/session", "application/json", strings.NewReader(`{"email":"ana@example.com","password":"una frase de paso larga"}`))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("sign in = %v %v", res, err)
	}
	res.Body.Close()
	ana := cookieClient{t, base, strings.Split(res.Header.Get("Set-Cookie"), ";")[0]}
	if status, body := ana.do("POST", "/api/v1/me/phone/verification", ""); status != 202 {
		t.Fatalf("verification = %d %s", status, body)
	}
	eventually(t, "the code by SMS", func() bool { return len(fake.Messages()) == 1 })
	code := regexp.MustCompile(`\d{6}`).FindString(fake.Messages()[0].Form.Get("Body"))
	if status, body := ana.do("POST", "/api/v1/me/phone/verification/confirm", `{"code":"`+code+`"}`); status != 200 {
		t.Fatalf("confirm = %d %s", status, body)
	}

	ctx := context.Background()
	text := func(from, body string) string {
		t.Helper()
		res, err := fake.SendInboundSMS(ctx, public+"/hooks/twilio/sms", from, alertNum, body)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("SMS %q from %s = %d %s\n%s", body, from, res.StatusCode, b.String(), logs)
		}
		return b.String()
	}
	type incident struct {
		ID, Folio, Title, Priority, Description string
		SafetyPoll                              bool `json:"safety_poll"`
		Reporter                                struct{ ID, Name string }
	}
	incidents := func() []incident {
		_, body := api.do("GET", "/api/v1/incidents?limit=100", "", "")
		var page struct{ Items []incident }
		if err := json.Unmarshal(body, &page); err != nil {
			var list []incident
			if err := json.Unmarshal(body, &list); err != nil {
				t.Fatalf("incidents: %s", body)
			}
			return list
		}
		return page.Items
	}

	// Refused: a stranger, an unverified phone, a CRISIS with no words.
	for _, c := range []struct{ from, body, want string }{
		{stranger, "CRISIS incendio en la bodega", "Este número no está registrado en OPTIMUM BCP"},
		{betoPhone, "crisis: the basement is flooded", "Your phone is not verified in OPTIMUM BCP yet"}, // he reads English
		{anaPhone, "CRISIS", "Para declarar una crisis escribe CRISIS y lo que pasa"},
		{anaPhone, "Crisis  ¡!", "Para declarar una crisis escribe CRISIS y lo que pasa"},
	} {
		if got := text(c.from, c.body); !strings.Contains(got, c.want) {
			t.Errorf("%q from %s answered %s, want %q", c.body, c.from, got, c.want)
		}
	}
	if n := len(incidents()); n != 0 {
		t.Fatalf("refused texts declared %d incidents", n)
	}

	// Declared: the fire template's keyword picks its classification and safety poll.
	reply := text(anaPhone, "CRISIS Incendio en el almacén norte, hay humo")
	folio := regexp.MustCompile(`BCP-\d{4}-\d{6}`).FindString(reply)
	if folio == "" || !strings.Contains(reply, "Recibimos tu reporte de crisis") || !strings.Contains(reply, "prioridad P1") {
		t.Fatalf("declaring reply = %s", reply)
	}
	list := incidents()
	if len(list) != 1 {
		t.Fatalf("incidents = %+v", list)
	}
	fire := list[0]
	if fire.Folio != folio || fire.Title != "Incendio en el almacén norte, hay humo" || fire.Priority != "P1" || !fire.SafetyPoll || fire.Reporter.Name != "Ana López" {
		t.Errorf("declared = %+v", fire)
	}

	// The same text 20 times, some at once: one incident, each answered with its folio.
	var wg sync.WaitGroup
	answers := make([]string, 19)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := fake.SendInboundSMS(ctx, public+"/hooks/twilio/sms", anaPhone, alertNum, "CRISIS  incendio en el almacén norte, hay humo ")
			if err != nil {
				t.Error(err)
				return
			}
			var b bytes.Buffer
			b.ReadFrom(res.Body)
			answers[i] = b.String()
		}()
	}
	wg.Wait()
	for i, a := range answers {
		if !strings.Contains(a, "Ya recibimos este reporte, con el folio "+folio) && !strings.Contains(a, "Ya estamos registrando este reporte") {
			t.Errorf("repeat %d answered %s", i, a)
		}
	}
	if n := len(incidents()); n != 1 {
		t.Fatalf("20 copies of one text declared %d incidents", n)
	}

	// The hotline: a voice message declares (no keyword of a template in it: P2); the
	// call says the folio; Twilio's transcription lands on the timeline.
	call := func(path string, form url.Values) (int, string) {
		t.Helper()
		form.Set("AccountSid", fake.AccountSID())
		form.Set("ApiVersion", "2010-04-01")
		form.Set("To", "+15005550007")
		form.Set("Direction", "inbound")
		res, err := fake.Post(ctx, public+path, form)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(res.Body)
		return res.StatusCode, b.String()
	}
	status, twiml := call("/hooks/twilio/hotline", url.Values{"CallSid": {"CA00000000000000000000000000000001"}, "From": {stranger}, "CallStatus": {"ringing"}})
	if status != 200 || !strings.Contains(twiml, "Este número no está registrado") || strings.Contains(twiml, "<Record") || !strings.Contains(twiml, "<Hangup/>") {
		t.Errorf("a stranger's call = %d %s", status, twiml)
	}
	const callSID = "CA00000000000000000000000000000002"
	status, twiml = call("/hooks/twilio/hotline", url.Values{"CallSid": {callSID}, "From": {anaPhone}, "CallStatus": {"ringing"}})
	if status != 200 || !strings.Contains(twiml, `<Record action="`+public+`/hooks/twilio/hotline/recording"`) || !strings.Contains(twiml, `maxLength="120"`) ||
		!strings.Contains(twiml, "Línea de crisis") {
		t.Fatalf("Ana's call = %d %s", status, twiml)
	}
	recording := url.Values{"CallSid": {callSID}, "From": {anaPhone}, "RecordingSid": {"RE00000000000000000000000000000001"},
		"RecordingUrl":      {"https://api.twilio.com/2010-04-01/Accounts/" + fake.AccountSID() + "/Recordings/RE00000000000000000000000000000001"},
		"RecordingDuration": {"14"}, "Digits": {"hangup"}}
	status, twiml = call("/hooks/twilio/hotline/recording", recording)
	if status != 200 || !strings.Contains(twiml, "Recibimos tu mensaje") {
		t.Fatalf("recording = %d %s\n%s", status, twiml, logs)
	}
	list = incidents()
	if len(list) != 2 {
		t.Fatalf("incidents after the hotline = %+v", list)
	}
	var voice incident
	for _, inc := range list {
		if inc.Folio != folio {
			voice = inc
		}
	}
	spoken := regexp.MustCompile(`[^A-Z0-9]`).ReplaceAllString(twiml, "")
	if !strings.Contains(spoken, strings.ReplaceAll(voice.Folio, "-", "")) || voice.Priority != "P2" || !strings.Contains(voice.Description, "Recordings/RE00000000000000000000000000000001") {
		t.Errorf("voice incident = %+v, call said %s", voice, twiml)
	}
	// The same recording posted again by a retry, and a second recording of the same call,
	// declare nothing more.
	call("/hooks/twilio/hotline/recording", recording)
	recording.Set("RecordingSid", "RE00000000000000000000000000000002")
	if _, twiml := call("/hooks/twilio/hotline/recording", recording); !strings.Contains(twiml, "Ya recibimos este mensaje") {
		t.Errorf("second recording of the call = %s", twiml)
	}
	if status, _ := call("/hooks/twilio/hotline/transcription", url.Values{"CallSid": {callSID}, "From": {anaPhone}, "TranscriptionSid": {"TR00000000000000000000000000000001"},
		"TranscriptionStatus": {"completed"}, "TranscriptionText": {"Hay humo en el sótano de la torre B"}, "RecordingSid": {"RE00000000000000000000000000000001"}}); status != 204 {
		t.Errorf("transcription = %d", status)
	}
	_, body := api.do("GET", "/api/v1/incidents/"+voice.ID, "", "")
	if !bytes.Contains(body, []byte("Hay humo en el sótano de la torre B")) {
		t.Errorf("the transcription is not on the timeline: %s", body)
	}
	// A forged hotline request changes nothing.
	if res, err := fake.PostSigned(ctx, public+"/hooks/twilio/hotline/recording", url.Values{"CallSid": {"CA09"}, "From": {anaPhone}, "RecordingUrl": {"x"}, "RecordingDuration": {"3"}}, "Zm9yZ2Vk"); err != nil || res.StatusCode != 403 {
		t.Errorf("forged recording = %v %v", res.StatusCode, err)
	}

	// A third crisis in the hour is declared (P2: no template's keyword); a fourth is not.
	if reply := text(anaPhone, "CRISIS se fue la conexión con el banco en toda la planta"); !strings.Contains(reply, "prioridad P2") {
		t.Errorf("third crisis = %s", reply)
	}
	if reply := text(anaPhone, "CRISIS fuga de gas en el laboratorio"); !strings.Contains(reply, "ya se declararon 3 crisis en la última hora") {
		t.Errorf("fourth crisis = %s", reply)
	}
	// The hotline counts against the same limit: the call says so and records nothing.
	if _, twiml := call("/hooks/twilio/hotline", url.Values{"CallSid": {"CA00000000000000000000000000000003"}, "From": {anaPhone}, "CallStatus": {"ringing"}}); !strings.Contains(twiml, "ya se declararon 3 crisis en la última hora") || strings.Contains(twiml, "<Record") {
		t.Errorf("a call over the limit = %s", twiml)
	}
	if n := len(incidents()); n != 3 {
		t.Errorf("incidents = %d, want 3", n)
	}

	// The folio of a CRISIS text went in the SMS answer only, never again by SMS; the
	// hotline's folio reached Ana by SMS.
	eventually(t, "the hotline folio by SMS", func() bool {
		for _, m := range fake.Messages() {
			if m.Form.Get("To") == anaPhone && strings.Contains(m.Form.Get("Body"), "Tu folio es "+voice.Folio) {
				return true
			}
		}
		return false
	})
	for _, m := range fake.Messages() {
		if m.Form.Get("To") == anaPhone && strings.Contains(m.Form.Get("Body"), "Tu folio es "+folio) {
			t.Errorf("the folio of the CRISIS text was texted again: %s", m.Form.Get("Body"))
		}
	}

	// A lanzador (reception, security) declares only prepared scenarios: words of no
	// template are refused, a template's keyword declares; the hotline is not for them.
	const laloPhone = "+525544445555"
	if status, body := api.do("POST", "/api/v1/users", "application/json",
		`{"email":"lalo@example.com","name":"Lalo Díaz","role":"lanzador","password":"una frase de paso larga"}`); status != 201 {
		t.Fatalf("lanzador = %d %s", status, body)
	}
	res, err = http.Post(base+"/api/v1/session", "application/json", strings.NewReader(`{"email":"lalo@example.com","password":"una frase de paso larga"}`))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("lanzador sign in = %v %v", res, err)
	}
	res.Body.Close()
	lalo := cookieClient{t, base, strings.Split(res.Header.Get("Set-Cookie"), ";")[0]}
	if status, body := lalo.do("POST", "/api/v1/me/phone/verification", ""); status != 202 {
		t.Fatalf("lanzador verification = %d %s", status, body)
	}
	var laloCode string
	eventually(t, "the lanzador's code by SMS", func() bool {
		for _, m := range fake.Messages() {
			if m.Form.Get("To") == laloPhone && strings.Contains(m.Form.Get("Body"), "verificacion") {
				laloCode = regexp.MustCompile(`\d{6}`).FindString(m.Form.Get("Body"))
			}
		}
		return laloCode != ""
	})
	if status, body := lalo.do("POST", "/api/v1/me/phone/verification/confirm", `{"code":"`+laloCode+`"}`); status != 200 {
		t.Fatalf("lanzador confirm = %d %s", status, body)
	}
	if reply := text(laloPhone, "CRISIS se cayó el sistema de nómina"); !strings.Contains(reply, "Tu cuenta solo declara crisis de un escenario preparado") {
		t.Errorf("a lanzador's words of no template = %s", reply)
	}
	if reply := text(laloPhone, "CRISIS sale humo de la recepción"); !strings.Contains(reply, "prioridad P1") {
		t.Errorf("a lanzador's fire = %s", reply)
	}
	if _, twiml := call("/hooks/twilio/hotline", url.Values{"CallSid": {"CA00000000000000000000000000000004"}, "From": {laloPhone}, "CallStatus": {"ringing"}}); !strings.Contains(twiml, "Tu cuenta solo declara crisis de un escenario preparado") || strings.Contains(twiml, "<Record") {
		t.Errorf("a lanzador's call = %s", twiml)
	}
	if n := len(incidents()); n != 4 {
		t.Errorf("incidents = %d, want 4", n)
	}

	// Every refusal is in the event log with its reason.
	_, export := api.do("GET", "/api/v1/audit/export?from="+start.UTC().Format(time.RFC3339)+"&to="+time.Now().Add(time.Minute).UTC().Format(time.RFC3339), "", "")
	for _, reason := range []string{"unknown_number", "unverified_phone", "empty_text", "repeated", "rate_limited", "template_required"} {
		if !bytes.Contains(export, []byte(`sms.declare_refused`)) || !bytes.Contains(export, []byte(reason)) {
			t.Errorf("no sms.declare_refused with reason %s in the event log", reason)
		}
	}
}
