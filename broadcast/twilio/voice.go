package twilio

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/optimum-bcp/optimum/broadcast"
)

// Voice places calls that speak the alert and take "press 1 to acknowledge". It implements
// broadcast.Sender and is safe for concurrent use.
//
// Each call goes to Twilio's Calls resource with inline TwiML (no TwiML server round trip
// before the person hears the alert), from the same pool number as their SMS, with status
// callbacks for initiated, ringing, answered and completed. The key press is posted to
// PublicURL/hooks/twilio/voice?d=DELIVERYID, answered with VoiceReply.
type Voice struct{ c *Client }

var _ broadcast.Sender = (*Voice)(nil)

// Send places the call; see broadcast.Sender for what the result means. Twilio accepting
// the call (201) is success: whether it was answered arrives in status callbacks.
func (v *Voice) Send(ctx context.Context, m broadcast.Message) (retryable bool, err error) {
	_, retryable, err = v.SendSID(ctx, m)
	return retryable, err
}

// SendSID is Send that also returns the call SID (CA…).
func (v *Voice) SendSID(ctx context.Context, m broadcast.Message) (sid string, retryable bool, err error) {
	if !e164.MatchString(m.To) {
		return "", false, fmt.Errorf("twilio voice: %w: %q is not E.164", ErrInvalidNumber, m.To)
	}
	if len(v.c.cfg.From) == 0 {
		return "", false, fmt.Errorf("twilio voice: %w", ErrNoCaller)
	}
	p := &api.CreateCallParams{}
	p.SetTo(m.To)
	p.SetFrom(v.c.sender(m.To))
	p.SetTwiml(v.TwiML(m))
	p.SetStatusCallback(v.c.statusCallback(m.DeliveryID))
	p.SetStatusCallbackMethod("POST")
	p.SetStatusCallbackEvent([]string{"initiated", "ringing", "answered", "completed"})

	ctx, cancel := context.WithTimeout(ctx, v.c.cfg.Timeout)
	defer cancel()
	var ex exchange
	call, err := v.c.api(ctx, &ex).CreateCall(p)
	if retryable, err := classify("voice", &ex, err); err != nil {
		return "", retryable, err
	}
	if call != nil && call.Sid != nil {
		sid = *call.Sid
	}
	return sid, false, nil
}

// maxTwiML is the longest Twiml parameter Twilio takes.
const maxTwiML = 4000

// speech holds what a call says, per language. The Polly voices match the locales; the
// prompts are said again after the alert so that a person who picked up late still hears
// what to do.
var speech = map[string]struct{ locale, voice, prompt, thanks, retry, bye, pollPrompt, safe, help string }{
	"es": {"es-MX", "Polly.Mia", "Presiona 1 para confirmar recepción.",
		"Gracias. Tu confirmación quedó registrada.", "No entendimos.",
		"No se registró tu confirmación. Hasta luego.",
		"Si estás a salvo, presiona 1. Si necesitas ayuda, presiona 2.",
		"Gracias. Registramos que estás a salvo.",
		"Registramos que necesitas ayuda. El equipo de continuidad ya lo sabe."},
	"en": {"en-US", "Polly.Joanna", "Press 1 to acknowledge.",
		"Thank you. Your acknowledgement is recorded.", "Sorry, we did not get that.",
		"Your acknowledgement was not recorded. Goodbye.",
		"If you are safe, press 1. If you need help, press 2.",
		"Thank you. We recorded that you are safe.",
		"We recorded that you need help. The continuity team knows."},
}

// Answers to a call, as the voice handler reports them to VoiceReply.
const (
	VoiceNone       = ""            // nothing recorded: ask again
	VoiceAcked      = "ack"         // "1" acknowledged the alert
	VoiceSafe       = "safe"        // safety poll: "1"
	VoiceHelpNeeded = "help_needed" // safety poll: "2"
)

// isPoll says whether a call asks the safety poll's question: its message carries the
// two answers as actions (escalation.PollActions).
func isPoll(m broadcast.Message) bool {
	for _, a := range m.Actions {
		if a.ID == VoiceSafe {
			return true
		}
	}
	return false
}

