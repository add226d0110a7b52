package escalation_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

var admin = optimum.WithActor(context.Background(), optimum.Actor{ID: "tok_admin", Name: "Admin", Role: optimum.RoleAdmin})

type world struct {
	db        *store.DB
	incidents *incident.Service
	notifier  *escalation.Engine
}

func newWorld(t *testing.T, channels ...string) *world {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t) // SQLite, or PostgreSQL inside storetest.Each
	cfg := config.Default()
	dir := contacts.NewDirectory(db.Contacts(), nil)
	if err := dir.EnsureTeams(ctx, cfg.TeamInputs()); err != nil {
		t.Fatal(err)
	}
	rows, _ := contacts.ParseCSV(strings.NewReader("name,email,phone,language,teams,manager_email,active\n" +
		"Ana,ana@example.com,+525512345678,es,technology,,\n" +
		"Bob,bob@example.com,+34612345678,en,technology,,\n" +
		"Cy,cy@example.com,,es,technology,,\n" + // no phone: nothing to send by SMS
		"Dee,dee@example.com,+525587654321,es,operations,,\n")) // not in the audience
	if _, err := dir.Import(admin, rows, nil, nil, false); err != nil {
		t.Fatal(err)
	}
	tpl, err := escalation.NewTemplates()
	if err != nil {
		t.Fatal(err)
	}
	return &world{
		db:        db,
		incidents: incident.NewService(db.Incidents(), cfg.IncidentPolicy(), dir, nil),
		notifier:  escalation.New(db.Escalation(), tpl, nil, escalation.Options{PublicURL: "https://bcp.example.com", Channels: channels}),
	}
}

func (w *world) declare(t *testing.T, title string, drill bool) incident.Incident {
	t.Helper()
	inc, _, err := w.incidents.Declare(admin, incident.Declaration{Title: title, Impact: "critical", Urgency: "critical", Location: "CDMX", Teams: []string{"technology"}, Drill: drill}, "")
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

// claimAll takes every queued delivery as a dispatcher would.
func (w *world) claimAll(t *testing.T) []broadcast.Delivery {
	t.Helper()
	ds, err := w.db.Deliveries().Claim(context.Background(), "test", "sms", time.Now(), time.Minute, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestDeclaredIncidentQueuesOneSMSPerReachablePerson(t *testing.T) {
	storetest.Each(t, testDeclaredIncidentQueuesOneSMSPerReachablePerson)
}

func testDeclaredIncidentQueuesOneSMSPerReachablePerson(t *testing.T) {
	w := newWorld(t, broadcast.ChannelWebPush, broadcast.ChannelSMS)
	inc := w.declare(t, "Corte de energía en el CPD", false)
	if n, err := w.notifier.Consume(context.Background()); err != nil || n == 0 {
		t.Fatalf("step = %d, %v", n, err)
	}
	ds := w.claimAll(t)
	if len(ds) != 2 {
		t.Fatalf("deliveries = %d, want 2 (Ana and Bob by SMS; Cy has no phone, Dee is not in the audience)", len(ds))
	}
	byLang := map[string]broadcast.Delivery{}
	for _, d := range ds {
		byLang[d.Language] = d
		if d.Subject != inc.ID || d.Channel != broadcast.ChannelSMS || !strings.HasPrefix(d.URL, "https://bcp.example.com/a/") {
			t.Errorf("delivery = %+v", d)
		}
		if !strings.Contains(d.Text, inc.Folio) || !strings.Contains(d.Text, d.URL) {
			t.Errorf("text %q lacks the folio or the link", d.Text)
		}
	}
	if es := byLang["es"].Text; !strings.HasPrefix(es, "P1 Corte de energía en el CPD, CDMX") || !strings.Contains(es, "Confirma: responde 1 o entra a ") {
		t.Errorf("Spanish SMS = %q", es)
	}
	if en := byLang["en"].Text; !strings.HasPrefix(en, "P1 Corte de energía en el CPD, CDMX") || !strings.Contains(en, "Acknowledge: reply 1 or open ") {
		t.Errorf("English SMS = %q", en)
	}
	// Processing again queues nothing more: the cursor moved with the deliveries.
	if n, _ := w.notifier.Consume(context.Background()); n != 0 {
		t.Errorf("second step processed %d events", n)
	}
	if ds := w.claimAll(t); len(ds) != 0 {
		t.Errorf("queued again: %d", len(ds))
	}
}

func TestDrillMessagesSayDrillFirst(t *testing.T) {
	storetest.Each(t, testDrillMessagesSayDrillFirst)
}

func testDrillMessagesSayDrillFirst(t *testing.T) {
	w := newWorld(t, broadcast.ChannelSMS)
	w.declare(t, "Sismo", true)
	w.notifier.Consume(context.Background())
	for _, d := range w.claimAll(t) {
		if !strings.HasPrefix(d.Text, "SIMULACRO") && !strings.HasPrefix(d.Text, "DRILL") {
			t.Errorf("drill SMS = %q", d.Text)
		}
	}
}

// The link in each message acknowledges as that person, once, from any number of taps.
func TestAckLinkAcknowledgesAsItsPerson(t *testing.T) {
	storetest.Each(t, testAckLinkAcknowledgesAsItsPerson)
}

func testAckLinkAcknowledgesAsItsPerson(t *testing.T) {
	w := newWorld(t, broadcast.ChannelSMS)
	inc := w.declare(t, "Ransomware", false)
	w.notifier.Consume(context.Background())
	token, _ := sentLink(t, w, escalation.NewLinks(w.db.Escalation(), time.Hour, nil), "en")
	got, l, err := w.incidents.AcknowledgeByLink(context.Background(), token, "link")
	if err != nil || l.Name != "Bob" || got.Status != incident.StatusAcknowledged || got.AckCount != 1 {
		t.Fatalf("ack = %+v %+v %v", got, l, err)
	}
	again, _, err := w.incidents.AcknowledgeByLink(context.Background(), token, "link")
	if err != nil || again.AckCount != 1 {
		t.Errorf("second tap = %+v %v", again, err)
	}
	rs, _ := w.incidents.Recipients(context.Background(), inc.ID)
	for _, r := range rs {
		if (r.Name == "Bob") != (r.AcknowledgedAt != nil) {
			t.Errorf("recipient %s acknowledged_at = %v", r.Name, r.AcknowledgedAt)
		}
		if r.Name == "Bob" && (len(r.Deliveries) != 1 || r.Deliveries[0].Channel != "sms" || r.Channel != "link") {
			t.Errorf("Bob = %+v", r)
		}
	}
	for _, bad := range []string{"", "nope", strings.Repeat("x", 200), token + "x"} {
		if _, _, err := w.incidents.AcknowledgeByLink(context.Background(), bad, "link"); optimum.ErrorCode(err) != optimum.ENOTFOUND {
			t.Errorf("token %q: %v", bad, err)
		}
	}
}
