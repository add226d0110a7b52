package twilio

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Kinds of inbound SMS replies.
const (
	ReplyAck        = "ack"         // "1", "OK", "Sí", "recibido"…: the alert was received
	ReplySafe       = "safe"        // safety poll: "1", "a salvo", "estoy bien"
	ReplyHelpNeeded = "help_needed" // safety poll: "2", "ayuda", "necesito ayuda"
	ReplyHelp       = "help"        // HELP / AYUDA / INFO: the carrier-mandated help keyword
	ReplyStop       = "stop"        // STOP and the other opt-out keywords
	ReplyStart      = "start"       // START / YES / UNSTOP / ALTA: opt back in
	ReplyUnknown    = "unknown"
)

// Reply is an inbound SMS read for what the person meant.
type Reply struct {
	Kind  string // one of the Reply… kinds
	Folio string // the folio quoted in the reply, normalised (BCP-2026-000042), or ""
	Raw   string // the body as received
}

// Keyword sets, matched after lower-casing, dropping accents and punctuation. The opt-out
// and opt-in ones are Twilio's defaults (Advanced Opt-Out) plus their Spanish equivalents,
// except YES: a person answering an alert with "yes" means they got it, like "SI", so it
// acknowledges (START and UNSTOP still opt in). Like Twilio, they count only when they are
// the whole reply, so "no me llames, alto total" does not unsubscribe anyone by accident.
var (
	stopWords  = words("stop stopall unsubscribe cancel end quit optout revoke baja alto")
	startWords = words("start unstop alta")
	helpWords  = words("help ayuda info")
	ackWords   = words("1 ok okay oki si yes ack recibido recibida enterado enterada confirmo confirmado confirmada visto")
	safeWords  = words("1 safe bien ok salvo")
	needWords  = words("2 ayuda help auxilio sos socorro emergencia")
)

var safePhrases = []string{"a salvo", "estoy bien", "estamos bien", "i am safe", "im safe", "i am ok", "im ok"}

var needPhrases = []string{"necesito ayuda", "need help", "necesitamos ayuda"}

var folioPattern = regexp.MustCompile(`(?i)\bBCP[-\s]?(\d{4})[-\s]?(\d{1,9})\b`)

// ParseReply reads an inbound SMS. Without a poll, "1", "OK", "Sí", "ACK", "recibido"…
// (any case, with or without the folio, before or after) acknowledge. During a safety poll
// ("1 = estoy a salvo, 2 = necesito ayuda"), "1" means safe and "2" means help needed; so
// do "AYUDA" and "HELP", because a person who may be in danger and writes "ayuda" must not
// be answered with the carrier's help text only. STOP, START and HELP and their Spanish
// equivalents are recognised when they are the whole reply, as Twilio does.
func ParseReply(body string, poll bool) Reply {
	r := Reply{Kind: ReplyUnknown, Raw: body}
	rest := body
	if m := folioPattern.FindStringSubmatchIndex(body); m != nil {
		year, _ := strconv.Atoi(body[m[2]:m[3]])
		n, _ := strconv.Atoi(body[m[4]:m[5]])
		r.Folio = fmt.Sprintf("BCP-%04d-%06d", year, n)
		rest = body[:m[0]] + " " + body[m[1]:]
	}
	text := normalise(rest)
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return r
	}
	whole := strings.Join(fields, "")
	head := fields[0]

	if poll {
		// "no estoy bien" and "no, estoy bien" mean opposite things: a "no" anywhere keeps
		// a reply from reading as safe, and a human reads it.
		negated := slices.Contains(fields, "no")
		switch {
		case needWords[head] || hasPhrase(text, needPhrases):
			r.Kind = ReplyHelpNeeded
		case !negated && (safeWords[head] || hasPhrase(text, safePhrases)):
			r.Kind = ReplySafe
		case stopWords[whole]:
			r.Kind = ReplyStop
		case startWords[whole]:
			r.Kind = ReplyStart
		}
		return r
	}
	switch {
	case stopWords[whole]:
		r.Kind = ReplyStop
	case startWords[whole]:
		r.Kind = ReplyStart
	case helpWords[whole]:
		r.Kind = ReplyHelp
	case ackWords[head]:
		r.Kind = ReplyAck
	}
	return r
}

// normalise lower-cases s, drops accents and turns punctuation into spaces, so "¡Sí!",
// "SI." and "si" read alike.
func normalise(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch c {
		case 'á', 'à', 'â', 'ä':
			c = 'a'
		case 'é', 'è', 'ê', 'ë':
			c = 'e'
		case 'í', 'ì', 'î', 'ï':
			c = 'i'
		case 'ó', 'ò', 'ô', 'ö':
			c = 'o'
		case 'ú', 'ù', 'û', 'ü':
			c = 'u'
		}
		switch {
		case unicode.IsLetter(c) || unicode.IsDigit(c):
			b.WriteRune(c)
		case c == '\'' || c == '’':
			// "I'm safe" reads as "im safe".
		default:
			b.WriteByte(' ')
		}
	}
	return b.String()
}

func hasPhrase(text string, phrases []string) bool {
	text = " " + strings.Join(strings.Fields(text), " ") + " "
	for _, p := range phrases {
		if strings.Contains(text, " "+p+" ") {
			return true
		}
	}
	return false
}

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}
