package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast/chat/chattest"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// startChatServer starts a server whose outbound requests may reach loopback (the chat
// fake), with a short chat backoff, and the team "ops" with one person in it.
func startChatServer(t *testing.T, fake *chattest.Server, extra map[string]string) (string, client) {
	t.Helper()
	const token = "chat-admin-token-0123456789abc"
	vars := map[string]string{
		"OPTIMUM_BOOTSTRAP_TOKEN": token,
		"OPTIMUM_PUBLIC_URL":      public,
		"OPTIMUM_OUTBOUND_ALLOW":  "127.0.0.1,::1",
		"OPTIMUM_SLACK_API_URL":   fake.URL + "/api/",
	}
	for k, v := range extra {
		vars[k] = v
	}
	base, logs := startServer(t, vars)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})
	api := client{t, base, token}
	importOps(t, api)
	return base, api
}

func importOps(t *testing.T, api client) {
	t.Helper()
	status, body := api.do("POST", "/api/v1/people/import", "text/csv", "name,email,phone,language,teams,manager_email\n"+
		"Ana López,ana@example.com,+52 55 1234 5678,es,ops:lead,\n"+
		"Sol Ruiz,sol@example.com,+52 55 8765 4321,es,sec:lead,\n")
	if status != 200 {
		t.Fatalf("import = %d %s", status, body)
	}
}

// call sends body (JSON) and decodes the answer into v, which must have the status want.
func (c client) call(method, path, body string, want int, v any) {
	c.t.Helper()
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	status, data := c.do(method, path, ct, body)
	mustJSON(c.t, status, want, data, v)
}

func mustJSON(t *testing.T, status, want int, body []byte, v any) {
	t.Helper()
	if status != want {
		t.Fatalf("status %d, want %d: %s", status, want, body)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
	}
}

type created struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
}

// titles are the first text of each accepted Teams card, or the header of each accepted
// Slack message, at the endpoint named name.
func titles(fake *chattest.Server, service, name string) []string {
	var out []string
	for _, r := range fake.Received() {
		if r.Service != service || r.Name != name || r.Rejected != "" || r.Status >= 300 {
			continue
		}
		switch service {
		case "teams":
			body, _ := r.Card["body"].([]any)
			if len(body) > 0 {
				out = append(out, fmt.Sprint(body[0].(map[string]any)["text"]))
			}
		case "slack-api", "slack":
			for _, b := range r.Blocks {
				if b["type"] == "header" {
					out = append(out, fmt.Sprint(b["text"].(map[string]any)["text"]))
				}
			}
		}
	}
	return out
}

