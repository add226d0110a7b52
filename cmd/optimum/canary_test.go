package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum/broadcast/twilio/twiliotest"
	"github.com/optimum-bcp/optimum/broadcast/webpush/webpushtest"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

const (
	anaPhone   = "+525512345678"
	carlaPhone = "+34600000001"
)

type canaryRun struct {
	ID              string   `json:"id"`
	Status          string   `json:"status"`
	Reason          string   `json:"reason"`
	Manual          bool     `json:"manual"`
	IncidentID      string   `json:"incident_id"`
	Accepted        *float64 `json:"accepted_seconds"`
	Delivered       *float64 `json:"delivered_seconds"`
	PagedIncidentID string   `json:"paged_incident_id"`
	Messages        []struct {
		Channel, Status string
	} `json:"messages"`
}

// startCanaryServer starts a server whose canary (on a schedule that does not come during
// the test) alerts Ana by SMS and push; Carla is the continuity team, reachable by phone.
// Ana's browser is subscribed to the fake push service.
func startCanaryServer(t *testing.T, env ...map[string]string) (*twiliotest.Fake, *webpushtest.Fake, client) {
	t.Helper()
	cfg := exampleConfigWith(t,
		"canary:\n  schedule: \"\" # e.g. \"0 0 9 * * MON-FRI\"\n  person: \"\"   # e.g. canary@example.com\n",
		"canary:\n  schedule: \"0 0 0 1 1 *\"\n  person: ana@example.com\n",
		"  timeout: 5m\n  page_team: continuity\n", "  timeout: 20s\n  page_team: continuity\n")
	vars := map[string]string{"OPTIMUM_CONFIG": cfg, "OPTIMUM_PUSH_ALLOW_PRIVATE": "1"}
	for _, e := range env {
		maps.Copy(vars, e)
	}
	sms, base, api, _ := startTwilioServer(t, "technology", vars)
	if status, body := api.do("POST", "/api/v1/people/import", "text/csv", "name,email,phone,language,teams,manager_email\n"+
		"Carla Continuidad,carla@example.com,"+carlaPhone+",es,continuity,\n"); status != 200 {
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
	push := webpushtest.New(t, webpushtest.Options{VAPIDPublicKey: key.Key})
	sub, _ := push.NewSubscription()
	req, _ := http.NewRequest("POST", base+"/api/v1/push/subscriptions", bytes.NewReader(sub))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cookie", cookie)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 201 {
		t.Fatalf("subscribe = %v %v", res.StatusCode, err)
	}
	return sms, push, api
}

