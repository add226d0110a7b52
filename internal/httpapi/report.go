package httpapi

import (
	"html/template"
	"net/http"
	"time"

	"github.com/optimum-bcp/optimum/incident"
)

// report handles GET /api/v1/incidents/{id}/report: the post-incident report as JSON.
func (s *Server) report(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.Desk.Report(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// reportMarkdown handles GET /api/v1/incidents/{id}/report.md, in the reader's language
// (Spanish unless Accept-Language asks for English first).
func (s *Server) reportMarkdown(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.Desk.Report(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+rep.Incident.Folio+`.md"`)
	_, err = w.Write([]byte(rep.Markdown(pageLang(r))))
	return err
}

// pageLang is the language of a page for people: Spanish unless English comes first,
// the same rule as the API's problems.
func pageLang(r *http.Request) string { return requestLang(r) }

var reportPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"when": func(t time.Time) string { return t.Format("2006-01-02 15:04:05 MST") },
}).Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.L.report}} — {{.R.Incident.Folio}}</title><link rel="stylesheet" href="/app.css"></head>
<body class="report-page"><main class="report">
<h1>{{.L.report}}: {{.R.Incident.Folio}}</h1>
<p class="report-title">{{.R.Incident.Title}}</p>
<h2>{{.L.summary}}</h2><p>{{.R.SummaryIn .Lang}}</p>
<h2>{{.L.impact}}</h2>
<ul><li>{{.L.priority}}: {{.R.Incident.Priority}} ({{.R.Incident.Impact}} × {{.R.Incident.Urgency}})</li>
<li>{{.L.services}}: {{range $i, $s := .R.Impact.Services}}{{if $i}}, {{end}}{{$s}}{{else}}{{$.L.none}}{{end}}</li>
<li>{{.L.location}}: {{with .R.Impact.Location}}{{.}}{{else}}{{$.L.none}}{{end}}</li>
<li>{{.L.audience}}: {{.R.Impact.Audience}}</li></ul>
<h2>{{.L.timeline}}</h2>
<table><thead><tr><th>{{.L.when}}</th><th>{{.L.what}}</th><th>{{.L.who}}</th><th></th></tr></thead><tbody>
{{range .R.Timeline}}<tr><td>{{when .At}}</td><td>{{$.R.Word $.Lang .Kind}}</td><td>{{.Actor}}</td><td>{{$.R.Word $.Lang .Text}}</td></tr>
{{end}}</tbody></table>
<h2>{{.L.sla}}</h2>
<ul><li>{{.L.ack}}: {{.Ack}}</li><li>{{.L.resolve}}: {{.Resolve}}</li></ul>
<h2>{{.L.deliveries}}</h2>
<table><thead><tr><th>{{.L.channel}}</th><th>{{.L.total}}</th><th>{{.L.queued}}</th><th>{{.L.sent}}</th><th>{{.L.delivered}}</th><th>{{.L.failed}}</th><th>{{.L.other}}</th></tr></thead><tbody>
{{range .R.Deliveries}}<tr><td>{{.Channel}}</td><td>{{.Total}}</td><td>{{.Queued}}</td><td>{{.Sent}}</td><td>{{.Delivered}}</td><td>{{.Failed}}</td><td>{{.Other}}</td></tr>
{{end}}</tbody></table>
<h2>{{.L.factors}}</h2><div class="fill" contenteditable="true">{{.L.fill}}</div>
<h2>{{.L.actions}}</h2><div class="fill" contenteditable="true">{{.L.fill}}</div>
</main></body></html>`))

// reportHTML handles GET /api/v1/incidents/{id}/report.html: the printable report.
func (s *Server) reportHTML(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.Desk.Report(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return renderReport(w, rep, pageLang(r))
}

func renderReport(w http.ResponseWriter, rep incident.Report, lang string) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'")
	return reportPage.Execute(w, map[string]any{"R": rep, "L": rep.Labels(lang), "Lang": lang,
		"Ack": rep.FormatSLA(rep.TimeToAcknowledge, lang), "Resolve": rep.FormatSLA(rep.TimeToResolve, lang)})
}