// A drill of team ops: its Teams channel (Spanish), its Slack channel (English, through
// chat.postMessage with a bot token) and a signed webhook get the alert, the update and
// the resolution, SIMULACRO / DRILL first, with a button to the incident. A second Teams
// channel answers 410: it is marked broken after one attempt, shown on readiness and
// /readyz, and gets nothing more until it is resumed. A 429 is retried. The secrets and
// URLs are never shown after creation.
func TestChatChannelsAndWebhooksFollowAnIncident(t *testing.T) {
	fake := chattest.New()
	defer fake.Close()
	fake.AddSlackBot("xoxb-ops-bot-1", "C0OPS")
	fake.AnswerAlways("/teams/gone", http.StatusGone)
	fake.Answer("/teams/ops", http.StatusTooManyRequests)
	base, api := startChatServer(t, fake, nil)

	var teams, slackCh, gone, hook created
	api.call("POST", "/api/v1/chat-channels",
		`{"team":"ops","kind":"teams","name":"Ops en Teams","url":"`+fake.URL+`/teams/ops"}`, 201, &teams)
	api.call("POST", "/api/v1/chat-channels",
		`{"team":"ops","kind":"slack","token":"xoxb-ops-bot-1","channel":"C0OPS","language":"en"}`, 201, &slackCh)
	api.call("POST", "/api/v1/chat-channels",
		`{"team":"ops","kind":"teams","url":"`+fake.URL+`/teams/gone"}`, 201, &gone)
	var sec created
	api.call("POST", "/api/v1/chat-channels", `{"team":"sec","kind":"teams","url":"`+fake.URL+`/teams/sec"}`, 201, &sec)
	st, body := api.do("POST", "/api/v1/webhooks", "application/json", `{"name":"ITSM","url":"`+fake.URL+`/webhook/itsm","events":["incident.*"]}`)
	mustJSON(t, st, 201, body, &hook)
	if !strings.HasPrefix(hook.Secret, "whsec_") {
		t.Fatalf("webhook secret %q", hook.Secret)
	}
	fake.SetSecret("itsm", hook.Secret)

	// Secrets and URLs are never shown again.
	for _, path := range []string{"/api/v1/chat-channels", "/api/v1/webhooks"} {
		st, body := api.do("GET", path, "", "")
		if st != 200 || strings.Contains(string(body), "xoxb-ops-bot-1") || strings.Contains(string(body), hook.Secret) ||
			strings.Contains(string(body), "/teams/ops") || strings.Contains(string(body), "/webhook/itsm") {
			t.Errorf("GET %s = %d %s: shows a credential", path, st, body)
		}
	}

	var inc struct {
		ID    string `json:"id"`
		Folio string `json:"folio"`
	}
	api.call("POST", "/api/v1/incidents",
		`{"title":"Caída del sistema de pagos","impact":"high","urgency":"high","teams":["ops"],"drill":true}`, 201, &inc)
	eventually(t, "the alert in Teams, Slack and the webhook", func() bool {
		return len(titles(fake, "teams", "ops")) == 1 && len(titles(fake, "slack-api", "C0OPS")) == 1 && len(accepted(fake, "itsm")) >= 1
	})
	if got := titles(fake, "teams", "ops")[0]; !strings.HasPrefix(got, "SIMULACRO · Alerta P") || !strings.Contains(got, inc.Folio) {
		t.Errorf("Teams title %q, want SIMULACRO · Alerta … %s", got, inc.Folio)
	}
	if got := titles(fake, "slack-api", "C0OPS")[0]; !strings.HasPrefix(got, "DRILL · Alert P") {
		t.Errorf("Slack title %q, want DRILL · Alert …", got)
	}
	checkButton(t, fake, public+"/#/incidente/"+inc.Folio)

	eventually(t, "the 410 channel marked broken", func() bool {
		st, body := api.do("GET", "/api/v1/readiness", "", "")
		return st == 200 && strings.Contains(string(body), gone.ID)
	})
	res, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var ready struct {
		Status  string              `json:"status"`
		Reasons map[string][]string `json:"reasons"`
	}
	json.NewDecoder(res.Body).Decode(&ready)
	res.Body.Close()
	if res.StatusCode != 200 || len(ready.Reasons["chat"]) != 1 {
		t.Errorf("/readyz = %d %+v, want 200 with a chat reason", res.StatusCode, ready)
	}

	// A functional escalation to team sec reaches sec's channel, which was not in the audience.
	api.call("POST", "/api/v1/incidents/"+inc.ID+"/escalate", `{"kind":"functional","to":"sec","reason":"Hace falta el equipo de seguridad"}`, 200, nil)
	eventually(t, "the escalation in sec's channel", func() bool { return len(titles(fake, "teams", "sec")) == 1 })
	if got := titles(fake, "teams", "sec")[0]; !strings.HasPrefix(got, "SIMULACRO · Escalado a tu equipo P") {
		t.Errorf("sec's post %q, want SIMULACRO · Escalado a tu equipo …", got)
	}

	api.call("POST", "/api/v1/incidents/"+inc.ID+"/updates",
		`{"known":"El proveedor confirmó la falla","doing":"Cambiamos al sitio alterno"}`, 201, nil)
	api.call("POST", "/api/v1/incidents/"+inc.ID+"/transitions", `{"to":"investigating"}`, 200, nil)
	api.call("POST", "/api/v1/incidents/"+inc.ID+"/transitions",
		`{"to":"resolved","note":"Se restableció el servicio"}`, 200, nil)
	eventually(t, "update and resolution in Teams and Slack", func() bool {
		return len(titles(fake, "teams", "ops")) == 3 && len(titles(fake, "slack-api", "C0OPS")) == 3
	})
	want := []string{"SIMULACRO · Alerta", "SIMULACRO · Actualización", "SIMULACRO · Resuelto"}
	for i, got := range titles(fake, "teams", "ops") {
		if !strings.HasPrefix(got, want[i]) {
			t.Errorf("Teams post %d: %q, want it to start %q", i, got, want[i])
		}
	}
	wantEN := []string{"DRILL · Alert", "DRILL · Update", "DRILL · Resolved"}
	for i, got := range titles(fake, "slack-api", "C0OPS") {
		if !strings.HasPrefix(got, wantEN[i]) {
			t.Errorf("Slack post %d: %q, want it to start %q", i, got, wantEN[i])
		}
	}
	if n := len(titles(fake, "teams", "sec")); n != 1 {
		t.Errorf("sec's channel got %d posts, want only the escalation (sec is not in the audience)", n)
	}
	if n := len(fake.Arrived("/teams/gone")); n != 1 {
		t.Errorf("the 410 endpoint got %d requests, want 1 (broken after the first)", n)
	}

	// The webhook got every incident event, each signed (the fake verifies), each id once.
	eventually(t, "the webhook's events", func() bool { return slices.Contains(webhookTypes(fake), "incident.transitioned") })
	types := webhookTypes(fake)
	for _, typ := range []string{"incident.declared", "incident.update_posted", "incident.transitioned"} {
		if !slices.Contains(types, typ) {
			t.Errorf("the webhook got %v, want %s among them", types, typ)
		}
	}
	if slices.Contains(types, "incident.deliveries_progress") {
		t.Error("incident.* matched incident.deliveries_progress")
	}
	ids := map[string]int{}
	for _, r := range accepted(fake, "itsm") {
		ids[r.Header.Get("webhook-id")]++
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("webhook-id %s posted %d times", id, n)
		}
	}

	// The 429 was retried, and each attempt is recorded.
	var posts []struct {
		Title    string `json:"title"`
		Status   string `json:"status"`
		Attempts []struct {
			Outcome string `json:"outcome"`
			Reason  string `json:"reason"`
		} `json:"attempts"`
	}
	api.call("GET", "/api/v1/chat-channels/"+teams.ID+"/posts", "", 200, &posts)
	first := posts[len(posts)-1]
	if first.Status != "sent" || len(first.Attempts) != 2 || first.Attempts[0].Outcome != "retry" || !strings.Contains(first.Attempts[0].Reason, "429") {
		t.Errorf("the first Teams post: %+v, want a 429 retry then sent", first)
	}

	// The incident's page lists what every channel was sent, with the attempts.
	// (The fake saw the posts before the server recorded their outcomes: wait for them.)
	var perSub map[string]map[string]int
	eventually(t, "the incident's posts per subscription", func() bool {
		var ofIncident []struct {
			Subscription string `json:"subscription"`
			Status       string `json:"status"`
		}
		api.call("GET", "/api/v1/incidents/"+inc.Folio+"/chat-posts", "", 200, &ofIncident)
		perSub = map[string]map[string]int{}
		for _, p := range ofIncident {
			if perSub[p.Subscription] == nil {
				perSub[p.Subscription] = map[string]int{}
			}
			perSub[p.Subscription][p.Status]++
		}
		return fmt.Sprint(perSub[teams.ID]) == "map[sent:3]" && fmt.Sprint(perSub[gone.ID]) == "map[failed:1]" &&
			fmt.Sprint(perSub[sec.ID]) == "map[sent:1]" && len(perSub[hook.ID]) == 1 && perSub[hook.ID]["sent"] >= 4
	})

	// Resumed, the broken channel gets the next posts.
	api.call("POST", "/api/v1/chat-channels/"+gone.ID+"/resume", "", 200, nil)
	fake.Answer("/teams/gone") // still 410 forever: resuming without fixing breaks it again
	api.call("POST", "/api/v1/incidents/"+inc.ID+"/transitions",
		`{"to":"reopened","note":"Volvió a fallar"}`, 200, nil)
	eventually(t, "the resumed channel tried again", func() bool { return len(fake.Arrived("/teams/gone")) == 2 })

	// Deleted, a channel gets nothing more and is gone from the list.
	if st, body := api.do("DELETE", "/api/v1/chat-channels/"+slackCh.ID, "", ""); st != 204 {
		t.Fatalf("delete = %d %s", st, body)
	}
	if st, body := api.do("GET", "/api/v1/chat-channels", "", ""); st != 200 || strings.Contains(string(body), slackCh.ID) {
		t.Errorf("list after delete = %d %s", st, body)
	}
}

