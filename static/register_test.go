package static

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// What people read in Spanish addresses them as "tú", in Spanish only, with 24-hour
// times. This test reads the Spanish texts of the web app's catalogs (i18n.js,
// work-i18n.js, phone-i18n.js, bridge-i18n.js, org-i18n.js), of the service worker's notifications (sw.js) and of the
// API's problem texts (internal/httpapi/i18n.go), and refuses the forms below: a list
// written by hand, not derived from the catalogs.

// ustedForms address the reader as "usted".
var ustedForms = []string{
	`\busted(es)?\b`, `\bconfirme\b`, `\bpresione\b`, `\bresponda\b`, `\bespere\b`, `\brevise\b`, `\bintente\b`,
	`\bescriba\b`, `\bingrese\b`, `\bpulse\b`, `\babra\b`, `\btoque\b`, `\bseleccione\b`, `\belija\b`,
	`\bverifique\b`, `\bcomuníquese\b`, `\bpóngase\b`, `\bdiríjase\b`, `\bvuelva a\b`, `\bpuede usted\b`,
	`¿está(\s|\?)`, `(^|[.;:¿]\s*)si está a salvo\b`, `(^|[.;:]\s*)si necesita\b`, `\bsi desea\b`,
	`\binténtelo\b`, `\bcancélelo\b`, `\bpida\b`, `\bllame\b`, `\binicie\b`, `\brecargue\b`, `\bvuelva\b`,
	`\bsus? (reporte|confirmación|folio|cuenta|contraseña|teléfono|sesión|correo|navegador|respuesta|rol)\b`,
	`\bindique\b`, `\b(guárdelo|impórtelo|úselo|escríbalo|revíselo|inténtelo)\b`,
}

// englishWords must not appear inside Spanish (placeholders such as {status}, and the
// literal values an API client must send, "(webpush, sms, voice)" or "<lead|member>",
// are removed first; "SMS", "SLA", "CSV", "token", "push" are the Spanish words too).
var englishWords = []string{
	`\blead\b`, `\bwebpush\b`, `\bvoice\b`, `\bclosed\b`, `\bfirst admin\b`, `\bbootstrap\b`, `\badmin\b`,
	`\bemail\b`, `\bowner\b`, `\bdrill\b`, `\bticket\b`, `\bbrowser\b`, `\bcheck\b`, `\bstatus\b`, `^push$`,
	`\bplease\b`, `\bthe\b`, `\band\b`, `\bnone\b`, `\bbackup\b`, `\bmember\b`, `\breporter\b`,
}

// twelveHour are clock times with a.m./p.m.
var twelveHour = []string{`\b[ap]\.\s?m\.`, `\d\s?(AM|PM)\b`}

