package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// A reporter who is in a safety poll's audience answers it in the web app: they list the
// incident, read what they need to answer (the incident and their own row, not the
// timeline or anyone else's answer) and record "necesito ayuda". The management views
// stay closed to them, and a reporter who was not alerted does not see the incident.
func TestReporterInAPollsAudienceAnswersInTheApp(t *testing.T) {
	storetest.Each(t, testReporterInAPollsAudienceAnswersInTheApp)
}

func testReporterInAPollsAudienceAnswersInTheApp(t *testing.T) {
	a, _ := newUserAPI(t, generous)
	if res := a.do("POST", "/api/v1/people/import", adminToken, "name,email,phone,language,teams,manager_email\n"+
		"Rita Reyes,rita@example.com,,es,operations,\n"+
		"Bruno Díaz,bruno@example.com,,es,operations,\n"+
		"Omar Ortiz,omar@example.com,,es,technology,\n", "Content-Type", "text/csv"); res.status != 200 {
		t.Fatalf("import = %d %s", res.status, res.body)
	}
	a.createUser("rita@example.com", "reporter")
	a.createUser("omar@example.com", "reporter")
	rita, omar := a.session("rita@example.com", password), a.session("omar@example.com", password)
	as := func(cookie string) []string { return []string{"Cookie", cookie} }

	var inc struct{ ID, Folio string }
	res := a.do("POST", "/api/v1/incidents", adminToken, map[string]any{"title": "Sismo de magnitud 7.1", "impact": "critical", "urgency": "critical",
		"location": "CDMX", "teams": []string{"operations"}, "safety_poll": true})
	if res.status != 201 {
		t.Fatalf("declare = %d %s", res.status, res.body)
	}
	res.json(t, &inc)

	var list []struct{ ID string }
	a.do("GET", "/api/v1/incidents", "", nil, as(rita)...).json(t, &list)
	if len(list) != 1 || list[0].ID != inc.ID {
		t.Errorf("Rita lists %+v, want the poll she was sent", list)
	}
	var view struct {
		ID         string
		SafetyPoll bool `json:"safety_poll"`
		Timeline   []any
		Recipients []struct{ Name, Safety string }
	}
	res = a.do("GET", "/api/v1/incidents/"+inc.Folio, "", nil, as(rita)...)
	if res.status != 200 {
		t.Fatalf("Rita reads the poll = %d %s", res.status, res.body)
	}
	res.json(t, &view)
	if view.ID != inc.ID || !view.SafetyPoll || len(view.Timeline) != 0 || len(view.Recipients) != 1 || view.Recipients[0].Name != "Rita Reyes" {
		t.Errorf("Rita's view = %s, want the incident and only her own row", res.body)
	}
	if res := a.do("POST", "/api/v1/incidents/"+inc.ID+"/ack", "", map[string]string{"safety": "help_needed"}, as(rita)...); res.status != 200 {
		t.Fatalf("Rita answers = %d %s", res.status, res.body)
	}
	res = a.do("GET", "/api/v1/incidents/"+inc.ID, "", nil, as(rita)...)
	res.json(t, &view)
	if len(view.Recipients) != 1 || view.Recipients[0].Safety != "help_needed" {
		t.Errorf("after answering, Rita's view = %s", res.body)
	}
	var full struct {
		Safety struct {
			HelpNeeded int `json:"help_needed"`
		}
	}
	a.do("GET", "/api/v1/incidents/"+inc.ID, adminToken, nil).json(t, &full)
	if full.Safety.HelpNeeded != 1 {
		t.Errorf("help needed = %d, want 1", full.Safety.HelpNeeded)
	}
	for _, path := range []string{"/messages", "/escalation"} {
		if res := a.do("GET", "/api/v1/incidents/"+inc.ID+path, "", nil, as(rita)...); res.status != 404 {
			t.Errorf("Rita GET …%s = %d, want 404 (a management view)", path, res.status)
		}
	}
	if res := a.do("POST", "/api/v1/incidents/"+inc.ID+"/transitions", "", map[string]string{"to": "investigating"}, as(rita)...); res.status != 403 {
		t.Errorf("Rita moves the incident = %d, want 403", res.status)
	}

	a.do("GET", "/api/v1/incidents", "", nil, as(omar)...).json(t, &list)
	if len(list) != 0 {
		t.Errorf("Omar lists %+v, want nothing", list)
	}
	if res := a.do("GET", "/api/v1/incidents/"+inc.ID, "", nil, as(omar)...); res.status != 404 {
		t.Errorf("Omar reads the poll = %d, want 404", res.status)
	}
	if res := a.do("POST", "/api/v1/incidents/"+inc.ID+"/ack", "", map[string]string{"safety": "safe"}, as(omar)...); res.status != 404 {
		t.Errorf("Omar answers = %d, want 404", res.status)
	}
	a.do("GET", "/api/v1/incidents/"+inc.ID, adminToken, nil).json(t, &full)
	if full.Safety.HelpNeeded != 1 {
		t.Errorf("after Omar's try, help needed = %d, want 1", full.Safety.HelpNeeded)
	}
}

