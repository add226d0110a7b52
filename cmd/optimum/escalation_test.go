package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast/twilio/twiliotest"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// movableClock replaces the server's clock for a test: time moves only when told, so
// a ten-minute ladder runs in seconds (cron still ticks every real second and reads it).
type movableClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *movableClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}
func (c *movableClock) skip(d time.Duration) { c.mu.Lock(); c.off += d; c.mu.Unlock() }

func useClock(t *testing.T) *movableClock {
	c := &movableClock{}
	old := clock
	clock = c.now
	t.Cleanup(func() { clock = old })
	return c
}

// The whole product, through the real server and the fake Twilio: a P1 is declared; the
// technology lead is paged; nobody acknowledges for 5 minutes, so the continuity team is
// paged; at 10 the director; the director answers "1" by SMS (a signed inbound webhook)
// and all nagging stops: nothing more reaches Twilio. On PostgreSQL, twice: one node,
// and two nodes sharing the database, each with its cron and engine — every step and
// reminder still reaches Twilio once.
func TestP1ClimbsToTheDirectorWhoAcknowledgesBySMS(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { p1ClimbsToTheDirector(t, nil, 1) })
	t.Run("postgres", func(t *testing.T) {
		p1ClimbsToTheDirector(t, map[string]string{"OPTIMUM_DATABASE_URL": storetest.PostgresURL(t)}, 1)
	})
	t.Run("postgres-two-nodes", func(t *testing.T) {
		p1ClimbsToTheDirector(t, map[string]string{"OPTIMUM_DATABASE_URL": storetest.PostgresURL(t)}, 2)
	})
}

func p1ClimbsToTheDirector(t *testing.T, env map[string]string, nodes int) {
	clk := useClock(t)
	fake := twiliotest.New(t, twiliotest.Options{AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "0123456789abcdef0123456789abcdef"})
	const token = "ladder-admin-token-0123456789"
	vars := map[string]string{
		"OPTIMUM_BOOTSTRAP_TOKEN": token, "OPTIMUM_PUBLIC_URL": public,
		"TWILIO_ACCOUNT_SID": fake.AccountSID(), "TWILIO_AUTH_TOKEN": fake.AuthToken(),
		"TWILIO_FROM": "+15005550006", "OPTIMUM_TWILIO_API_URL": fake.URL(),
	}
	maps.Copy(vars, env)
	base, logs := startServer(t, vars)
	api := client{t, base, token}
	all := []client{api}
	for range nodes - 1 {
		other, _ := startServer(t, vars) // another node on the same database: its own cron and engine
		all = append(all, client{t, other, token})
	}
	fake.Route(public, base)
	if status, body := api.do("POST", "/api/v1/people/import", "text/csv", "name,email,phone,language,teams,manager_email\n"+
		"Dora Directora,dora@example.com,+525500000001,es,directors,\n"+
		"Carla Continuidad,carla@example.com,+525500000002,es,continuity,dora@example.com\n"+
		"Ana López,ana@example.com,+525500000003,es,technology:lead,dora@example.com\n"); status != 200 {
		t.Fatalf("import = %d %s", status, body)
	}
	to := func(rs []twiliotest.Request) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Form.Get("To"))
		}
		return out
	}
	has := func(rs []twiliotest.Request, phone string) bool {
		for _, r := range rs {
			if r.Form.Get("To") == phone {
				return true
			}
		}
		return false
	}
	status, body := api.do("POST", "/api/v1/incidents", "application/json",
		`{"title":"Caída del centro de datos","impact":"critical","urgency":"critical","teams":["technology"]}`)
	if status != 201 {
		t.Fatalf("declare = %d %s", status, body)
	}
	var inc struct{ ID, Folio string }
	json.Unmarshal(body, &inc)
	// settle waits until every send due by the server's clock has ended (and was recorded)
	// before the clock jumps, since a jump of five minutes would outlast a send's lease and
	// rightly have it sent again.
	settle := func() { settleEngines(t, time.Time{}, all...) }
	eventually(t, "the lead's SMS", func() bool { return has(fake.Messages(), "+525500000003") })
	settle()

	clk.skip(5 * time.Minute)
	eventually(t, "the continuity team's SMS at 5 minutes", func() bool { return has(fake.Messages(), "+525500000002") })
	if has(fake.Messages(), "+525500000001") {
		t.Fatalf("the director was paged at 5 minutes: %v", to(fake.Messages()))
	}
	settle()
	clk.skip(5 * time.Minute)
	eventually(t, "the director's SMS and call, and the continuity team's call (due at 7), at 10 minutes", func() bool {
		return has(fake.Messages(), "+525500000001") && has(fake.Calls(), "+525500000001") && has(fake.Calls(), "+525500000002")
	})
	settle()

	res, err := fake.SendInboundSMS(context.Background(), public+"/hooks/twilio/sms", "+525500000001", "+15005550006", "1")
	if err != nil {
		t.Fatal(err)
	}
	reply, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !bytes.Contains(reply, []byte("Recepción confirmada: "+inc.Folio)) {
		t.Fatalf("reply = %d %s", res.StatusCode, reply)
	}
	var view struct {
		Escalation struct {
			State   string
			Step    int
			Pending []string
			Paged   []struct {
				Name           string
				NextReminderAt *string `json:"next_reminder_at"`
			}
		}
	}
	eventually(t, "the incident owned", func() bool {
		_, body = api.do("GET", "/api/v1/incidents/"+inc.Folio, "", "")
		json.Unmarshal(body, &view)
		return view.Escalation.State == "owned"
	})
	for _, p := range view.Escalation.Paged {
		if p.NextReminderAt != nil {
			t.Errorf("%s still has a reminder due: %s", p.Name, body)
		}
	}
	if view.Escalation.Step != 3 || len(view.Escalation.Pending) != 2 {
		t.Errorf("escalation = %+v", view.Escalation)
	}
	count := func(rs []twiliotest.Request) map[string]int {
		n := map[string]int{}
		for _, r := range rs {
			n[r.Form.Get("To")]++
		}
		return n
	}
	// Ana: the page, then at the 5-minute jump her SMS (2 min) and call (4 min) at once;
	// Carla: the page at 5, the call due at 7; Dora: SMS and call at 10. Once each.
	wantSMS := map[string]int{"+525500000003": 2, "+525500000002": 1, "+525500000001": 1}
	wantCalls := map[string]int{"+525500000003": 1, "+525500000002": 1, "+525500000001": 1}
	if got := count(fake.Messages()); !maps.Equal(got, wantSMS) {
		t.Errorf("SMS per number = %v, want %v", got, wantSMS)
		for _, m := range fake.Messages() {
			t.Logf("%s %s %.60s", m.Form.Get("To"), m.Form.Get("StatusCallback"), m.Form.Get("Body"))
		}
	}
	if got := count(fake.Calls()); !maps.Equal(got, wantCalls) {
		t.Errorf("calls per number = %v, want %v", got, wantCalls)
	}
	sentMsgs, sentCalls := len(fake.Messages()), len(fake.Calls())
	clk.skip(30 * time.Minute) // every reminder and step would be due by now
	settleEngines(t, time.Time{}, all...)
	if len(fake.Messages()) != sentMsgs || len(fake.Calls()) != sentCalls {
		t.Errorf("nagging went on after the acknowledgement: messages %v, calls %v\n%s", to(fake.Messages()[sentMsgs:]), to(fake.Calls()[sentCalls:]), logs)
	}
	if !strings.Contains(string(body), `"incident.escalated"`) {
		t.Errorf("the timeline lacks the escalations: %s", body)
	}
}