// spanishTexts returns the Spanish strings of each catalog, by file.
func spanishTexts(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	jsValue := regexp.MustCompile(`^\s*'?[\w.]+'?:\s*'((?:[^'\\]|\\.)*)',?\s*$`)
	for _, f := range []string{"i18n.js", "work-i18n.js", "phone-i18n.js", "sw.js", "bridge-i18n.js", "org-i18n.js"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		in := false
		for _, line := range strings.Split(string(b), "\n") {
			switch {
			case regexp.MustCompile(`^\s*es:\s*\{`).MatchString(line):
				in = true
			case regexp.MustCompile(`^\s*en:\s*\{`).MatchString(line):
				in = false
			case in:
				if m := jsValue.FindStringSubmatch(line); m != nil {
					out[f] = append(out[f], m[1])
				}
			}
		}
		if len(out[f]) < 5 {
			t.Fatalf("%s: found only %d Spanish texts; has the file's shape changed?", f, len(out[f]))
		}
	}
	b, err := os.ReadFile("../internal/httpapi/i18n.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`es:\s*"((?:[^"\\]|\\.)*)"`).FindAllStringSubmatch(string(b), -1) {
		out["i18n.go"] = append(out["i18n.go"], m[1])
	}
	if len(out["i18n.go"]) < 20 {
		t.Fatalf("i18n.go: found only %d Spanish texts", len(out["i18n.go"]))
	}
	return out
}

func TestSpanishSaysTuInSpanishWith24HourTimes(t *testing.T) {
	placeholder := regexp.MustCompile(`\{\w+\}|\$\d|%[a-z]|<[^>]*>|\((?:[a-z_]+,\s*)+[a-z_]+\)`)
	rules := []struct {
		what     string
		patterns []string
	}{{"addresses the reader as usted", ustedForms}, {"has English in it", englishWords}, {"has a 12-hour time", twelveHour}}
	for file, texts := range spanishTexts(t) {
		for _, text := range texts {
			clean := placeholder.ReplaceAllString(text, "")
			for _, r := range rules {
				for _, p := range r.patterns {
					if regexp.MustCompile(`(?i)` + p).MatchString(clean) {
						t.Errorf("%s: %q %s (%s)", file, text, r.what, p)
					}
				}
			}
		}
	}
}

// The rules themselves catch what they are for.
func TestSpanishRulesCatchTheirExamples(t *testing.T) {
	for _, x := range []struct {
		text  string
		rules []string
	}{
		{"Confirme recepción respondiendo 1", ustedForms},
		{"Si está a salvo, presione 1", ustedForms},
		{"Demasiados intentos; espere 5 s", ustedForms},
		{"Recibimos su reporte", ustedForms},
		{"Canal: webpush", englishWords},
		{"Push", englishWords},
		{"Escalera (closed)", englishWords},
		{"first admin", englishWords},
		{"a las 9:04 p. m.", twelveHour},
	} {
		hit := false
		for _, p := range x.rules {
			hit = hit || regexp.MustCompile(`(?i)`+p).MatchString(x.text)
		}
		if !hit {
			t.Errorf("no rule catches %q", x.text)
		}
	}
	for _, ok := range []string{"Confirma recepción", "Si estás a salvo, presiona 1", "¿Estás a salvo?", "Preguntar a cada persona si está a salvo", "a las 21:04", "notificación push"} {
		for _, p := range append(append(append([]string{}, ustedForms...), twelveHour...), englishWords...) {
			if regexp.MustCompile(`(?i)` + p).MatchString(ok) {
				t.Errorf("%q is refused by %s", ok, p)
			}
		}
	}
}

// messageSources are the Go files whose strings people receive: SMS, calls, push texts,
// the requester's notices and the pages behind links. A hand-written list: a new file of
// messages is added here.
var messageSources = []string{
	"../incident/requester.go", "../incident/notices.go",
	"../escalation/sms.go", "../escalation/templates.go", "../escalation/notify.go",
	"../escalation/inbound.go", "../escalation/links.go", "../escalation/canary.go",
	"../broadcast/twilio/voice.go", "../broadcast/twilio/refused.go", "../broadcast/twilio/reply.go",
	"../broadcast/email/render.go", // email (issue 17)
	// crisis: declaring by SMS and the hotline, and the war-room bridge (issue 17).
	"../escalation/crisis.go", "../broadcast/twilio/hotline.go",
	"../escalation/bridge.go", "../broadcast/twilio/bridge.go", "../incident/bridge.go",
	"../drill/plan.go",
	"../broadcast/vonage/voice.go", // sms2: what a call through Vonage says
	"../internal/httpapi/linkpage.go", "../internal/httpapi/ack.go", "../internal/httpapi/conformity.go",
	"../internal/httpapi/verify.go",
	"../internal/httpapi/reconfirm.go",
	// The page to the admins about a refused or failed directory sync (docs/scim.md).
	"../internal/dirsync/dirsync.go",
	// The API's Spanish problems, including those built by functions.
	"../internal/httpapi/i18n.go", "../internal/httpapi/i18n_trust.go",
	// Single sign-on's refusal pages.
	"../internal/httpapi/sso.go",
	// Team chats and their API's problems (issue 17).
	"../incident/chat.go", "../internal/httpapi/i18n_chat.go",
}

// TestMessagesPeopleReceiveSayTu reads every string literal of the message sources (the
// English ones too: the usted forms are Spanish words, so they only match Spanish) and
// refuses the usted forms and 12-hour times.
func TestMessagesPeopleReceiveSayTu(t *testing.T) {
	n := 0
	for _, f := range messageSources {
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(node ast.Node) bool {
			lit, ok := node.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			n++
			for _, p := range append(append([]string{}, ustedForms...), twelveHour...) {
				if regexp.MustCompile(`(?i)` + p).MatchString(s) {
					t.Errorf("%s: %q addresses the reader as usted or has a 12-hour time (%s)", f, s, p)
				}
			}
			return true
		})
	}
	if n < 100 {
		t.Fatalf("read only %d strings from the message sources; have they moved?", n)
	}
}
