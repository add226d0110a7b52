package escalation_test

import (
	"context"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/twilio"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// The call to action of an alert SMS, per language and poll, written here by hand.
var wantCTA = map[string][2]string{
	"es": {"Confirma: responde 1 o entra a ", "¿Estas a salvo? Responde 1 = si, 2 = ayuda, o "},
	"en": {"Acknowledge: reply 1 or open ", "Are you safe? Reply 1 = safe, 2 = help, or "},
}

// For the seven scenario templates' titles, in both languages, real or drill, first
// alert or reminder: the SMS leads with the priority and the title, names the folio,
// ends with the whole call to action and the link, is all GSM-7 and fits one segment
// (the title is what gives way). Push and calls keep the same order: the crisis first.
func TestAlertsLeadWithTheCrisisAndFitOneSegment(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	svc := incident.NewService(db.Incidents(), config.Default().IncidentPolicy(), nil, nil)
	scenarios, err := incident.NewDesk(svc, db.Desk(), incident.DeskOptions{}).Templates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(scenarios) != 7 {
		t.Fatalf("%d scenario templates, want the seven built-in ones", len(scenarios))
	}
	tpl, err := escalation.NewTemplates()
	if err != nil {
		t.Fatal(err)
	}
	tpl.SetSMSAlphabet(twilio.Alphabet{})
	const public = "https://alertas.example-corp.com.mx"
	link := public + "/a/" + escalation.LinkSlot
	const token = "Ab3dEf5hJk7mNp" // what Links.Prepare puts in the slot
	for _, sc := range scenarios {
		for _, lang := range []string{"es", "en"} {
			for _, place := range []string{"Torre Reforma 250, piso 12", "Planta Querétaro, nave 3, andén de carga norte junto a la subestación eléctrica"} {
				for _, drill := range []bool{false, true} {
					inc := incident.Incident{Folio: "BCP-2026-000042", Priority: "P1", Title: sc.Texts[lang].Title + place,
						Location: "Ciudad de México", Drill: drill, SafetyPoll: sc.SafetyPoll,
						Messages: map[string]string{lang: sc.Texts[lang].Message}}
					for _, reminder := range []bool{false, true} {
						render := tpl.Render
						if reminder {
							render = tpl.RenderReminder
						}
						m, err := render(broadcast.ChannelSMS, lang, inc, link)
						if err != nil {
							t.Fatal(err)
						}
						sent := strings.ReplaceAll(m.Text, escalation.LinkSlot, token)
						lead := "P1 "
						if reminder {
							lead = map[string]string{"es": "RECORDATORIO: ", "en": "REMINDER: "}[lang] + lead
						}
						if drill {
							lead = map[string]string{"es": "SIMULACRO. ", "en": "DRILL. "}[lang] + lead
						}
						cta := wantCTA[lang][0]
						if sc.SafetyPoll {
							cta = wantCTA[lang][1]
						}
						firstWord := strings.TrimRight(twilio.Transliterate(strings.Fields(sc.Texts[lang].Title)[0]), ":,.")
						enc, n := twilio.Segments(sent)
						switch {
						case !strings.HasPrefix(sent, lead+firstWord):
							t.Errorf("%s/%s: does not lead with %q: %q", sc.ID, lang, lead+firstWord, sent)
						case !strings.HasSuffix(sent, cta+public+"/a/"+token):
							t.Errorf("%s/%s: does not end with the whole call to action and link: %q", sc.ID, lang, sent)
						case !strings.Contains(sent, "(BCP-2026-000042). "):
							t.Errorf("%s/%s: no folio: %q", sc.ID, lang, sent)
						case !twilio.IsGSM7(sent) || enc != "GSM-7" || n != 1:
							t.Errorf("%s/%s (drill %v, reminder %v): %s in %d segments (%d characters): %q", sc.ID, lang, drill, reminder, enc, n, len([]rune(sent)), sent)
						}
					}
					push, _ := tpl.Render(broadcast.ChannelWebPush, lang, inc, link)
					voice, _ := tpl.Render(broadcast.ChannelVoice, lang, inc, link)
					pushCTA := map[string][2]string{"es": {"Confirma recepción.", "¿Estás a salvo? Elige una respuesta."}, "en": {"Please acknowledge.", "Are you safe? Choose an answer."}}[lang]
					want := pushCTA[0]
					if sc.SafetyPoll {
						want = pushCTA[1]
					}
					if !strings.Contains(push.Title, "P1 BCP-2026-000042: "+sc.Texts[lang].Title) || !strings.HasSuffix(push.Text, want) ||
						!strings.HasPrefix(voice.Text, sc.Texts[lang].Title) || !strings.Contains(voice.Title, "1") {
						t.Errorf("%s/%s: push %q / %q, voice %q / %q", sc.ID, lang, push.Title, push.Text, voice.Title, voice.Text)
					}
				}
			}
		}
	}
}
