package escalation_test

import (
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
)

// With a bridge open, every channel of the alert carries it: the call offers 2 (unless it
// asks the safety poll, where 2 is "necesito ayuda"), and SMS, push and email give the
// number and the PIN.
func TestAlertsCarryTheBridge(t *testing.T) {
	tpl, err := escalation.NewTemplates()
	if err != nil {
		t.Fatal(err)
	}
	inc := incident.Incident{Folio: "BCP-2026-000042", Priority: "P1", Title: "Caída del centro de datos", Status: incident.StatusDeclared,
		Bridge: &incident.Bridge{Number: "+15005550009", PIN: "482913", OpenedAt: time.Now()}}
	for _, c := range []struct {
		channel, lang string
		poll          bool
		want, not     []string
	}{
		{broadcast.ChannelVoice, "es", false, []string{"Marca 2 para unirte a la llamada de crisis."}, nil},
		{broadcast.ChannelVoice, "en", false, []string{"Press 2 to join the crisis call."}, nil},
		{broadcast.ChannelVoice, "es", true, nil, []string{"Marca 2"}},
		{broadcast.ChannelSMS, "es", false, []string{"Llamada de crisis: +15005550009 PIN 482913.", "BCP-2026-000042"}, nil},
		{broadcast.ChannelSMS, "en", false, []string{"Crisis call: +15005550009 PIN 482913."}, nil},
		{broadcast.ChannelWebPush, "es", false, []string{"Llamada de crisis: +15005550009, PIN 482913."}, nil},
		{broadcast.ChannelEmail, "es", false, []string{"Llamada de crisis: marca +15005550009 y el PIN 482913."}, nil},
		{broadcast.ChannelEmail, "en", false, []string{"Crisis call: dial +15005550009 and the PIN 482913."}, nil},
	} {
		i := inc
		i.SafetyPoll = c.poll
		m, err := tpl.Render(c.channel, c.lang, i, "https://bcp.example.test/a/"+strings.Repeat("x", 43))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(m.Text, w) {
				t.Errorf("%s/%s (poll %v): %q lacks %q", c.channel, c.lang, c.poll, m.Text, w)
			}
		}
		for _, w := range c.not {
			if strings.Contains(m.Text, w) {
				t.Errorf("%s/%s (poll %v): %q has %q", c.channel, c.lang, c.poll, m.Text, w)
			}
		}
	}
	// Without a bridge, none of it.
	for _, ch := range []string{broadcast.ChannelVoice, broadcast.ChannelSMS, broadcast.ChannelWebPush, broadcast.ChannelEmail} {
		i := inc
		i.Bridge = nil
		m, _ := tpl.Render(ch, "es", i, "https://bcp.example.test/a/x")
		if strings.Contains(m.Text, "llamada de crisis") || strings.Contains(m.Text, "Llamada de crisis") {
			t.Errorf("%s without a bridge: %q", ch, m.Text)
		}
	}
}
