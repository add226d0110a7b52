package incident_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// An update SMS to a no-link country (Mexico, 52) carries no link; one to Spain still
// carries the incident page's.
func TestUpdateSMSToANoLinkCountryHasNoLink(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	cfg := config.Default()
	dir := contacts.NewDirectory(db.Contacts(), nil)
	if err := dir.EnsureTeams(ctx, cfg.TeamInputs()); err != nil {
		t.Fatal(err)
	}
	team := cfg.IncidentPolicy().DefaultTeams[0]
	phones := map[string]string{}
	for _, in := range []contacts.PersonInput{
		{Name: "Beto Avisado", Email: "beto@example.com", Phone: "+525587654321", Language: "es", Teams: []contacts.Membership{{Team: team, Role: "member"}}},
		{Name: "Eva Aviso", Email: "eva@example.com", Phone: "+34612345678", Language: "es", Teams: []contacts.Membership{{Team: team, Role: "member"}}},
	} {
		p, err := dir.CreatePerson(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		phones[p.ID] = in.Phone
	}
	svc := incident.NewService(db.Incidents(), cfg.IncidentPolicy(), dir, func() time.Time { return t0 })
	desk := incident.NewDesk(svc, db.Desk(), incident.DeskOptions{PublicURL: "https://bcp.example"})
	notices := incident.NewNotices(db.Notices(), nil, incident.NoticeOptions{PublicURL: "https://bcp.example", Channels: []string{"sms"},
		SMSNoLinkCountries: []string{"52"}})
	inc, _, err := svc.Declare(as(mia), incident.Declaration{Title: "Sin luz en el piso 3", Impact: incident.High, Urgency: incident.High, Teams: []string{team}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := desk.PostUpdate(as(mia), inc.ID, incident.Update{Known: "Ya hay luz", SMS: true}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := notices.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	sms, err := db.Deliveries().Claim(ctx, "test", "sms", time.Now().Add(time.Hour), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{} // phone -> has the page link
	for _, d := range sms {
		got[phones[d.Recipient]] = strings.Contains(d.Text, "https://bcp.example/#/incidente/"+inc.Folio)
		if phones[d.Recipient] == "+525587654321" && (strings.Contains(d.Text, "https://") || d.URL != "") {
			t.Errorf("Mexico's update SMS %q (URL %q) carries a link", d.Text, d.URL)
		}
	}
	if len(got) != 2 || got["+525587654321"] || !got["+34612345678"] {
		t.Errorf("update SMS with the page link by phone = %v, want only Spain's", got)
	}
}