func accepted(fake *chattest.Server, name string) []chattest.Received {
	var out []chattest.Received
	for _, r := range fake.Received() {
		if r.Service == "webhook" && r.Name == name && r.Rejected == "" && r.Status < 300 {
			out = append(out, r)
		}
	}
	return out
}

func webhookTypes(fake *chattest.Server) []string {
	var out []string
	for _, r := range accepted(fake, "itsm") {
		var b struct {
			Type string `json:"type"`
		}
		json.Unmarshal(r.Body, &b)
		out = append(out, b.Type)
	}
	return out
}

func checkButton(t *testing.T, fake *chattest.Server, url string) {
	t.Helper()
	for _, r := range fake.Received() {
		if r.Service != "teams" || r.Name != "ops" || r.Card == nil {
			continue
		}
		acts, _ := r.Card["actions"].([]any)
		if len(acts) != 1 || acts[0].(map[string]any)["url"] != url {
			t.Errorf("Teams card actions %v, want a button to %s", acts, url)
		}
	}
}

// Bad input is a 422 naming each field, in Spanish unless English is asked for, and
// creates nothing.
func TestChatChannelBadInputIsRefused(t *testing.T) {
	fake := chattest.New()
	defer fake.Close()
	_, api := startChatServer(t, fake, nil)
	for _, c := range []struct {
		path, body string
		fields     []string
	}{
		{"/api/v1/chat-channels", `{"kind":"teams","url":"` + fake.URL + `/teams/x"}`, []string{"team"}},
		{"/api/v1/chat-channels", `{"team":"ops","kind":"email","url":"https://example.com/x"}`, []string{"kind"}},
		{"/api/v1/chat-channels", `{"team":"nadie","kind":"teams","url":"https://example.com/x"}`, []string{"team"}},
		{"/api/v1/chat-channels", `{"team":"ops","kind":"teams","url":"http://example.com/x"}`, []string{"url"}},
		{"/api/v1/chat-channels", `{"team":"ops","kind":"slack","token":"xoxb-1","channel":"#ops"}`, []string{"channel"}},
		{"/api/v1/chat-channels", `{"team":"ops","kind":"slack","token":"xoxb-1","channel":"C1","url":"https://hooks.slack.com/x"}`, []string{"token"}},
		{"/api/v1/chat-channels", `{"team":"ops","kind":"teams","url":"https://example.com/x","language":"fr"}`, []string{"language"}},
		{"/api/v1/webhooks", `{"name":"x","url":"ftp://example.com/x","events":["incident.declared"]}`, []string{"url"}},
		{"/api/v1/webhooks", `{"name":"x","url":"https://example.com/x","events":["incident.nope"]}`, []string{"events"}},
		{"/api/v1/webhooks", `{"url":"https://example.com/x","events":[]}`, []string{"name", "events"}},
	} {
		st, body := api.do("POST", c.path, "application/json", c.body)
		var p struct {
			Detail string `json:"detail"`
			Errors []struct {
				Field   string `json:"field"`
				Message string `json:"message"`
			} `json:"errors"`
		}
		json.Unmarshal(body, &p)
		var fields []string
		for _, e := range p.Errors {
			fields = append(fields, e.Field)
		}
		if st != 422 || !slices.Equal(fields, c.fields) || !strings.HasPrefix(p.Detail, "El ") && !strings.HasPrefix(p.Detail, "La ") {
			t.Errorf("POST %s %s = %d %s, want 422 in Spanish on %v", c.path, c.body, st, body, c.fields)
		}
	}
	for _, path := range []string{"/api/v1/chat-channels", "/api/v1/webhooks"} {
		if st, body := api.do("GET", path, "", ""); st != 200 || string(body) != "[]\n" {
			t.Errorf("GET %s = %d %s, want nothing created", path, st, body)
		}
	}
}

