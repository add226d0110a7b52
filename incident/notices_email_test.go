package incident_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// With email configured, everything the requester is told (folio, question, conformity
// link) and every stakeholder update, flagged for SMS or not, also goes by email, in
// the person's language, with the link.
func TestNoticesGoByEmail(t *testing.T) {
	storetest.Each(t, testNoticesGoByEmail)
}

func testNoticesGoByEmail(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	cfg := config.Default()
	dir := contacts.NewDirectory(db.Contacts(), nil)
	if err := dir.EnsureTeams(ctx, cfg.TeamInputs()); err != nil {
		t.Fatal(err)
	}
	team := cfg.IncidentPolicy().DefaultTeams[0]
	var people []contacts.Person
	for _, in := range []contacts.PersonInput{
		{Name: "Rosa Reporta", Email: "rosa@example.com", Language: "en", Teams: []contacts.Membership{{Team: team, Role: "member"}}},
		{Name: "Beto Avisado", Email: "beto@example.com", Language: "es", Teams: []contacts.Membership{{Team: team, Role: "member"}}},
	} {
		p, err := dir.CreatePerson(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		people = append(people, p)
	}
	now := t0
	svc := incident.NewService(db.Incidents(), cfg.IncidentPolicy(), dir, func() time.Time { return now })
	desk := incident.NewDesk(svc, db.Desk(), incident.DeskOptions{PublicURL: "https://bcp.example"})
	notices := incident.NewNotices(db.Notices(), nil, incident.NoticeOptions{PublicURL: "https://bcp.example", Channels: []string{"email"}})
	rosa := optimum.WithActor(ctx, optimum.Actor{ID: people[0].ID, Name: people[0].Name, Role: optimum.RoleReporter, PersonID: people[0].ID})
	inc, _, err := svc.Declare(rosa, incident.Declaration{Title: "Sin luz en el piso 3", Impact: incident.High, Urgency: incident.High, Teams: []string{team}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := desk.AskRequester(as(mia), inc.ID, "Which room?"); err != nil {
		t.Fatal(err)
	}
	for _, to := range []incident.Status{incident.StatusInvestigating, incident.StatusResolved} {
		if _, err := desk.Transition(as(mia), inc.ID, to, "breaker replaced"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := desk.PostUpdate(as(mia), inc.ID, incident.Update{Known: "Power is back"}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := notices.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mails, err := db.Deliveries().Claim(ctx, "test", "email", time.Now().Add(time.Hour), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	var texts []string
	for _, d := range mails {
		switch d.Recipient {
		case people[0].ID:
			got["rosa/"+d.To+"/"+d.Language]++
			texts = append(texts, d.Title+" | "+d.Text+" | "+d.URL)
		case people[1].ID:
			got["beto/"+d.To+"/"+d.Language]++
		}
	}
	// Rosa: folio, question, conformity link, the update; Beto: the update.
	want := map[string]int{"rosa/rosa@example.com/en": 4, "beto/beto@example.com/es": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("emails %v, want %v", got, want)
	}
	all := strings.Join(texts, "\n")
	for _, s := range []string{"OPTIMUM · " + inc.Folio, "We received your report", "Which room?", "https://bcp.example/c/", "Update " + inc.Folio, "Power is back"} {
		if !strings.Contains(all, s) {
			t.Errorf("Rosa's emails lack %q:\n%s", s, all)
		}
	}
}
