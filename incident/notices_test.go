package incident_test

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast/webpush"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// The requester (a directory person with a phone) gets the folio, a question and the
// conformity link by SMS; a stakeholder update reaches the audience by SMS only when it
// is flagged; each event is queued once, however often the consumer runs.
func TestNoticesReachTheRequesterAndTheAudience(t *testing.T) {
	storetest.Each(t, testNoticesReachTheRequesterAndTheAudience)
}

func testNoticesReachTheRequesterAndTheAudience(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t) // SQLite, or PostgreSQL inside storetest.Each
	cfg := config.Default()
	dir := contacts.NewDirectory(db.Contacts(), nil)
	if err := dir.EnsureTeams(ctx, cfg.TeamInputs()); err != nil {
		t.Fatal(err)
	}
	team := cfg.IncidentPolicy().DefaultTeams[0]
	var people []contacts.Person
	for _, in := range []contacts.PersonInput{
		{Name: "Rosa Reporta", Email: "rosa@example.com", Phone: "+525512345678", Language: "en", Teams: []contacts.Membership{{Team: team, Role: "member"}}},
		{Name: "Beto Avisado", Email: "beto@example.com", Phone: "+525587654321", Language: "es", Teams: []contacts.Membership{{Team: team, Role: "member"}}},
	} {
		p, err := dir.CreatePerson(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		people = append(people, p)
	}
	// Beto has a browser subscribed to push.
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	sub := webpush.Subscription{Endpoint: "https://push.example.com/send/beto", Keys: webpush.BrowserKeys{
		P256dh: base64.RawURLEncoding.EncodeToString(key.PublicKey().Bytes()), Auth: base64.RawURLEncoding.EncodeToString(auth)}}
	if _, _, err := db.Push().Save(ctx, people[1].ID, sub, "test"); err != nil {
		t.Fatal(err)
	}
	now := t0
	svc := incident.NewService(db.Incidents(), cfg.IncidentPolicy(), dir, func() time.Time { return now })
	desk := incident.NewDesk(svc, db.Desk(), incident.DeskOptions{PublicURL: "https://bcp.example"})
	notices := incident.NewNotices(db.Notices(), nil, incident.NoticeOptions{PublicURL: "https://bcp.example", Channels: []string{"sms", "webpush"}})
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
	next := now.Add(30 * time.Minute)
	if _, err := desk.PostUpdate(as(mia), inc.ID, incident.Update{Known: "Power is back", NextUpdateAt: &next}); err != nil {
		t.Fatal(err)
	}
	if _, err := desk.PostUpdate(as(mia), inc.ID, incident.Update{Known: "All clear", SMS: true}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := notices.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := db.Deliveries().SubjectDeliveries(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, d := range ds {
		who := "rosa"
		if d.Recipient == people[1].ID {
			who = "beto"
		}
		got[who+"/"+d.Channel]++
	}
	// Rosa (no browser): folio, question, conformity link and the flagged update by SMS.
	// Beto: both updates by push, the flagged one by SMS too.
	want := map[string]int{"rosa/sms": 4, "beto/webpush": 2, "beto/sms": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("deliveries %v, want %v", got, want)
	}
	// An update SMS is read alone, maybe days after the alert: it names the crisis and
	// its folio.
	sms, err := db.Deliveries().Claim(ctx, "test", "sms", time.Now().Add(time.Hour), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range sms {
		if d.Recipient == people[1].ID && (!strings.Contains(d.Text, "Sin luz en el piso 3") || !strings.Contains(d.Text, inc.Folio) || !strings.Contains(d.Text, "All clear")) {
			t.Errorf("update SMS %q does not name the crisis and its folio", d.Text)
		}
	}
	ms, _ := desk.Messages(ctx, inc.ID) // one frozen clock: same time, any order
	kinds := map[string]incident.Message{}
	for _, m := range ms {
		kinds[m.Kind] = m
	}
	if len(ms) != 3 || !strings.HasPrefix(kinds["folio"].Text, "We received your report") || !strings.HasPrefix(kinds["conformity"].URL, "https://bcp.example/c/") {
		t.Errorf("messages %+v: want three, in Rosa's English, the conformity one with her link", ms)
	}
}

// Assignment names an owner and resources from the directory; unknown people or teams
// are refused with nothing changed, and every change is an event that keeps the before.
func TestAssignmentKeepsOwnerAndResourcesInTheHistory(t *testing.T) {
	storetest.Each(t, testAssignmentKeepsOwnerAndResourcesInTheHistory)
}

func testAssignmentKeepsOwnerAndResourcesInTheHistory(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t) // SQLite, or PostgreSQL inside storetest.Each
	cfg := config.Default()
	dir := contacts.NewDirectory(db.Contacts(), nil)
	if err := dir.EnsureTeams(ctx, cfg.TeamInputs()); err != nil {
		t.Fatal(err)
	}
	team := cfg.IncidentPolicy().DefaultTeams[0]
	ana, err := dir.CreatePerson(ctx, contacts.PersonInput{Name: "Ana Dueña", Email: "ana@example.com", Language: "es", Teams: []contacts.Membership{{Team: team, Role: "lead"}}})
	if err != nil {
		t.Fatal(err)
	}
	svc := incident.NewService(db.Incidents(), cfg.IncidentPolicy(), dir, nil)
	desk := incident.NewDesk(svc, db.Desk(), incident.DeskOptions{})
	inc, _, err := svc.Declare(as(alice), power(), "")
	if err != nil {
		t.Fatal(err)
	}
	before, _ := svc.Timeline(ctx, inc.ID)
	_, err = desk.Assign(as(mia), inc.ID, incident.Assignment{Owner: ana.ID, People: []string{"per_nobody"}, Teams: []string{"no-such-team"}})
	if f := optimum.ErrorFields(err); optimum.ErrorCode(err) != optimum.EINVALID || len(f) != 2 {
		t.Fatalf("unknown person and team: %v, want two field errors", err)
	}
	if after, _ := svc.Timeline(ctx, inc.ID); len(after) != len(before) {
		t.Fatal("a refused assignment appended an event")
	}
	got, err := desk.Assign(as(mia), inc.ID, incident.Assignment{Owner: ana.ID, People: []string{ana.ID}, Teams: []string{team}, Note: "guardia"})
	if err != nil || got.Owner == nil || got.Owner.Name != "Ana Dueña" || len(got.Assigned) != 1 || got.AssignedTeams[0] != team {
		t.Fatalf("assign = %+v, %v", got.Work, err)
	}
	ev, _ := svc.Timeline(ctx, inc.ID)
	last := ev[len(ev)-1]
	if last.Type != incident.EventAssigned || !strings.Contains(string(last.Data), `"before"`) || !strings.Contains(string(last.Data), "guardia") {
		t.Errorf("last event %s %s", last.Type, last.Data)
	}
}