// Manual escalation through the API: a reason is required;
// a functional escalation pages the named team at once.
func TestManualEscalationThroughTheAPI(t *testing.T) {
	fake := twiliotest.New(t, twiliotest.Options{AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "0123456789abcdef0123456789abcdef"})
	const token = "manual-admin-token-0123456789"
	base, _ := startServer(t, map[string]string{
		"OPTIMUM_BOOTSTRAP_TOKEN": token, "OPTIMUM_PUBLIC_URL": public,
		"TWILIO_ACCOUNT_SID": fake.AccountSID(), "TWILIO_AUTH_TOKEN": fake.AuthToken(),
		"TWILIO_FROM": "+15005550006", "OPTIMUM_TWILIO_API_URL": fake.URL(),
	})
	api := client{t, base, token}
	api.do("POST", "/api/v1/people/import", "text/csv", "name,email,phone,language,teams,manager_email\n"+
		"Carla Continuidad,carla@example.com,+525500000002,es,continuity,\n")
	if status, body := api.do("POST", "/api/v1/incidents", "application/json", `{"title":"Fuga","impact":"high","urgency":"high","ladder":"nope"}`); status != 422 || !bytes.Contains(body, []byte(`"field":"ladder"`)) {
		t.Errorf("unknown ladder = %d %s", status, body)
	}
	_, body := api.do("POST", "/api/v1/incidents", "application/json", `{"title":"Fuga de datos","impact":"high","urgency":"high","teams":["technology"]}`)
	var inc struct{ ID string }
	json.Unmarshal(body, &inc)
	status, body := api.do("POST", "/api/v1/incidents/"+inc.ID+"/escalate", "application/json", `{"kind":"functional","to":"continuity"}`)
	if status != 422 || !bytes.Contains(body, []byte(`"field":"reason","message":"es obligatorio`)) {
		t.Errorf("without a reason = %d %s", status, body)
	}
	if len(fake.Messages()) != 0 {
		t.Fatalf("a refused escalation sent %d messages", len(fake.Messages()))
	}
	status, body = api.do("POST", "/api/v1/incidents/"+inc.ID+"/escalate", "application/json", `{"kind":"functional","to":"continuity","reason":"Activar el sitio alterno"}`)
	if status != 200 || !bytes.Contains(body, []byte(`"reason":"manual"`)) {
		t.Fatalf("escalate = %d %s", status, body)
	}
	eventually(t, "Carla's SMS", func() bool { return len(fake.Messages()) == 1 })
	status, body = api.do("PUT", "/api/v1/ladders/p2", "application/json", `{"id":"p2","name":{"es":"x","en":"x"},"steps":[{"targets":[{"team":"legal"}],"reminders":[{"after":"0s","channels":["sms"]}],"wait":"-5m"}]}`)
	if status != 422 || !bytes.Contains(body, []byte(`\"legal\" no es un equipo`)) || !bytes.Contains(body, []byte("steps[0].wait")) {
		t.Errorf("bad ladder = %d %s", status, body)
	}
	_, body = api.do("GET", "/api/v1/ladders/p2", "", "")
	if !bytes.Contains(body, []byte(`"source":"config"`)) {
		t.Errorf("the refused ladder changed the stored one: %s", body)
	}
}
