package incident_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast/chat"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// A team's chat channel hears of its incidents: the alert, the first acknowledgement
// (not every one), each update and the resolution, in the channel's language, a drill's
// marked first; a move to investigating, a second acknowledgement and other teams'
// incidents are not posted. A webhook gets the event types it subscribed to. Each event
// is queued once, however often the consumer runs.
func TestChatPostsFollowTheTeamsIncidents(t *testing.T) {
	storetest.Each(t, testChatPostsFollowTheTeamsIncidents)
}

func testChatPostsFollowTheTeamsIncidents(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	cfg := config.Default()
	if err := contacts.NewDirectory(d.db.Contacts(), nil).EnsureTeams(ctx, cfg.TeamInputs()); err != nil {
		t.Fatal(err)
	}
	teams := cfg.IncidentPolicy().DefaultTeams
	if len(cfg.Teams) < 2 {
		t.Fatalf("the default configuration has %d teams; the test needs two", len(cfg.Teams))
	}
	other := cfg.Teams[0].ID
	if slices.Contains(teams, other) {
		other = cfg.Teams[1].ID
	}
	store := d.db.Chat()
	mk := func(s chat.Subscription) string {
		t.Helper()
		got, err := store.CreateSubscription(ctx, s, chat.Credentials{URL: "https://example.com/x", Secret: chat.NewSecret()}, mia, t0)
		if err != nil {
			t.Fatal(err)
		}
		return got.ID
	}
	es := mk(chat.Subscription{Kind: chat.ChannelTeams, Name: "es", Team: teams[0], Language: "es"})
	en := mk(chat.Subscription{Kind: chat.ChannelSlack, Name: "en", Team: teams[0], Language: "en"})
	elsewhere := mk(chat.Subscription{Kind: chat.ChannelTeams, Name: "other", Team: other, Language: "es"})
	hook := mk(chat.Subscription{Kind: chat.ChannelWebhook, Name: "itsm", Events: []string{"incident.declared", "incident.update_posted"}, Language: "es"})

	decl := power()
	decl.Drill, decl.Teams = true, teams[:1]
	inc, _, err := d.svc.Declare(as(mia), decl, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []optimum.Actor{{ID: "tok_ana", Name: "Ana", Role: optimum.RoleResponder}, rosa} {
		if _, err := d.svc.Acknowledge(as(a), inc.ID, "web"); err != nil {
			t.Fatal(err)
		}
	}
	next := t0.Add(90 * time.Minute)
	if _, err := d.desk.PostUpdate(as(mia), inc.ID, incident.Update{Known: "El UPS aguanta 20 minutos", Doing: "Arrancamos la planta", NextUpdateAt: &next}); err != nil {
		t.Fatal(err)
	}
	for _, to := range []incident.Status{incident.StatusInvestigating, incident.StatusResolved} {
		if _, err := d.desk.Transition(as(mia), inc.ID, to, "Planta en marcha"); err != nil {
			t.Fatal(err)
		}
	}
	consumer := incident.NewChat(store, nil, incident.ChatOptions{PublicURL: "https://bcp.example/", Location: time.FixedZone("CST", -6*3600)})
	for range 3 {
		if _, err := consumer.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	f := inc.Folio
	want := map[string][]string{
		es: {
			"SIMULACRO · Alerta P1 · " + f + " · Corte de energía en el CPD principal",
			"SIMULACRO · Confirmado P1 · " + f + " · Corte de energía en el CPD principal",
			"SIMULACRO · Actualización P1 · " + f + " · Corte de energía en el CPD principal",
			"SIMULACRO · Resuelto P1 · " + f + " · Corte de energía en el CPD principal",
		},
		en: {
			"DRILL · Alert P1 · " + f + " · Corte de energía en el CPD principal",
			"DRILL · Acknowledged P1 · " + f + " · Corte de energía en el CPD principal",
			"DRILL · Update P1 · " + f + " · Corte de energía en el CPD principal",
			"DRILL · Resolved P1 · " + f + " · Corte de energía en el CPD principal",
		},
		elsewhere: nil,
		hook:      {"incident.declared", "incident.update_posted"},
	}
	for sub, titles := range want {
		posts, err := store.Posts(ctx, sub, 50)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range slices.Backward(posts) {
			got = append(got, p.Title)
		}
		if !slices.Equal(got, titles) {
			t.Errorf("subscription %s: posts\n%q\nwant\n%q", sub, got, titles)
		}
	}

	// What the Spanish channel's update says, and its button. Posts of a channel go one
	// at a time, in order: send each as it comes until the update's turn.
	var update chat.Post
	for range 10 {
		ds, err := store.Claim(ctx, "test", chat.ChannelTeams, time.Now(), time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 0 {
			break
		}
		for _, dl := range ds {
			var p chat.Post
			if err := json.Unmarshal([]byte(dl.Text), &p); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(p.Title, "Actualización") {
				update = p
			}
			if err := store.Sent(ctx, dl.DeliveryID, dl.Attempts, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if update.Text != "El UPS aguanta 20 minutos. Arrancamos la planta. Próxima actualización: 10:30." {
		t.Errorf("update text %q", update.Text)
	}
	if update.URL != "https://bcp.example/#/incidente/"+f || update.Button != "Abre el incidente" || !update.Drill {
		t.Errorf("update button %q → %q, drill %v", update.Button, update.URL, update.Drill)
	}
}

// Which event types a webhook subscription gets, stated by hand.
func TestWebhookWants(t *testing.T) {
	for _, c := range []struct {
		patterns []string
		typ      string
		want     bool
	}{
		{[]string{"incident.declared"}, "incident.declared", true},
		{[]string{"incident.declared"}, "incident.acknowledged", false},
		{[]string{"incident.*"}, "incident.transitioned", true},
		{[]string{"incident.*"}, "drill.started", false},
		{[]string{"incident.*"}, "incident.deliveries_progress", false},
		{[]string{"*"}, "incident.deliveries_progress", false},
		{[]string{"incident.deliveries_progress"}, "incident.deliveries_progress", true},
		{[]string{"*"}, "person.created", true},
		{[]string{"drill.*", "incident.declared"}, "drill.ended", true},
		{[]string{"incident.*"}, "incidentx.declared", false},
		{nil, "incident.declared", false},
	} {
		if got := incident.WebhookWants(c.patterns, c.typ); got != c.want {
			t.Errorf("WebhookWants(%q, %q) = %v, want %v", c.patterns, c.typ, got, c.want)
		}
	}
}