func TestReporterInTheAudienceFollowsTheIncidentOnTheStream(t *testing.T) {
	storetest.Each(t, testReporterInTheAudienceFollowsTheIncidentOnTheStream)
}

// A reporter who was sent an incident may read and answer it (above); the live stream
// shows it to them too, live and on a replay with since, while a reporter who was not
// sent it sees nothing of it.
func testReporterInTheAudienceFollowsTheIncidentOnTheStream(t *testing.T) {
	a, _ := newUserAPI(t, generous)
	if res := a.do("POST", "/api/v1/people/import", adminToken, "name,email,phone,language,teams,manager_email\n"+
		"Rita Reyes,rita@example.com,,es,operations,\n"+
		"Omar Ortiz,omar@example.com,,es,technology,\n", "Content-Type", "text/csv"); res.status != 200 {
		t.Fatalf("import = %d %s", res.status, res.body)
	}
	a.createUser("rita@example.com", "reporter")
	a.createUser("omar@example.com", "reporter")
	rita, omar := a.session("rita@example.com", password), a.session("omar@example.com", password)
	ritaBoard, omarBoard := a.openStream("", rita, ""), a.openStream("", omar, "")

	declare := func(title string, teams ...string) {
		t.Helper()
		if res := a.do("POST", "/api/v1/incidents", adminToken, map[string]any{"title": title, "impact": "critical",
			"urgency": "critical", "location": "CDMX", "teams": teams, "safety_poll": true}); res.status != 201 {
			t.Fatalf("declare = %d %s", res.status, res.body)
		}
	}
	declare("Sismo en operaciones", "operations")
	if f := eventWithin(t, ritaBoard, 15*time.Second); f.Type != "incident.declared" || f.Incident.Title != "Sismo en operaciones" {
		t.Fatalf("Rita's board got %+v, want the incident she was sent", f)
	}
	// Omar was not sent it: the next thing his board sees is his own declaration, sent to
	// his team only (so not to Rita).
	if res := a.do("POST", "/api/v1/incidents", "", map[string]any{"title": "Omar's own", "impact": "low", "urgency": "low",
		"teams": []string{"technology"}}, "Cookie", omar, "Origin", a.srv.URL); res.status != 201 {
		t.Fatalf("Omar declares = %d %s", res.status, res.body)
	}
	if f := eventWithin(t, omarBoard, 15*time.Second); f.Incident.Title != "Omar's own" {
		t.Errorf("Omar's board got %+v, want only his own incident", f)
	}
	// A board that resumes from the start replays what Rita was sent.
	replay, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(a.srv.URL, "http")+"/api/v1/stream?since=0", http.Header{"Cookie": {rita}})
	if err != nil {
		t.Fatal(err)
	}
	defer replay.Close()
	found := false
	for {
		f := readFrame(t, replay)
		if f.Type == "stream.ready" {
			break
		}
		if f.Incident.Title == "Omar's own" {
			t.Errorf("Rita's replay shows Omar's incident: %+v", f)
		}
		found = found || f.Incident.Title == "Sismo en operaciones"
	}
	if !found {
		t.Error("Rita's replay misses the incident she was sent")
	}
}

// eventWithin reads past heartbeats to the next event, failing when none came within d
// (heartbeats alone would keep a per-frame deadline from ever expiring).
func eventWithin(t *testing.T, c *websocket.Conn, d time.Duration) streamFrame {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("no event within %s: %v", d, err)
		}
		var f streamFrame
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatalf("frame %s: %v", data, err)
		}
		if f.Type != "stream.heartbeat" {
			return f
		}
	}
}
