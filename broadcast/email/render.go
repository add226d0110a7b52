package email

import (
	"bytes"
	"html/template"
	"strings"

	"github.com/optimum-bcp/optimum/broadcast"
)

// words are the fixed texts of an email, per language.
var words = map[string]struct {
	Open, Answer, AckHint, Footer string
}{
	"es": {
		Open:    "Abrir en OPTIMUM",
		Answer:  "Responder",
		AckHint: "El enlace abre una página con el botón para confirmar; abrirlo no confirma nada por sí solo.",
		Footer:  "Recibes este correo porque estás en el directorio de crisis de tu organización (OPTIMUM BCP). No respondas a este correo: usa el enlace.",
	},
	"en": {
		Open:    "Open in OPTIMUM",
		Answer:  "Answer",
		AckHint: "The link opens a page with the button to acknowledge; opening it acknowledges nothing by itself.",
		Footer:  "You get this email because you are in your organisation's crisis directory (OPTIMUM BCP). Do not reply to this email: use the link.",
	},
}

// content is what both parts of an email say.
type content struct {
	Lang    string
	Subject string
	Paras   []string
	Label   string
	URL     string
	Hint    string
	Footer  string
}

func contentOf(m broadcast.Message) content {
	lang := m.Language
	if lang != "en" {
		lang = "es"
	}
	w := words[lang]
	c := content{Lang: lang, Subject: m.Title, URL: m.URL, Footer: w.Footer, Label: w.Open}
	for _, p := range strings.Split(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			c.Paras = append(c.Paras, p)
		}
	}
	switch {
	case len(m.Actions) == 1:
		// The alert's one action (acknowledge) names the button; the link leads to a page
		// with that button, since a GET must never acknowledge (mail scanners open links).
		c.Label, c.Hint = m.Actions[0].Title, w.AckHint
	case len(m.Actions) > 1:
		c.Label, c.Hint = w.Answer, w.AckHint
	}
	return c
}

// textBody is the text/plain alternative: the message, then the link on a line of its
// own (mail clients make it clickable), then the footer.
func textBody(c content) string {
	var b strings.Builder
	for _, p := range c.Paras {
		b.WriteString(p)
		b.WriteString("\n\n")
	}
	if c.URL != "" {
		b.WriteString(c.Label + ":\n" + c.URL + "\n\n")
		if c.Hint != "" {
			b.WriteString(c.Hint + "\n\n")
		}
	}
	b.WriteString("-- \n" + c.Footer + "\n")
	return b.String()
}

// htmlTemplate is the text/html alternative: inline styles only (mail clients drop
// style sheets), one column, a large button and the link written out below it for
// clients that hide buttons.
var htmlTemplate = template.Must(template.New("email").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Subject}}</title>
</head>
<body style="margin:0;padding:0;background:#f4f4f5;font-family:Arial,Helvetica,sans-serif;color:#18181b">
<div style="max-width:600px;margin:0 auto;padding:24px 16px">
<h1 style="font-size:20px;line-height:1.3;margin:0 0 16px">{{.Subject}}</h1>
{{range .Paras}}<p style="font-size:16px;line-height:1.5;margin:0 0 16px">{{.}}</p>
{{end}}{{if .URL}}<p style="margin:24px 0"><a href="{{.URL}}" style="display:inline-block;background:#b91c1c;color:#ffffff;font-size:18px;font-weight:bold;text-decoration:none;padding:14px 24px;border-radius:6px">{{.Label}}</a></p>
<p style="font-size:13px;line-height:1.5;margin:0 0 16px;word-break:break-all"><a href="{{.URL}}" style="color:#1d4ed8">{{.URL}}</a></p>
{{with .Hint}}<p style="font-size:13px;line-height:1.5;margin:0 0 16px;color:#52525b">{{.}}</p>
{{end}}{{end}}<hr style="border:none;border-top:1px solid #d4d4d8;margin:24px 0 12px">
<p style="font-size:12px;line-height:1.5;margin:0;color:#71717a">{{.Footer}}</p>
</div>
</body>
</html>
`))

func htmlBody(c content) (string, error) {
	var b bytes.Buffer
	if err := htmlTemplate.Execute(&b, c); err != nil {
		return "", err
	}
	return b.String(), nil
}
