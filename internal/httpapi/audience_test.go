package httpapi_test

import (
	"testing"

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
