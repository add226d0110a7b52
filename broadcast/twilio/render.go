package twilio

import (
	"strings"
)

// Alert is what an alert SMS says, before it is rendered in the recipient's language.
type Alert struct {
	Language string // "es" (the default) or "en"
	Folio    string // e.g. BCP-2026-000042
	Title    string
	Text     string // the details; shortened first when the SMS is too long
	Link     string // the one-tap acknowledgement link (short, absolute)
}

// smsTemplates start with the call to action, so that the first line (all a lock screen
// shows) says what to do; they are accent-free so they never force UCS-2 on their own.
var smsTemplates = map[string]struct{ withLink, withoutLink string }{
	"es": {"Confirme: responda 1 o toque %LINK%", "Confirme: responda 1 a este mensaje"},
	"en": {"Acknowledge: reply 1 or tap %LINK%", "Acknowledge: reply 1 to this message"},
}

// RenderSMS writes an alert SMS: the call to action (reply 1 or tap the link), then the
// folio, the title and the text. With transliterate it maps the text to GSM-7 when that
// makes it GSM-7 (see Transliterate). With maxSegments > 0 it shortens the text, then the
// title, never the call to action, the link or the folio, until the SMS fits in that many
// segments; it always fits Twilio's 1600 characters.
func RenderSMS(a Alert, transliterate bool, maxSegments int) string {
	t := smsTemplates[language(a.Language)]
	head := t.withoutLink
	if a.Link != "" {
		head = strings.ReplaceAll(t.withLink, "%LINK%", a.Link)
	}
	head += "\n"
	if a.Folio != "" {
		head += a.Folio + " "
	}
	title, text := oneLine(a.Title), oneLine(a.Text)
	if transliterate {
		if s := Transliterate(head + title + "\n" + text); IsGSM7(s) {
			head, title, text = Transliterate(head), Transliterate(title), Transliterate(text)
		}
	}
	join := func(title, text string) string {
		switch {
		case text == "":
			return head + title
		case title == "":
			return head + text
		default:
			return head + title + ". " + text
		}
	}
	body := join(title, text)
	limit := maxSegments
	if _, n := Segments(body); (limit <= 0 || n <= limit) && len([]rune(body)) <= maxBody {
		return body
	}
	// Too long: give the room left by the head and the title to the text, and if the title
	// alone is too long, shorten it and drop the text.
	if short := fitSMS(join(title, text), limit); strings.HasPrefix(short, join(title, "")) {
		return short
	}
	return fitSMS(join(title, ""), limit)
}

// language returns "es" or "en" for a language tag such as "es-MX" or "EN".
func language(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if strings.HasPrefix(tag, "en") {
		return "en"
	}
	return "es"
}

// oneLine collapses runs of white space, so that pasted text does not waste segments.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
