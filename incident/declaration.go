package incident

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/optimum-bcp/optimum"
)

// Limits of the declaration's fields, in characters.
const (
	MaxTitle       = 200
	MaxDescription = 10000
	MaxLocation    = 200
	MaxListItems   = 50
	MaxListItem    = 100
)

// Declaration is what a person fills in to declare an incident.
type Declaration struct {
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Services    []string `json:"services"`
	Causes      []string `json:"causes"`
	Impact      Level    `json:"impact"`
	Urgency     Level    `json:"urgency"`
	Location    string   `json:"location"`
	Teams       []string `json:"teams"`
	// Sites adds everyone at these sites (site ids or names, or a city for all its
	// sites: "Torre Norte", "CDMX") to the audience, as well as the Teams.
	Sites []string `json:"sites,omitempty"`
	Drill bool     `json:"drill"`
	// SafetyPoll asks every recipient whether they are safe ("1 = estoy a salvo,
	// 2 = necesito ayuda") instead of only to acknowledge: earthquakes, floods, fires.
	SafetyPoll bool `json:"safety_poll"`
	// Messages are what the audience is told, by language ("es", "en"): the push text
	// and the spoken call of each person, in their own language. A scenario template
	// fills them in both languages; empty ones fall back to the description.
	Messages map[string]string `json:"messages,omitempty"`
	// Ladder overrides the escalation ladder chosen by priority and services.
	Ladder string `json:"ladder,omitempty"`
	// Channels limits the channels alerts go out on (webpush, sms, voice, email); empty for
	// every configured one. Drills use it to rehearse one channel.
	Channels []string `json:"channels,omitempty"`
	// People adds people (ids or emails) to the audience; with no Teams, the audience is
	// them alone. Canary marks the scheduled end-to-end test alert (set with Drill, so it
	// stays out of the indicators; its messages say PRUEBA / TEST). Neither can be set
	// through the API: the canary uses them.
	People []string `json:"-"`
	Canary bool     `json:"-"`
	// Via names the channel a declaration came by when it is not the app or the API:
	// "sms" (a CRISIS text) or "hotline" (a voice message). It is in incident.declared's
	// data; a declaration by SMS gets its folio in the SMS answer, so the folio notice
	// does not go by SMS again. It cannot be set through the API.
	Via string `json:"-"`
}

// MaxMessage is the longest audience message, in characters.
const MaxMessage = 500

// Normalize trims white space and drops empty and repeated list items, so the same
// declaration typed twice is recognised as the same.
func (d *Declaration) Normalize() {
	d.Title = strings.TrimSpace(d.Title)
	d.Description = strings.TrimSpace(d.Description)
	d.Location = strings.TrimSpace(d.Location)
	d.Impact = Level(strings.ToLower(strings.TrimSpace(string(d.Impact))))
	d.Urgency = Level(strings.ToLower(strings.TrimSpace(string(d.Urgency))))
	d.Services = cleanList(d.Services, false)
	d.Causes = cleanList(d.Causes, false)
	d.Teams = cleanList(d.Teams, true)
	if d.Sites = cleanList(d.Sites, false); len(d.Sites) == 0 {
		d.Sites = nil
	}
	for lang, m := range d.Messages {
		if m = strings.TrimSpace(m); m == "" {
			delete(d.Messages, lang)
		} else {
			d.Messages[lang] = m
		}
	}
	if len(d.Messages) == 0 {
		d.Messages = nil
	}
	d.Ladder = strings.ToLower(strings.TrimSpace(d.Ladder))
	d.Channels = cleanList(d.Channels, true)
	if len(d.Channels) == 0 {
		d.Channels = nil
	}
}

func cleanList(in []string, lower bool) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = strings.TrimSpace(s)
		if lower {
			s = strings.ToLower(s)
		}
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Validate returns an EINVALID error naming every field that is wrong, or nil. knownTeams
// are the teams an audience may name; nil leaves teams to the directory. Call Normalize
// first.
func (d Declaration) Validate(knownTeams []string) error {
	var p problems
	add, text := p.add, p.text
	text("title", d.Title, MaxTitle, true)
	text("description", d.Description, MaxDescription, false)
	text("location", d.Location, MaxLocation, false)
	for _, lang := range slices.Sorted(maps.Keys(d.Messages)) {
		if lang != "es" && lang != "en" {
			add("messages."+truncate(lang, 10), "is not a language of the app: es or en")
			continue
		}
		text("messages."+lang, d.Messages[lang], MaxMessage, false)
	}
	list := func(field string, items []string) {
		if len(items) > MaxListItems {
			add(field, "has %d items, at most %d", len(items), MaxListItems)
			return
		}
		for i, s := range items {
			text(fmt.Sprintf("%s[%d]", field, i), s, MaxListItem, false)
		}
	}
	list("services", d.Services)
	list("causes", d.Causes)
	level := func(field string, l Level) {
		switch {
		case l == "":
			add(field, "is required: critical, high, medium or low")
		case !l.Valid():
			add(field, "%q is not one of critical, high, medium or low", truncate(string(l), 40))
		}
	}
	level("impact", d.Impact)
	level("urgency", d.Urgency)
	if len(d.Teams) > MaxListItems {
		add("teams", "has %d items, at most %d", len(d.Teams), MaxListItems)
	}
	for i, t := range d.Teams {
		if knownTeams != nil && !slices.Contains(knownTeams, t) {
			add(fmt.Sprintf("teams[%d]", i), "%q is not a known team (%s)", truncate(t, 40), strings.Join(knownTeams, ", "))
		}
	}
	if len(d.Sites) > MaxListItems {
		add("sites", "has %d items, at most %d", len(d.Sites), MaxListItems)
	}
	text("ladder", d.Ladder, 64, false)
	for i, c := range d.Channels {
		if c != "webpush" && c != "sms" && c != "voice" && c != "email" {
			add(fmt.Sprintf("channels[%d]", i), "%q is not a channel (webpush, sms, voice, email)", truncate(c, 40))
		}
	}
	return optimum.Invalid("The declaration has errors.", p)
}

// problems collects what is wrong with the fields of a form.
type problems []optimum.FieldError

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, optimum.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// text checks a free-text field: present when required, UTF-8, at most max characters,
// no control characters other than tabs and line breaks.
func (p *problems) text(field, v string, max int, required bool) {
	switch {
	case required && strings.TrimSpace(v) == "":
		p.add(field, "is required")
	case !utf8.ValidString(v):
		p.add(field, "must be UTF-8 text")
	case utf8.RuneCountInString(v) > max:
		p.add(field, "is too long: %d characters, at most %d", utf8.RuneCountInString(v), max)
	case strings.ContainsFunc(v, isControl):
		p.add(field, "must not contain control characters")
	}
}

// isControl reports control characters other than tab and line breaks.
func isControl(r rune) bool {
	return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
