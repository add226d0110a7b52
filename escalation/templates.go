package escalation

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/incident"
)

// Templates render an incident's alert per channel and language. Every message leads
// with the crisis (priority, title, place) and ends with the call to action, so that a
// lock screen shows what happened; a drill says so in its first word ("SIMULACRO" /
// "DRILL"). An SMS is fitted into one segment (sms.go).
type Templates struct {
	set map[string]*template.Template // key: channel + "/" + lang + "/" + part
	sms SMSAlphabet
}

// defaultTemplates are the built-in texts, part by part: title and text.
var defaultTemplates = map[string]string{
	"webpush/es/title": `{{if .Drill}}SIMULACRO · {{end}}{{.Priority}} {{.Folio}}: {{.Title}}`,
	"webpush/en/title": `{{if .Drill}}DRILL · {{end}}{{.Priority}} {{.Folio}}: {{.Title}}`,
	"webpush/es/text":  `{{if .Drill}}SIMULACRO. {{end}}{{with .Location}}{{.}}. {{end}}{{with .Summary}}{{.}} {{end}}{{if .SafetyPoll}}¿Estás a salvo? Elige una respuesta.{{else}}Confirma recepción.{{end}}{{with .Bridge}} Llamada de crisis: {{.Number}}, PIN {{.PIN}}.{{end}}`,
	"webpush/en/text":  `{{if .Drill}}DRILL. {{end}}{{with .Location}}{{.}}. {{end}}{{with .Summary}}{{.}} {{end}}{{if .SafetyPoll}}Are you safe? Choose an answer.{{else}}Please acknowledge.{{end}}{{with .Bridge}} Crisis call: {{.Number}}, PIN {{.PIN}}.{{end}}`,
	"voice/es/title":   `{{if .Drill}}Esto es un simulacro. {{end}}Alerta de crisis de OPTIMUM, prioridad {{.PriorityWords}}.`,
	"voice/en/title":   `{{if .Drill}}This is a drill. {{end}}OPTIMUM crisis alert, priority {{.PriorityWords}}.`,
	"voice/es/text":    `{{.Title}}.{{with .Location}} Ubicación: {{.}}.{{end}}{{with index .Messages "es"}} {{.}}{{end}} Folio {{.FolioWords}}.{{if and .Bridge (not .SafetyPoll)}} Marca 2 para unirte a la llamada de crisis.{{end}}`,
	"voice/en/text":    `{{.Title}}.{{with .Location}} Location: {{.}}.{{end}}{{with index .Messages "en"}} {{.}}{{end}} Reference {{.FolioWords}}.{{if and .Bridge (not .SafetyPoll)}} Press 2 to join the crisis call.{{end}}`,

	// An email's subject is the push title; its text is read in full, paragraph by
	// paragraph (blank lines), with the link as a button (broadcast/email).
	"email/es/title": `{{if .Drill}}SIMULACRO · {{end}}{{.Priority}} {{.Folio}}: {{.Title}}`,
	"email/en/title": `{{if .Drill}}DRILL · {{end}}{{.Priority}} {{.Folio}}: {{.Title}}`,
	"email/es/text": `{{if .Drill}}SIMULACRO. Esto es un ejercicio: actúa como si fuera real.

{{end}}Incidente {{.Folio}}, prioridad {{.Priority}}: {{.Title}}.{{with .Location}}

Ubicación: {{.}}.{{end}}{{with .Summary}}

{{.}}{{end}}

{{if .SafetyPoll}}¿Estás a salvo? Abre el enlace y elige una respuesta.{{else}}Confirma que lo recibiste: abre el enlace y pulsa el botón.{{end}}{{with .Bridge}}

Llamada de crisis: marca {{.Number}} y el PIN {{.PIN}}.{{end}}`,
	"email/en/text": `{{if .Drill}}DRILL. This is an exercise: act as if it were real.

{{end}}Incident {{.Folio}}, priority {{.Priority}}: {{.Title}}.{{with .Location}}

Location: {{.}}.{{end}}{{with .Summary}}

{{.}}{{end}}

{{if .SafetyPoll}}Are you safe? Open the link and choose an answer.{{else}}Acknowledge that you got it: open the link and press the button.{{end}}{{with .Bridge}}

Crisis call: dial {{.Number}} and the PIN {{.PIN}}.{{end}}`,
}

