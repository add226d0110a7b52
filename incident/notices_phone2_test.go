package incident_test

import (
	"context"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// Notices by SMS go to the number alerts go to first (docs/sites.md): a person whose
// first phone is unproved and whose second phone is proved gets the requester's folio
// and the update on the second.
func TestNoticesGoToTheProvedPhone(t *testing.T) { storetest.Each(t, testNoticesGoToTheProvedPhone) }

func testNoticesGoToTheProvedPhone(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	cfg := config.Default()
	dir := contacts.NewDirectory(db.Contacts(), nil)
	if err := dir.EnsureTeams(ctx, cfg.TeamInputs()); err != nil {
		t.Fatal(err)
	}
	team := cfg.IncidentPolicy().DefaultTeams[0]
	beto, err := dir.CreatePerson(ctx, contacts.PersonInput{Name: "Beto Avisado", Email: "beto@example.com", Phone: "+525587654321", Language: "es",
		Teams: []contacts.Membership{{Team: team, Role: "member"}}})
	if err != nil {
		t.Fatal(err)
	}
	const second = "+525511112222"
	manager := optimum.WithActor(ctx, optimum.Actor{ID: "usr_m", Name: "M", Role: optimum.RoleManager})
	if _, err := dir.UpdateProfile(manager, beto.ID, contacts.Profile{Phone: beto.Phone, Language: "es", Phone2: func() *string { s := second; return &s }()}); err != nil {
		t.Fatal(err)
	}
	ev := optimum.Event{Type: contacts.EventPersonUpdated, At: t0, Actor: &optimum.System, Data: []byte(`{}`)}
	if err := db.Contacts().PhoneVerified(ctx, beto.ID, second, t0, ev); err != nil {
		t.Fatal(err)
	}
	svc := incident.NewService(db.Incidents(), cfg.IncidentPolicy(), dir, func() time.Time { return t0 })
	desk := incident.NewDesk(svc, db.Desk(), incident.DeskOptions{PublicURL: "https://bcp.example"})
	notices := incident.NewNotices(db.Notices(), nil, incident.NoticeOptions{PublicURL: "https://bcp.example", Channels: []string{"sms"}})
	// Beto declares: he is the requester too (the folio by SMS).
	asBeto := optimum.WithActor(ctx, optimum.Actor{ID: beto.ID, Name: beto.Name, Role: optimum.RoleReporter, PersonID: beto.ID})
	inc, _, err := svc.Declare(asBeto, incident.Declaration{Title: "Sin luz", Impact: incident.High, Urgency: incident.High, Teams: []string{team}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := desk.PostUpdate(as(mia), inc.ID, incident.Update{Known: "Power is back", SMS: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := notices.Step(ctx); err != nil {
		t.Fatal(err)
	}
	sms, err := db.Deliveries().Claim(ctx, "test", "sms", time.Now().Add(time.Hour), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(sms) != 2 {
		t.Fatalf("%d SMS, want 2 (the requester's folio, the update)", len(sms))
	}
	for _, d := range sms {
		if d.Recipient != beto.ID || d.To != second {
			t.Errorf("SMS %q to %s (%s), want Beto's proved second phone %s", d.Text, d.To, d.Recipient, second)
		}
	}
}
