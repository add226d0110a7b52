package httpapi

import (
	"context"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/store"
)

// Reconfirming phones (contacts/reconfirm.go): POST /api/v1/readiness/reconfirm asks,
// by SMS with a link, everyone whose phone is unverified or older than N months to
// confirm it; GET /p/{token} shows the page, POST /p/{token} confirms.

var reconfirmTexts = map[string]string{
	"es": "OPTIMUM BCP: confirma que este sigue siendo tu teléfono para las alertas de crisis: %s",
	"en": "OPTIMUM BCP: confirm this is still your phone for crisis alerts: %s",
}

// reconfirm handles POST /api/v1/readiness/reconfirm {"older_than_months": 6}. The links
// are stored first (with the event); then each SMS is sent, within the budget of
// non-alert SMS. Whoever is not reached stays unverified, so the next request asks them
// again. The answer counts who was asked, sent, and left for later.
func (s *Server) reconfirm(w http.ResponseWriter, r *http.Request) error {
	if s.SMS == nil || s.Reconfirm == nil {
		return optimum.Errorf(optimum.EUNAVAILABLE, "SMS is not configured on this server, so phones cannot be verified.")
	}
	var body struct {
		Months *int `json:"older_than_months"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	if body.Months == nil {
		return optimum.Invalid("The request has errors.", []optimum.FieldError{{Field: "older_than_months", Message: "is required"}})
	}
	asked, err := s.Directory.RequestReconfirmation(r.Context(), s.Reconfirm, *body.Months)
	if err != nil {
		return err
	}
	base := strings.TrimRight(s.Config.Server.PublicURL, "/")
	sent, later := 0, 0
	ctx := context.WithoutCancel(r.Context()) // the links are stored: finish what was started
	for _, rc := range asked {
		if s.SMSBudget != nil {
			c := s.Config.Limits
			_, limit, _, err := s.SMSBudget.TakeSMS(ctx, "reconfirm", rc.PersonID, rc.Phone, s.authNow(),
				store.SMSLimits{PerHour: c.PhoneCodesPerHour, PerDay: c.PhoneCodesPerDay, AllPerDay: c.NonAlertSMSPerDay})
			if err != nil {
				return err
			}
			if limit != "" {
				later++
				continue
			}
		}
		lang := rc.Language
		if lang != "en" {
			lang = "es"
		}
		msg := broadcast.Message{Channel: broadcast.ChannelSMS, To: rc.Phone, Language: lang,
			Text: strings.Replace(reconfirmTexts[lang], "%s", base+"/p/"+rc.Token, 1), TTL: 24 * time.Hour}
		if _, err := s.SMS.Send(ctx, msg); err != nil {
			s.Logger.Warn("sending a reconfirmation link", "person", rc.PersonID, "err", err)
			later++
			continue
		}
		if err := s.Reconfirm.ConfirmLinkSent(ctx, contacts.HashToken(rc.Token), s.authNow()); err != nil {
			s.Logger.Warn("noting a reconfirmation link sent", "err", err)
		}
		sent++
	}
	writeJSON(w, http.StatusAccepted, map[string]int{"asked": len(asked), "sent": sent, "not_sent": later})
	return nil
}

var reconfirmPage = template.Must(template.New("reconfirm").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>OPTIMUM BCP — {{.T.title}}</title>
<link rel="stylesheet" href="/app.css"></head>
<body class="ack-page"><main class="ack">
<h1>{{.T.title}}</h1>
{{if .Done}}<p role="status" data-testid="reconfirmed">{{.T.done}}</p>
{{else}}<p>{{.T.ask}} <strong>{{.Phone}}</strong></p>
<form method="post"><button type="submit" class="ack-button">{{.T.yes}}</button></form>
<p>{{.T.no}}</p>{{end}}
</main></body></html>`))

var reconfirmPageTexts = map[string]map[string]string{
	"es": {"title": "Confirma tu teléfono", "ask": "Hola {{name}}: ¿sigue siendo tuyo este teléfono para las alertas de crisis?",
		"yes": "Sí, es mi teléfono", "no": "Si ya no es tuyo, cámbialo en Mi perfil de OPTIMUM BCP.",
		"done": "Gracias: tu teléfono quedó confirmado."},
	"en": {"title": "Confirm your phone", "ask": "Hi {{name}}: is this still your phone for crisis alerts?",
		"yes": "Yes, it is my phone", "no": "If it is no longer yours, change it in My profile in OPTIMUM BCP.",
		"done": "Thank you: your phone is confirmed."},
}

func (s *Server) reconfirmLinkValid(ctx context.Context, token string) error {
	if s.Reconfirm == nil {
		return optimum.Errorf(optimum.ENOTFOUND, "This link is unknown, already used or expired.")
	}
	_, err := s.Directory.ConfirmLinkOf(ctx, s.Reconfirm, token)
	return err
}

// reconfirmLinkPage handles GET /p/{token}.
func (s *Server) reconfirmLinkPage(w http.ResponseWriter, r *http.Request) error {
	l, err := s.Directory.ConfirmLinkOf(r.Context(), s.Reconfirm, r.PathValue("token"))
	if err != nil {
		return linkProblem(w, r, err, linkLang(r, l.Language), incident.Incident{})
	}
	return renderReconfirm(w, linkLang(r, l.Language), l, false)
}

// reconfirmByLink handles POST /p/{token}: the person received the SMS, so the phone
// reaches them.
func (s *Server) reconfirmByLink(w http.ResponseWriter, r *http.Request) error {
	l, err := s.Directory.ConfirmByLink(r.Context(), s.Reconfirm, r.PathValue("token"))
	if err != nil {
		return linkProblem(w, r, err, linkLang(r, l.Language), incident.Incident{})
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]any{"person_id": l.PersonID, "confirmed": true})
		return nil
	}
	return renderReconfirm(w, linkLang(r, l.Language), l, true)
}

func renderReconfirm(w http.ResponseWriter, lang string, l contacts.ConfirmLink, done bool) error {
	t := map[string]string{}
	for k, v := range reconfirmPageTexts[lang] {
		t[k] = strings.Replace(v, "{{name}}", firstName(l.Name), 1)
	}
	linkPageHeaders(w)
	w.WriteHeader(http.StatusOK)
	return reconfirmPage.Execute(w, map[string]any{"Lang": lang, "T": t, "Phone": maskPhone(l.Phone), "Done": done})
}

func firstName(name string) string {
	if f := strings.Fields(name); len(f) > 0 {
		return f[0]
	}
	return ""
}