func lastCanary(t *testing.T, api client) canaryRun {
	t.Helper()
	status, body := api.do("GET", "/api/v1/canary", "", "")
	if status != 200 {
		t.Fatalf("GET /api/v1/canary = %d %s", status, body)
	}
	var v struct {
		Enabled bool
		Runs    []canaryRun
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	if !v.Enabled {
		t.Fatalf("canary not enabled: %s", body)
	}
	if len(v.Runs) == 0 {
		return canaryRun{}
	}
	return v.Runs[0]
}

func messagesTo(fake *twiliotest.Fake, number string) []twiliotest.Request {
	var out []twiliotest.Request
	for _, m := range fake.Requests() {
		if m.Form.Get("To") == number {
			out = append(out, m)
		}
	}
	return out
}

// A canary asked for by a manager reaches Ana by SMS and push, both labelled PRUEBA; once
// Twilio reports the SMS delivered, the run passes with its timings, the metrics say so,
// nobody else was alerted, no continuity page went out, and the indicators do not count
// it.
func TestCanaryPassesEndToEnd(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { canaryPasses(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		canaryPasses(t, map[string]string{"OPTIMUM_DATABASE_URL": storetest.PostgresURL(t)})
	})
}

func canaryPasses(t *testing.T, env map[string]string) {
	sms, push, api := startCanaryServer(t, env)
	if status, body := api.do("POST", "/api/v1/canary/run", "", ""); status != 202 {
		t.Fatalf("run = %d %s", status, body)
	}
	eventually(t, "the canary's SMS and push", func() bool { return len(messagesTo(sms, anaPhone)) == 1 && len(push.Received()) == 1 })
	text := messagesTo(sms, anaPhone)[0].Form.Get("Body")
	if !strings.HasPrefix(text, "PRUEBA. ") {
		t.Errorf("canary SMS = %q, want it to start with PRUEBA", text)
	}
	n, err := push.Received()[0].Notification()
	if err != nil {
		t.Fatal(err)
	}
	if title, _ := n["title"].(string); !strings.HasPrefix(title, "PRUEBA · ") {
		t.Errorf("canary push title = %q, want it to start with PRUEBA", title)
	}
	if run := lastCanary(t, api); run.Status != "running" || !run.Manual {
		t.Errorf("before the delivery report the run is %+v, want running (manual)", run)
	}
	if err := sms.Advance(context.Background(), messagesTo(sms, anaPhone)[0].SID, "sent", "delivered"); err != nil {
		t.Fatal(err)
	}
	var run canaryRun
	eventually(t, "the canary passed", func() bool { run = lastCanary(t, api); return run.Status == "passed" })
	if run.Accepted == nil || run.Delivered == nil || *run.Delivered < *run.Accepted || len(run.Messages) != 2 || run.PagedIncidentID != "" {
		t.Errorf("passed run = %+v, want both timings, two messages and no page", run)
	}
	if len(sms.Requests()) != 1 {
		t.Errorf("Twilio got %d requests, want only Ana's canary SMS", len(sms.Requests()))
	}
	_, metrics := api.do("GET", "/metrics", "", "")
	for _, want := range []string{"optimum_canary_last_passed 1", `optimum_canary_runs_total{result="passed"} 1`, "optimum_canary_delivered_seconds "} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("metrics lack %q:\n%s", want, grepLines(metrics, "canary"))
		}
	}
	_, body := api.do("GET", "/api/v1/indicators", "", "")
	var rep struct{ Summary struct{ Declared int } }
	json.Unmarshal(body, &rep)
	if rep.Summary.Declared != 0 {
		t.Errorf("the indicators count the canary: declared = %d", rep.Summary.Declared)
	}
	_, body = api.do("GET", "/api/v1/incidents/"+run.IncidentID, "", "")
	var inc struct {
		Canary, Drill bool
		Status        string
	}
	json.Unmarshal(body, &inc)
	if !inc.Canary || !inc.Drill || inc.Status != "cancelled" {
		t.Errorf("canary incident = %+v, want canary, drill and ended (cancelled)", inc)
	}
	status, body := api.do("GET", "/readyz", "", "")
	if status != 200 || bytes.Contains(body, []byte("canary (end-to-end test alert) failed")) {
		t.Errorf("/readyz after a pass = %d %s", status, body)
	}
}

// When Twilio refuses the canary's SMS, the run fails with the reason and the continuity
// team is paged on every channel that still works: not SMS, but a call to Carla (push
// passed too, and she has no browser). /readyz and the metrics report the failure.
func TestCanaryFailurePagesContinuityOnTheChannelsThatWork(t *testing.T) {
	sms, push, api := startCanaryServer(t)
	sms.RejectTo(anaPhone, 21211)
	if status, body := api.do("POST", "/api/v1/canary/run", "", ""); status != 202 {
		t.Fatalf("run = %d %s", status, body)
	}
	var run canaryRun
	eventually(t, "the canary failed and paged", func() bool {
		run = lastCanary(t, api)
		return run.Status == "failed" && run.PagedIncidentID != ""
	})
	if !strings.Contains(run.Reason, "sms failed") || run.PagedIncidentID == "" {
		t.Errorf("failed run = %+v, want the SMS failure as its reason and a page", run)
	}
	eventually(t, "a call to Carla", func() bool {
		for _, c := range sms.Calls() {
			if c.Form.Get("To") == carlaPhone {
				return true
			}
		}
		return false
	})
	for _, m := range sms.Messages() {
		if m.Form.Get("To") == carlaPhone {
			t.Errorf("Carla got an SMS, the channel that failed: %q", m.Form.Get("Body"))
		}
	}
	if len(push.Received()) != 1 {
		t.Errorf("push service got %d pushes, want Ana's canary only", len(push.Received()))
	}
	_, body := api.do("GET", "/api/v1/incidents/"+run.PagedIncidentID, "", "")
	var page struct {
		Drill, Canary bool
		Teams         []string
		Channels      []string
	}
	json.Unmarshal(body, &page)
	if page.Drill || page.Canary || strings.Join(page.Teams, ",") != "continuity" || strings.Contains(strings.Join(page.Channels, ","), "sms") {
		t.Errorf("page = %s, want a real incident for continuity without SMS", body)
	}
	status, body := api.do("GET", "/readyz", "", "")
	if status != 200 || !bytes.Contains(body, []byte("canary (end-to-end test alert) failed")) {
		t.Errorf("/readyz after a failure = %d %s", status, body)
	}
	_, metrics := api.do("GET", "/metrics", "", "")
	for _, want := range []string{"optimum_canary_last_passed 0", `optimum_canary_runs_total{result="failed"} 1`} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("metrics lack %q:\n%s", want, grepLines(metrics, "canary"))
		}
	}
}
