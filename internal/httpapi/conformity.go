package httpapi

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/incident"
)

var conformityPage = template.Must(template.New("conformity").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>OPTIMUM BCP — {{.Inc.Folio}}</title>
<link rel="stylesheet" href="/app.css"></head>
<body class="ack-page"><main class="ack conformity">
{{if .Inc.Drill}}<p class="drill">{{.T.drill}}</p>{{end}}
{{with .Inc.Folio}}<p class="ack-folio">{{.}}</p>{{end}}
{{with .Inc.Title}}<h1>{{.}}</h1>{{end}}
{{with .Name}}<p>{{$.T.hello}} {{.}}.</p>{{end}}
{{if .Problem}}<p class="alert alert-error" role="alert">{{.Problem}}</p>{{end}}
{{if .Done}}<p class="ack-done" role="status">{{if .Accepted}}{{.T.accepted}}{{else}}{{.T.rejected}}{{end}}</p>
{{else}}<h2>{{.T.solution}}</h2><p class="resolution">{{.Inc.Resolution}}</p>
<form method="post">
<label for="comment">{{.T.comment}}</label>
<textarea id="comment" name="comment" rows="3" maxlength="2000"{{if .Problem}} aria-invalid="true"{{end}}>{{.Comment}}</textarea>
<button type="submit" name="decision" value="accept" class="ack-button ack-ok">{{.T.accept}}</button>
<button type="submit" name="decision" value="reject" class="secondary ack-secondary">{{.T.reject}}</button>
</form>{{end}}
</main></body></html>`))

var conformityTexts = map[string]map[string]string{
	"es": {"hello": "Hola,", "solution": "Solución", "comment": "Comentario (obligatorio si no estás conforme)",
		"accept": "Estoy conforme", "reject": "No estoy conforme", "drill": "SIMULACRO",
		"accepted": "Gracias. Registramos tu conformidad y cerramos el reporte.",
		"rejected": "Gracias. Reabrimos el reporte y el equipo seguirá trabajando en él."},
	"en": {"hello": "Hello,", "solution": "Solution", "comment": "Comment (required if you are not satisfied)",
		"accept": "I am satisfied", "reject": "I am not satisfied", "drill": "DRILL",
		"accepted": "Thank you. Your conformity is recorded and the report is closed.",
		"rejected": "Thank you. The report is reopened and the team will keep working on it."},
}

// conformityLinkPage handles GET /c/{token}: the solution and two buttons. Only the POST
// answers, so link previews never do.
func (s *Server) conformityLinkPage(w http.ResponseWriter, r *http.Request) error {
	inc, l, err := s.Desk.Conformity(r.Context(), r.PathValue("token"))
	if err != nil {
		return s.conformityProblem(w, r, err, l)
	}
	return renderConformity(w, inc, l, false, false)
}

// answerConformity handles POST /c/{token}: a form (decision=accept|reject, comment) or
// JSON {"decision", "comment"}. Acceptance closes the incident; rejection reopens it.
func (s *Server) answerConformity(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Decision string `json:"decision"`
		Comment  string `json:"comment"`
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := decode(w, r, &body); err != nil {
			return err
		}
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if err := r.ParseForm(); err != nil {
			return badRequest("The form could not be read.")
		}
		body.Decision, body.Comment = r.PostForm.Get("decision"), r.PostForm.Get("comment")
	}
	if body.Decision != "accept" && body.Decision != "reject" {
		return s.conformityProblem(w, r, badRequest("The decision must be accept or reject."), incident.ConformityLink{})
	}
	_, l, err := s.Desk.Conformity(r.Context(), r.PathValue("token"))
	if err != nil {
		return s.conformityProblem(w, r, err, l)
	}
	inc, err := s.Desk.AnswerConformity(r.Context(), r.PathValue("token"), body.Decision == "accept", body.Comment)
	if optimum.ErrorCode(err) == optimum.EINVALID && !wantsJSON(r) {
		// A rejection without its comment: the form again, with what was typed and why.
		cur, _, _ := s.Desk.Conformity(r.Context(), r.PathValue("token"))
		lang := linkLang(r, l.Language)
		msg := translate(lang, optimum.ErrorMessage(err))
		for _, f := range optimum.ErrorFields(err) {
			msg += " " + translate(lang, f.Message)
		}
		linkPageHeaders(w)
		w.WriteHeader(statusOf[optimum.EINVALID])
		return conformityPage.Execute(w, map[string]any{"Inc": cur, "Name": l.Requester.Name, "Lang": lang,
			"T": conformityTexts[lang], "Problem": msg, "Comment": body.Comment})
	}
	if err != nil {
		return s.conformityProblem(w, r, err, l)
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, inc)
		return nil
	}
	return renderConformity(w, inc, l, true, body.Decision == "accept")
}

// conformityProblem answers a person who tapped a link with a page that says what is
// wrong (linkpage.go), naming the crisis when the link is known; a client that asked for
// JSON gets the problem+json as usual.
func (s *Server) conformityProblem(w http.ResponseWriter, r *http.Request, err error, l incident.ConformityLink) error {
	var inc incident.Incident
	if l.IncidentID != "" {
		inc, _ = s.Incidents.Get(r.Context(), l.IncidentID)
	}
	return linkProblem(w, r, err, linkLang(r, l.Language), inc)
}

func renderConformity(w http.ResponseWriter, inc incident.Incident, l incident.ConformityLink, done, accepted bool) error {
	lang := l.Language
	if lang != "en" {
		lang = "es"
	}
	linkPageHeaders(w)
	return conformityPage.Execute(w, map[string]any{"Inc": inc, "Name": l.Requester.Name, "Lang": lang,
		"T": conformityTexts[lang], "Done": done, "Accepted": accepted})
}
