package incident

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/optimum-bcp/optimum"
)

// The channels a declaration can come by besides the app and the API (Declaration.Via).
const (
	ViaSMS     = "sms"     // a CRISIS text to the alert number
	ViaHotline = "hotline" // a voice message left on the hotline
)

// builtInKeywords are the words that pick a built-in template for a crisis declared by
// SMS or the hotline, in Spanish and English, written without accents (matching ignores
// them).
var builtInKeywords = map[string][]string{
	"power-loss":      {"apagon", "sin luz", "sin energia", "corte de energia", "corte de luz", "power loss", "power outage", "blackout"},
	"datacenter-down": {"centro de datos", "datacenter", "data center", "site caido", "servidores caidos"},
	"cyberattack":     {"ciberataque", "hackeo", "hackeados", "ransomware", "malware", "cyberattack", "hacked"},
	"earthquake":      {"sismo", "terremoto", "temblor", "earthquake"},
	"flood":           {"inundacion", "inundado", "inundada", "flood", "flooding"},
	"fire":            {"incendio", "fuego", "humo", "fire", "smoke"},
	"pandemic":        {"pandemia", "epidemia", "contagios", "pandemic", "epidemic"},
}

// keywords returns the words that pick t: its own, or else the built-in ones of its id,
// its causes and its names.
func (t Template) keywords() []string {
	if len(t.Keywords) > 0 {
		return t.Keywords
	}
	out := append([]string(nil), builtInKeywords[t.ID]...)
	out = append(out, t.Causes...)
	for _, l := range []string{"es", "en"} {
		if n := t.Texts[l].Name; n != "" {
			out = append(out, n)
		}
	}
	return out
}

// foldText lower-cases s, drops accents and turns every run of what is not a letter or a
// digit into one space, with a space at each end: " corte de energia ".
func foldText(s string) string {
	var b strings.Builder
	b.WriteByte(' ')
	space := true
	for _, r := range strings.ToLower(s) {
		if f, ok := unaccent[r]; ok {
			r = f
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

var unaccent = map[rune]rune{'á': 'a', 'à': 'a', 'ä': 'a', 'â': 'a', 'é': 'e', 'è': 'e', 'ë': 'e', 'ê': 'e',
	'í': 'i', 'ì': 'i', 'ï': 'i', 'î': 'i', 'ó': 'o', 'ò': 'o', 'ö': 'o', 'ô': 'o', 'ú': 'u', 'ù': 'u', 'ü': 'u', 'û': 'u', 'ñ': 'n', 'ç': 'c'}

// MatchTemplate returns the template whose keyword comes first in text (whole words,
// any case, accents ignored); the earlier template wins a tie. false when none matches.
func MatchTemplate(templates []Template, text string) (Template, bool) {
	folded := foldText(text)
	best, at := -1, len(folded)
	for i, t := range templates {
		for _, k := range t.keywords() {
			k = foldText(k)
			if strings.TrimSpace(k) == "" {
				continue
			}
			if p := strings.Index(folded, k); p >= 0 && p < at {
				best, at = i, p
			}
		}
	}
	if best < 0 {
		return Template{}, false
	}
	return templates[best], true
}

// levelsOf returns an impact and urgency the policy gives priority pr, trying equal ones
// first (high and high is P2 in the default matrix).
func (p Policy) levelsOf(pr Priority) (Level, Level, bool) {
	for _, l := range Levels {
		if p.Matrix[l][l] == pr {
			return l, l, true
		}
	}
	for _, i := range Levels {
		for _, u := range Levels {
			if p.Matrix[i][u] == pr {
				return i, u, true
			}
		}
	}
	return "", "", false
}

// CrisisPriority is the priority of a crisis declared by SMS or the hotline whose words
// match no template.
const CrisisPriority Priority = "P2"

// CrisisDeclaration is the declaration of a crisis reported in words (a CRISIS text, a
// voice message) by a person writing in lang: the template whose keywords the words
// match gives the classification, the audience and the messages; with none, it is
// CrisisPriority for the default audience. The title is the words' first line, cut to
// fit; the description is all of them.
func (s *Service) CrisisDeclaration(words, via string, templates []Template) (Declaration, string) {
	words = strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(words, "?"))
	words = strings.TrimSpace(words)
	title, _, _ := strings.Cut(words, "\n")
	d := Declaration{Title: clip(strings.TrimSpace(title), MaxTitle), Description: clip(words, MaxDescription), Via: via}
	if t, ok := MatchTemplate(templates, words); ok {
		d.Impact, d.Urgency = t.Impact, t.Urgency
		d.Services, d.Causes, d.Teams = t.Services, t.Causes, t.Teams
		d.SafetyPoll = t.SafetyPoll
		for _, l := range []string{"es", "en"} {
			if m := t.Texts[l].Message; m != "" {
				if d.Messages == nil {
					d.Messages = map[string]string{}
				}
				d.Messages[l] = clip(m, MaxMessage)
			}
		}
		return d, t.ID
	}
	if i, u, ok := s.policy.levelsOf(CrisisPriority); ok {
		d.Impact, d.Urgency = i, u
	} else {
		d.Impact, d.Urgency = High, High
	}
	return d, ""
}

// DeclareAsPerson declares d with a directory person as the requester: they are told
// the folio and, later, asked for their conformity. key makes it idempotent (see
// Declare).
func (s *Service) DeclareAsPerson(ctx context.Context, personID, name string, d Declaration, key string) (Incident, bool, error) {
	ctx = optimum.WithActor(ctx, optimum.Actor{ID: personID, Name: name, Role: optimum.RoleReporter, PersonID: personID})
	return s.Declare(ctx, d, key)
}

// AddVoiceTranscription puts the transcription of the voice message a crisis was declared
// with on its timeline, as information the requester gave.
func (d *Desk) AddVoiceTranscription(ctx context.Context, idOrFolio, personID, name, text string) (Incident, error) {
	ctx = optimum.WithActor(ctx, optimum.Actor{ID: personID, Name: name, Role: optimum.RoleReporter, PersonID: personID})
	return d.AnswerRequest(ctx, idOrFolio, clip(text, MaxNote))
}

// clip cuts s to at most n characters.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:n-1])) + "…"
}