// The node is killed (SIGKILL) while a webhook post is at the endpoint, unanswered. The
// node started again on the same data folder sends it again, with the same webhook-id,
// once the lease of the dead node's attempt runs out: the post is not lost, and the
// receiver can tell the second copy is the first one again.
func TestChatPostSurvivesAKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	bin := buildOptimum(t)
	t.Run("sqlite", func(t *testing.T) { chatPostSurvivesAKill(t, bin, nil) })
	t.Run("postgres", func(t *testing.T) {
		chatPostSurvivesAKill(t, bin, map[string]string{"OPTIMUM_DATABASE_URL": storetest.PostgresURL(t)})
	})
}

func chatPostSurvivesAKill(t *testing.T, bin string, extra map[string]string) {
	fake := chattest.New()
	defer fake.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "optimum.yaml")
	if err := os.WriteFile(cfg, []byte("delivery:\n  lease: 2s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const token = "chat-kill-admin-token-0123456789"
	env := map[string]string{"OPTIMUM_CONFIG": cfg, "OPTIMUM_DATA": filepath.Join(dir, "data"), "OPTIMUM_BOOTSTRAP_TOKEN": token,
		"OPTIMUM_PUBLIC_URL": public, "OPTIMUM_OUTBOUND_ALLOW": "127.0.0.1,::1"}
	for k, v := range extra {
		env[k] = v
	}
	a, err := launchNode(t, bin, "A", env)
	if err != nil {
		t.Fatal(err)
	}
	api := client{t, a.base, token}
	importOps(t, api)
	var hook created
	api.call("POST", "/api/v1/webhooks",
		`{"name":"ITSM","url":"`+fake.URL+`/webhook/itsm","events":["incident.declared"]}`, 201, &hook)
	fake.SetSecret("itsm", hook.Secret)
	fake.Hold("/webhook/itsm", time.Minute)
	api.call("POST", "/api/v1/incidents",
		`{"title":"Incendio en el centro de cómputo","impact":"high","urgency":"high","teams":["ops"]}`, 201, nil)
	eventually(t, "the post at the endpoint", func() bool { return len(fake.Arrived("/webhook/itsm")) == 1 })
	a.kill(t)

	b, err := launchNode(t, bin, "B", env)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the post sent again by the new node", func() bool { return len(accepted(fake, "itsm")) == 1 })
	arrived := fake.Arrived("/webhook/itsm")
	got := accepted(fake, "itsm")[0]
	if len(arrived) != 2 || arrived[0] == "" || arrived[0] != arrived[1] || got.Header.Get("webhook-id") != arrived[0] {
		t.Errorf("requests %v, accepted id %q: want the same webhook-id twice", arrived, got.Header.Get("webhook-id"))
	}
	api = client{t, b.base, token}
	var posts []struct {
		Status   string `json:"status"`
		Attempts []struct {
			Outcome string `json:"outcome"`
		} `json:"attempts"`
	}
	// The fake answered before the node recorded the outcome: wait for the record.
	eventually(t, "the post recorded sent", func() bool {
		api.call("GET", "/api/v1/webhooks/"+hook.ID+"/posts", "", 200, &posts)
		return len(posts) == 1 && posts[0].Status == "sent"
	})
	if len(posts[0].Attempts) != 2 || posts[0].Attempts[0].Outcome != "resent" || posts[0].Attempts[1].Outcome != "sent" {
		t.Errorf("posts %+v, want one post: resent, then sent", posts)
	}
}