// ackLabel is the push action's button, per language.
var ackLabel = map[string]string{"es": "Confirmar recepción", "en": "Acknowledge"}

// Safety-poll answers as push buttons (and, for a call, the keys 1 and 2), per language.
// The action ids are the answers the one-tap link takes.
var pollLabels = map[string][2]string{"es": {"Estoy a salvo", "Necesito ayuda"}, "en": {"I am safe", "I need help"}}

// PollActions are the two answers of a safety poll, in the person's language.
func PollActions(lang string) []broadcast.Action {
	if lang != "en" {
		lang = "es"
	}
	l := pollLabels[lang]
	return []broadcast.Action{{ID: incident.SafetySafe, Title: l[0]}, {ID: incident.SafetyHelpNeeded, Title: l[1]}}
}

// NewTemplates parses the built-in templates.
func NewTemplates() (*Templates, error) {
	t := &Templates{set: map[string]*template.Template{}, sms: plainAlphabet{}}
	for k, src := range defaultTemplates {
		tpl, err := template.New(k).Option("missingkey=error").Parse(src)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", k, err)
		}
		t.set[k] = tpl
	}
	return t, nil
}

// templateData is what a template sees.
type templateData struct {
	incident.Incident
	Link          string
	Summary       string
	PriorityWords string
	FolioWords    string
}

// Render returns the message of an incident for a channel in a language (Spanish unless
// the person asked for English).
func (t *Templates) Render(channel, lang string, inc incident.Incident, link string) (broadcast.Message, error) {
	return t.render(channel, lang, inc, link, false)
}

// RenderReminder is Render for a reminder: an SMS says so after the drill word, fitted
// into its segment with the rest (push and calls are marked by markReminder).
func (t *Templates) RenderReminder(channel, lang string, inc incident.Incident, link string) (broadcast.Message, error) {
	return t.render(channel, lang, inc, link, true)
}

func (t *Templates) render(channel, lang string, inc incident.Incident, link string, reminder bool) (broadcast.Message, error) {
	if lang != "en" {
		lang = "es"
	}
	summary := inc.Description
	if m := inc.Messages[lang]; m != "" {
		summary = m // the declarer's (or the scenario template's) words for the audience
	}
	d := templateData{Incident: inc, Link: link, Summary: clip(summary, 300),
		PriorityWords: strings.TrimPrefix(string(inc.Priority), "P"), FolioWords: spell(inc.Folio)}
	m := broadcast.Message{Language: lang, URL: link}
	if channel == broadcast.ChannelSMS {
		m.Text = t.smsText(lang, inc, link, reminder)
	}
	for part, dst := range map[string]*string{"title": &m.Title, "text": &m.Text} {
		tpl, ok := t.set[channel+"/"+lang+"/"+part]
		if !ok {
			continue
		}
		var b bytes.Buffer
		if err := tpl.Execute(&b, d); err != nil {
			return m, fmt.Errorf("render %s/%s/%s: %w", channel, lang, part, err)
		}
		*dst = strings.TrimSpace(b.String())
	}
	if inc.Canary {
		canaryLabel(&m)
	}
	switch {
	case inc.SafetyPoll && (channel == broadcast.ChannelWebPush || channel == broadcast.ChannelVoice || channel == broadcast.ChannelEmail):
		// Push shows two buttons; a call asks for 1 or 2 instead of "1 to acknowledge".
		m.Actions = PollActions(lang)
	case channel == broadcast.ChannelWebPush || channel == broadcast.ChannelEmail:
		// An email's one action names the button to the link's page (broadcast/email).
		m.Actions = []broadcast.Action{{ID: "ack", Title: ackLabel[lang]}}
	}
	return m, nil
}

// spell separates a folio's characters so a voice reads them one by one.
func spell(folio string) string {
	var b strings.Builder
	for _, r := range folio {
		if r == '-' {
			b.WriteString(", ")
			continue
		}
		b.WriteRune(r)
		b.WriteByte(' ')
	}
	return strings.TrimSpace(b.String())
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
