package escalation_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// With an email sender, the alert of a drill goes to every person's address with the
// drill word first, a reminder says so after it, and the queued message keeps only the
// slot of the one-tap link (minted when sent), marked as the email's.
func TestEmailAlertsAndReminders(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		cfg := config.Default()
		// The first step's reminder at 2 minutes goes by email instead of SMS.
		cfg.Escalation.Ladders[0].Steps[0].Reminders[1].Channels = []string{"email"}
		e := &env{t: t, opener: open, clock: &clock{t: t0}, cfg: cfg}
		e.open("engine-a")
		tpl, err := escalation.NewTemplates()
		if err != nil {
			t.Fatal(err)
		}
		e.engine = escalation.New(e.db.Escalation(), tpl, nil, escalation.Options{
			PublicURL: "https://bcp.example.com", Channels: []string{"email"}, Owner: "engine-a", Now: e.clock.Now,
		})
		rows, err := contacts.ParseCSV(strings.NewReader(org))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.dir.Import(admin, rows, nil, nil, false); err != nil {
			t.Fatal(err)
		}
		if err := e.ladders.Seed(context.Background(), cfg.Escalation.Ladders); err != nil {
			t.Fatal(err)
		}
		d := p1
		d.Drill = true
		e.declare(d)
		first := e.claimAt(t0)
		to := map[string]string{}
		for _, m := range first {
			to[m.To] = m.Language
			if m.Channel != "email" || m.URL != "https://bcp.example.com/a/{one-tap-link}?via=email" {
				t.Errorf("alert to %s: channel %s, URL %q", m.To, m.Channel, m.URL)
			}
			want := map[string][2]string{
				"es": {"SIMULACRO · P1 ", "SIMULACRO. Esto es un ejercicio: actúa como si fuera real.\n\nIncidente "},
				"en": {"DRILL · P1 ", "DRILL. This is an exercise: act as if it were real.\n\nIncident "},
			}[m.Language]
			if !strings.HasPrefix(m.Title, want[0]) || !strings.HasPrefix(m.Text, want[1]) || !strings.HasSuffix(m.Title, ": Caída del centro de datos") {
				t.Errorf("alert to %s (%s): %q / %q", m.To, m.Language, m.Title, m.Text)
			}
			if err := e.db.Deliveries().Sent(context.Background(), m.DeliveryID, m.Attempts, t0); err != nil {
				t.Fatal(err)
			}
		}
		// The technology team, Ana (lead, Spanish) and Bob (English), and the step's
		// targets, the leads: Ana and Ed (operations, English).
		if len(to) != 3 || to["ana@example.com"] != "es" || to["bob@example.com"] != "en" || to["ed@example.com"] != "en" {
			t.Fatalf("alerts went to %v", to)
		}
		e.at(2 * time.Minute)
		again := e.claimAt(e.clock.Now())
		if len(again) == 0 {
			t.Fatal("no reminder by email")
		}
		for _, m := range again {
			if !strings.HasPrefix(m.Title, "SIMULACRO · RECORDATORIO: P1 ") && !strings.HasPrefix(m.Title, "DRILL · REMINDER: P1 ") {
				t.Errorf("reminder subject %q", m.Title)
			}
			if !strings.HasPrefix(m.Text, "SIMULACRO. RECORDATORIO: Esto es") && !strings.HasPrefix(m.Text, "DRILL. REMINDER: This is") {
				t.Errorf("reminder text %q", m.Text)
			}
		}
	})
}
