package escalation

import (
	"strings"
	"unicode/utf8"

	"github.com/optimum-bcp/optimum/incident"
)

// An alert SMS reads, in Spanish:
//
//	[SIMULACRO. ][RECORDATORIO: ]P1 Sismo: evaluación de Torre B, CDMX (BCP-2026-000042). Confirma: responde 1 o entra a https://…/a/…
//
// crisis first (what a lock screen shows), the call to action last. It must fit one
// GSM-7 segment (160 septets, the link included): the title is shortened, then the
// place dropped, never the call to action, the link or the folio.

// SMSAlphabet is the SMS provider's alphabet: how a text is transliterated for it, and
// how many segments it takes. The Twilio adapter provides GSM-7 (cmd/optimum wires it).
type SMSAlphabet interface {
	// Transliterate maps the characters the alphabet lacks to their nearest ones.
	Transliterate(text string) string
	// Segments is how many segments the (transliterated) text takes.
	Segments(text string) int
	// Has reports whether the alphabet has the character (after transliteration).
	Has(r rune) bool
}

// plainAlphabet, until one is set, counts characters against 160 and changes nothing.
type plainAlphabet struct{}

func (plainAlphabet) Transliterate(s string) string { return s }
func (plainAlphabet) Segments(s string) int         { return (utf8.RuneCountInString(s) + 159) / 160 }
func (plainAlphabet) Has(rune) bool                 { return true }

// SetSMSAlphabet sets the alphabet SMS are fitted to.
func (t *Templates) SetSMSAlphabet(a SMSAlphabet) { t.sms = a }

var smsWords = map[string]struct{ drill, reminder, ack, poll, noLink, pollNoLink string }{
	"es": {"SIMULACRO. ", "RECORDATORIO: ", "Confirma: responde 1 o entra a ", "¿Estás a salvo? Responde 1 = sí, 2 = ayuda, o ", "Confirma: responde 1 a este SMS.", "¿Estás a salvo? Responde 1 = sí, 2 = ayuda."},
	"en": {"DRILL. ", "REMINDER: ", "Acknowledge: reply 1 or open ", "Are you safe? Reply 1 = safe, 2 = help, or ", "Acknowledge: reply 1 to this SMS.", "Are you safe? Reply 1 = safe, 2 = help."},
}

// smsText writes the alert SMS of inc in lang, fitted to one segment when it can be.
func (t *Templates) smsText(lang string, inc incident.Incident, link string, reminder bool) string {
	w := smsWords[lang]
	lead := ""
	if inc.Drill {
		lead += w.drill
	}
	if reminder {
		lead += w.reminder
	}
	lead += string(inc.Priority) + " "
	cta := w.noLink
	if inc.SafetyPoll {
		cta = w.pollNoLink
	}
	if link != "" {
		if inc.SafetyPoll {
			cta = w.poll + link
		} else {
			cta = w.ack + link
		}
	}
	clean := func(s string) string { // one line, in the alphabet; what it lacks is dropped
		s = t.sms.Transliterate(strings.Join(strings.Fields(s), " "))
		return strings.Map(func(r rune) rune {
			if t.sms.Has(r) {
				return r
			}
			return -1
		}, s)
	}
	lead, cta = clean(lead)+" ", clean(cta)
	title, place := strings.TrimRight(clean(inc.Title), " ."), strings.TrimRight(clean(inc.Location), " .")
	compose := func(title, place string) string {
		s := lead + title
		if place != "" && !strings.Contains(title, place) {
			s += ", " + place
		}
		return s + " (" + inc.Folio + "). " + cta
	}
	// The link's slot is measured as a token of the same length (its braces would count
	// double in GSM-7, the token's letters do not).
	fits := func(s string) bool {
		return t.sms.Segments(strings.ReplaceAll(s, LinkSlot, strings.Repeat("x", len(LinkSlot)))) <= 1
	}
	if fits(compose(title, place)) {
		return compose(title, place)
	}
	shorten := func(title string, min int, place string) (string, bool) {
		r := []rune(title)
		for n := len(r) - 1; n >= min; n-- {
			if s := strings.TrimRight(string(r[:n]), " ,.;:-") + "..."; fits(compose(s, place)) {
				return s, true
			}
		}
		return "", false
	}
	const keep = 12 // the title keeps at least this much before the place goes
	if s, ok := shorten(title, min(keep, len([]rune(title))), place); ok {
		return compose(s, place)
	}
	if fits(compose(title, "")) {
		return compose(title, "")
	}
	if s, ok := shorten(title, 1, ""); ok {
		return compose(s, "")
	}
	return compose("", "") // a public URL too long for one segment: two, never a cut call to action
}
