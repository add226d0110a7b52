package escalation

import (
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/incident"
)

// A scenario's message reaches each person in their own language: the push text and the
// call say it; without one the push falls back to the description and the call to the
// title alone.
func TestAudienceMessagesAreSaidInEachPersonsLanguage(t *testing.T) {
	tpl, err := NewTemplates()
	if err != nil {
		t.Fatal(err)
	}
	inc := incident.Incident{Folio: "BCP-2026-000007", Priority: "P1", Title: "Sismo", Description: "Sismo percibido en CDMX.",
		Messages: map[string]string{"es": "Sigue las rutas de evacuación.", "en": "Follow the evacuation routes."}}
	for _, c := range []struct{ channel, lang, want string }{
		{broadcast.ChannelWebPush, "es", "Sigue las rutas de evacuación."},
		{broadcast.ChannelWebPush, "en", "Follow the evacuation routes."},
		{broadcast.ChannelVoice, "es", "Sismo. Sigue las rutas de evacuación. Folio"},
		{broadcast.ChannelVoice, "en", "Sismo. Follow the evacuation routes. Reference"},
	} {
		m, err := tpl.Render(c.channel, c.lang, inc, "https://x.test/a/t")
		if err != nil || !strings.Contains(m.Text, c.want) {
			t.Errorf("%s/%s: %q, %v; want it to contain %q", c.channel, c.lang, m.Text, err, c.want)
		}
	}
	inc.Messages = nil
	push, err := tpl.Render(broadcast.ChannelWebPush, "es", inc, "https://x.test/a/t")
	voice, err2 := tpl.Render(broadcast.ChannelVoice, "es", inc, "https://x.test/a/t")
	if err != nil || err2 != nil || !strings.Contains(push.Text, "Sismo percibido en CDMX.") || !strings.HasPrefix(voice.Text, "Sismo. Folio") {
		t.Errorf("without messages: push %q (%v), voice %q (%v)", push.Text, err, voice.Text, err2)
	}
}
