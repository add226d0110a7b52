package httpapi

import (
	"html/template"
	"net/http"

	"github.com/optimum-bcp/optimum/incident"
)

var ackPage = template.Must(template.New("ack").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>OPTIMUM BCP — {{.Inc.Folio}}</title>
<link rel="stylesheet" href="/app.css"></head>
<body class="ack-page"><main class="ack">
{{if .Inc.Drill}}<p class="drill">{{.T.drill}}</p>{{end}}
<p class="ack-folio">{{.Inc.Priority}} · {{.Inc.Folio}}</p>
<h1>{{.Inc.Title}}</h1>
{{with .Inc.Location}}<p class="ack-place">{{.}}</p>{{end}}
{{with .Message}}<p class="ack-message" data-testid="ack-message">{{.}}</p>{{end}}
<p>{{.T.hello}} {{.Name}}.</p>
{{if not .Done}}<p class="ack-instructions">{{if .Inc.SafetyPoll}}{{.T.poll_how}}{{else}}{{.T.how}}{{end}}</p>{{end}}
{{if .Done}}<p class="ack-done" role="status">{{if eq .Answer "safe"}}{{.T.safe_done}}{{else if eq .Answer "help_needed"}}{{.T.help_done}}{{else}}{{.T.done}}{{end}}</p>
{{end}}{{if .Inc.SafetyPoll}}<p class="ack-question">{{.T.question}}</p>
<form method="post"><button type="submit" name="answer" value="safe" class="ack-button ack-safe">{{.T.safe}}</button>
<button type="submit" name="answer" value="help_needed" class="ack-button ack-help">{{.T.help}}</button></form>
{{else if not .Done}}<form method="post"><button type="submit" class="ack-button">{{.T.button}}</button></form>{{end}}
</main></body></html>`))

var ackTexts = map[string]map[string]string{
	"es": {"hello": "Hola,", "button": "Confirmar recepción", "done": "Recepción confirmada. Gracias.", "drill": "SIMULACRO",
		"question": "¿Estás a salvo?", "safe": "Estoy a salvo", "help": "Necesito ayuda",
		"how":       "Pulsa el botón para avisar que recibiste la alerta. Luego sigue las indicaciones de tu responsable de continuidad.",
		"poll_how":  "Elige una respuesta. Si necesitas ayuda, el equipo de continuidad lo sabrá al momento.",
		"safe_done": "Registramos que estás a salvo. Gracias.", "help_done": "Registramos que necesitas ayuda. El equipo de continuidad ya lo sabe."},
	"en": {"hello": "Hello,", "button": "Acknowledge", "done": "Acknowledged. Thank you.", "drill": "DRILL",
		"question": "Are you safe?", "safe": "I am safe", "help": "I need help",
		"how":       "Press the button to let us know you received the alert. Then follow your continuity manager's instructions.",
		"poll_how":  "Choose an answer. If you need help, the continuity team will know at once.",
		"safe_done": "We recorded that you are safe. Thank you.", "help_done": "We recorded that you need help. The continuity team knows."},
}

// ackLinkPage handles GET /a/{token}: the one-tap link shows the incident and a single
// button. Only the POST acknowledges, so link previews and prefetchers never do.
func (s *Server) ackLinkPage(w http.ResponseWriter, r *http.Request) error {
	inc, l, err := s.Incidents.Link(r.Context(), r.PathValue("token"))
	if err != nil {
		return linkProblem(w, r, err, linkLang(r, l.Language), inc)
	}
	return s.renderAck(w, inc, l, false, "")
}

// ackByLink handles POST /a/{token}: acknowledge as the link's person. ?via=push marks an
// acknowledgement from a notification's button, ?via=email one through an email's link. answer (form field or query: safe,
// help_needed) answers the incident's safety poll. A JSON client gets the incident.
func (s *Server) ackByLink(w http.ResponseWriter, r *http.Request) error {
	channel := "link"
	switch r.URL.Query().Get("via") {
	case "push":
		channel = "webpush"
	case "email": // the email's link (issue 17); the page's form posts to the same URL
		channel = "email"
	}
	answer := r.URL.Query().Get("answer")
	if answer == "" && r.ParseForm() == nil {
		answer = r.PostForm.Get("answer")
	}
	var (
		inc incident.Incident
		l   incident.AckLink
		err error
	)
	if answer != "" {
		inc, l, err = s.Incidents.AnswerSafetyByLink(r.Context(), r.PathValue("token"), channel, answer)
	} else {
		inc, l, err = s.Incidents.AcknowledgeByLink(r.Context(), r.PathValue("token"), channel)
	}
	if err != nil {
		if inc.ID == "" && l.IncidentID != "" {
			inc, _ = s.Incidents.Get(r.Context(), l.IncidentID) // to name the crisis on the page
		}
		return linkProblem(w, r, err, linkLang(r, l.Language), inc)
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, inc)
		return nil
	}
	return s.renderAck(w, inc, l, true, answer)
}

func (s *Server) renderAck(w http.ResponseWriter, inc incident.Incident, l incident.AckLink, done bool, answer string) error {
	lang := l.Language
	if lang != "en" {
		lang = "es"
	}
	msg := inc.Messages[lang]
	if msg == "" {
		msg = inc.Description
	}
	linkPageHeaders(w)
	return ackPage.Execute(w, map[string]any{"Inc": inc, "Name": l.Name, "Lang": lang, "T": ackTexts[lang], "Done": done, "Answer": answer, "Message": msg})
}

// linkPageHeaders are those of a page reached by a capability link (one-tap
// acknowledgement, conformity): never cached, never indexed, never telling the next site
// its address, no script, forms only to us.
func linkPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Robots-Tag", "noindex")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
}
