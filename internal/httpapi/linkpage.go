package httpapi

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/incident"
)

// The public pages reached by a link (one-tap /a/, conformity /c/, sign-in /login/) are
// read by people on a phone, often in a hurry: whatever is wrong with the link, they get
// a page that says so in their words (Spanish with "tú", English when the browser asks
// for it, or the person's language when the link tells it), never a JSON problem. Only a
// client that asks for JSON (the service worker's notification button) gets JSON.

var linkProblemPage = template.Must(template.New("link-problem").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>OPTIMUM BCP — {{.Heading}}</title>
<link rel="stylesheet" href="/app.css"></head>
<body class="ack-page"><main class="ack link-problem-page">
{{if .Inc.Drill}}<p class="drill">{{.T.drill}}</p>{{end}}
{{with .Inc.Folio}}<p class="ack-folio">{{if $.Inc.Priority}}{{$.Inc.Priority}} · {{end}}{{.}}</p>{{end}}
{{with .Inc.Title}}<p class="link-problem-crisis">{{.}}</p>{{end}}
<h1 class="link-problem-title">{{.Heading}}</h1>
<p class="link-problem" role="status" data-testid="link-problem">{{.Message}}</p>
<p class="link-problem-next">{{.Next}}</p>
<p><a class="link-problem-open" href="/">{{.T.open}}</a></p>
</main></body></html>`))

var linkProblemTexts = map[string]map[string]string{
	"es": {
		"drill": "SIMULACRO", "open": "Abrir OPTIMUM BCP",
		"invalid":        "Este enlace ya no funciona",
		"invalid_msg":    "El enlace no es válido, ya se usó o caducó.",
		"invalid_next":   "Si recibiste una alerta, responde al SMS o abre OPTIMUM BCP. Si te piden ayuda, llama a tu responsable de continuidad.",
		"closed":         "Esta crisis ya se cerró",
		"cancelled":      "Esta crisis se canceló",
		"over_msg":       "Ya no necesitas responder a este enlace.",
		"over_next":      "Si aún necesitas ayuda, llama a tu responsable de continuidad.",
		"used":           "Ya respondiste",
		"used_next":      "Gracias. Si algo cambió, avisa al equipo que atiende tu reporte.",
		"conflict":       "No pudimos registrar tu respuesta",
		"conflict_next":  "Si necesitas ayuda, llama a tu responsable de continuidad.",
		"signin":         "Este enlace de acceso ya no funciona",
		"signin_msg":     "El enlace no es válido, ya se usó o caducó.",
		"signin_next":    "Pide un enlace nuevo a quien administra OPTIMUM BCP, o entra con tu correo y contraseña.",
		"bad_request":    "No pudimos leer tu respuesta",
		"bad_request_nx": "Vuelve a abrir el enlace e inténtalo otra vez.",
	},
	"en": {
		"drill": "DRILL", "open": "Open OPTIMUM BCP",
		"invalid":        "This link no longer works",
		"invalid_msg":    "The link is not valid, was already used or has expired.",
		"invalid_next":   "If you received an alert, reply to the SMS or open OPTIMUM BCP. If you need help, call your continuity manager.",
		"closed":         "This crisis is closed",
		"cancelled":      "This crisis was cancelled",
		"over_msg":       "You no longer need to answer this link.",
		"over_next":      "If you still need help, call your continuity manager.",
		"used":           "You already answered",
		"used_next":      "Thank you. If something changed, tell the team working on your report.",
		"conflict":       "We could not record your answer",
		"conflict_next":  "If you need help, call your continuity manager.",
		"signin":         "This sign-in link no longer works",
		"signin_msg":     "The link is not valid, was already used or has expired.",
		"signin_next":    "Ask whoever runs OPTIMUM BCP for a new link, or sign in with your email and password.",
		"bad_request":    "We could not read your answer",
		"bad_request_nx": "Open the link again and try once more.",
	},
}

// wantsJSON reports whether the client is an API client rather than a person's
// browser: it asked for JSON, or sent JSON.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json") ||
		strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")
}

// linkLang is the language of a link page: the browser's when it says which it
// prefers, else the person's when the link tells it, else Spanish.
func linkLang(r *http.Request, personLang string) string {
	if r.Header.Get("Accept-Language") == "" && (personLang == "es" || personLang == "en") {
		return personLang
	}
	return pageLang(r)
}

// renderLinkProblem writes the friendly page of a link that cannot be used. inc, when
// known, names the crisis; kind picks the texts ("invalid", "over", "used", "conflict",
// "signin", "bad_request"); detail, when set, replaces the generic message.
func renderLinkProblem(w http.ResponseWriter, status int, lang string, inc incident.Incident, kind, detail string) error {
	t := linkProblemTexts[lang]
	heading, msg, next := t[kind], t[kind+"_msg"], t[kind+"_next"]
	switch kind {
	case "over":
		heading, msg, next = t["closed"], t["over_msg"], t["over_next"]
		if inc.Status == incident.StatusCancelled {
			heading = t["cancelled"]
		}
	case "bad_request":
		next = t["bad_request_nx"]
	}
	if detail != "" {
		msg = detail
	}
	linkPageHeaders(w)
	w.WriteHeader(status)
	return linkProblemPage.Execute(w, map[string]any{"Lang": lang, "T": t, "Inc": inc, "Heading": heading, "Message": msg, "Next": next})
}

// linkProblem answers an error of a link page: JSON to a client that asked for it (and
// internal errors as usual), else the friendly page, with the status of the problem.
func linkProblem(w http.ResponseWriter, r *http.Request, err error, lang string, inc incident.Incident) error {
	code := optimum.ErrorCode(err)
	status := statusOf[code]
	if wantsJSON(r) || status == 0 || status >= 500 {
		return err
	}
	kind := "conflict"
	detail := translate(lang, optimum.ErrorMessage(err))
	switch {
	case inc.Status == incident.StatusClosed || inc.Status == incident.StatusCancelled:
		kind, detail = "over", ""
	case code == optimum.ENOTFOUND || code == optimum.EUNAUTHORIZED:
		kind, detail = "invalid", ""
	case code == optimum.EINVALID:
		kind = "bad_request"
	}
	return renderLinkProblem(w, status, lang, inc, kind, detail)
}