// TwiML is the script of the call for m, in m's language: the title and the text said
// twice, then "press 1", inside a Gather so that the person can press 1 at any moment,
// then one more chance to press 1, then goodbye. Links are not read aloud. The spoken text
// is cut so that the whole script stays under Twilio's 4000-character limit for inline
// TwiML (counted in bytes, which is never less than characters).
func (v *Voice) TwiML(m broadcast.Message) string {
	action := v.c.cfg.publicBase() + PathVoice + "?d=" + url.QueryEscape(m.DeliveryID)
	s := speech[language(m.Language)]
	prompt := s.prompt
	if isPoll(m) {
		prompt = s.pollPrompt
	}
	say := func(text, loop string) string {
		l := ""
		if loop != "" {
			l = ` loop="` + loop + `"`
		}
		return `<Say language="` + s.locale + `" voice="` + s.voice + `"` + l + `>` + escape(text) + `</Say>`
	}
	gather := `<Gather input="dtmf" numDigits="1" action="` + escape(action) + `" method="POST" timeout="10">`
	script := func(spoken string) string {
		return xml.Header + `<Response>` +
			gather + say(spoken, "2") + say(prompt, "") + `</Gather>` +
			gather + say(prompt, "") + `</Gather>` +
			say(s.bye, "") + `</Response>`
	}
	spoken := spokenText(m.Title, m.Text)
	room := maxTwiML - len(script(""))
	return script(cutEscaped(spoken, room))
}

// VoiceReply is the TwiML with which the /hooks/twilio/voice handler answers a key press:
// thanks and hang up when the press recorded an answer (VoiceAcked, VoiceSafe,
// VoiceHelpNeeded), otherwise ask again (the safety poll's question when poll), posting
// the next key press to the same actionURL (the full public URL of that request).
func VoiceReply(lang, answer string, poll bool, actionURL string) string {
	s := speech[language(lang)]
	say := func(text string) string {
		return `<Say language="` + s.locale + `" voice="` + s.voice + `">` + escape(text) + `</Say>`
	}
	thanks := map[string]string{VoiceAcked: s.thanks, VoiceSafe: s.safe, VoiceHelpNeeded: s.help}[answer]
	if thanks != "" {
		return xml.Header + `<Response>` + say(thanks) + `<Hangup/></Response>`
	}
	prompt := s.prompt
	if poll {
		prompt = s.pollPrompt
	}
	return xml.Header + `<Response>` +
		`<Gather input="dtmf" numDigits="1" action="` + escape(actionURL) + `" method="POST" timeout="10">` +
		say(s.retry+" "+prompt) + `</Gather>` + say(s.bye) + `</Response>`
}

// SMSReply is the TwiML with which the /hooks/twilio/sms handler answers an inbound SMS:
// a reply message with text, or no reply at all when text is "".
func SMSReply(text string) string {
	if text == "" {
		return xml.Header + `<Response></Response>`
	}
	return xml.Header + `<Response><Message>` + escape(text) + `</Message></Response>`
}

var links = regexp.MustCompile(`https?://\S+`)

// spokenText joins title and text as sentences, without links.
func spokenText(title, text string) string {
	title = oneLine(links.ReplaceAllString(title, ""))
	text = oneLine(links.ReplaceAllString(text, ""))
	switch {
	case title == "":
		return text
	case text == "":
		return title
	case strings.HasSuffix(title, ".") || strings.HasSuffix(title, "!") || strings.HasSuffix(title, "?"):
		return title + " " + text
	default:
		return title + ". " + text
	}
}

// cutEscaped returns the longest prefix of s whose escaped form takes at most room bytes,
// cut at a word when it must be cut.
func cutEscaped(s string, room int) string {
	if len(escape(s)) <= room {
		return s
	}
	used, end := 0, 0
	for i, r := range s {
		n := len(escape(string(r)))
		if used+n > room {
			break
		}
		used += n
		end = i + len(string(r))
	}
	cut := s[:end]
	if i := strings.LastIndexByte(cut, ' '); i > 0 {
		cut = cut[:i]
	}
	return cut
}

// escape escapes text for XML content and attribute values.
func escape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
