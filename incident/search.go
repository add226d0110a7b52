package incident

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/optimum-bcp/optimum"
)

// Search understands Spanish and English the same way in every database: the text is
// normalized here, in Go (lower case, accents folded, stop words dropped, a light suffix
// stemmer, bilingual synonyms folded to one term), and the database only indexes and
// ranks the normalized words (SQLite FTS5 with bm25; PostgreSQL a 'simple' tsvector).
// Query and documents go through the same Terms, so "inundaciones", "Inundación" and
// "flooding" meet.

// MaxQuery is the longest search text accepted, in characters.
const MaxQuery = 500

// maxQueryTerms bounds the terms of one search, so a long description stays cheap.
const maxQueryTerms = 64

// Terms returns the normalized search terms of a text, in order, repeats kept.
func Terms(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(fold(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if utf8.RuneCountInString(w) < 2 || stopWords[w] {
			continue
		}
		st := stem(w)
		if c, ok := synonyms[st]; ok {
			st = c
		}
		out = append(out, st)
	}
	return out
}

// fold lowercases and removes the accents of Spanish and other Latin letters.
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		r = unicode.ToLower(r)
		if f, ok := accents[r]; ok {
			return f
		}
		return r
	}, s)
}

var accents = func() map[rune]rune {
	m := map[rune]rune{}
	for base, list := range map[rune]string{'a': "áàäâãå", 'e': "éèëê", 'i': "íìïî", 'o': "óòöôõ", 'u': "úùüû", 'n': "ñ", 'c': "ç"} {
		for _, r := range list {
			m[r] = base
		}
	}
	return m
}()

// stem strips the plural and gender endings of Spanish and the plural and verb endings
// of English. It is deliberately light: both query and documents are stemmed alike, so
// consistency matters more than linguistic precision.
func stem(w string) string {
	switch {
	case len(w) <= 3: // red, luz, ups: too short to strip

	case strings.HasSuffix(w, "iones"): // inundaciones → inundacion
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "ing") && len(w) > 5: // flooding → flood
		w = w[:len(w)-3]
	case strings.HasSuffix(w, "ed") && len(w) > 4: // flooded → flood
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss"): // servidores → servidore
		w = w[:len(w)-1]
	}
	if len(w) > 3 && strings.ContainsRune("aeo", rune(w[len(w)-1])) { // servidore → servidor, caída → caid
		w = w[:len(w)-1]
	}
	if n := len(w); n > 2 {
		switch w[n-1] {
		case 'y': // battery, batteries → batteri
			w = w[:n-1] + "i"
		case 'z': // luz, luces → luc
			w = w[:n-1] + "c"
		}
	}
	return w
}

var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`de la que el en los del se las por un para con no una su al lo como mas pero sus le ya
		este si porque esta entre cuando muy sin sobre tambien me hasta hay donde quien desde todo nos durante todos uno
		les ni contra otros ese eso ante ellos esto mi antes algunos unos yo otro otras otra tanto esa estos mucho
		nada muchos cual poco ella estar estas algunas algo nosotros mis tu te ti tus es son fue ha han esta estan era hace
		the an and or of to in on at for with by from is are was were be been this that it its as not but has have had
		our we they their there what which who will would can could into after before during over under`) {
		m[w] = true
	}
	return m
}()

// synonymGroups fold words of both languages that mean the same to one term.
var synonymGroups = [][]string{
	{"power", "energy", "energía", "electricidad", "eléctrico", "eléctrica", "luz", "apagón", "blackout", "electricity", "electrical"},
	{"fire", "incendio", "fuego", "humo", "smoke"},
	{"flood", "inundación", "inundado", "inundada", "water", "agua", "fuga"},
	{"earthquake", "sismo", "terremoto", "temblor", "quake"},
	{"datacenter", "cpd", "datacentre"},
	{"server", "servidor"},
	{"network", "red", "connectivity", "conectividad", "internet"},
	{"outage", "caída", "caído", "failure", "falla", "fallo", "down"},
	{"attack", "ataque", "cyberattack", "ciberataque", "hacker", "intrusion", "intrusión"},
	{"ransomware", "malware", "virus", "cifrado", "encrypted"},
	{"pandemic", "pandemia", "epidemic", "epidemia", "contagio", "contagion", "covid"},
	{"database", "bd"},
	{"email", "correo", "mail"},
	{"phone", "teléfono", "telefonía", "telephony"},
	{"cooling", "enfriamiento", "hvac", "temperatura", "temperature", "calor", "heat"},
	{"battery", "batería", "ups"},
	{"generator", "generador", "planta"},
	{"building", "edificio", "oficina", "office"},
	{"evacuation", "evacuación", "evacuar", "evacuate"},
	{"storage", "almacenamiento", "disco", "disk", "san"},
	{"payment", "pago", "cobro"},
}

var synonyms = func() map[string]string {
	m := map[string]string{}
	for _, g := range synonymGroups {
		canon := stem(fold(g[0]))
		for _, w := range g {
			m[stem(fold(w))] = canon
		}
	}
	return m
}()

// IndexText is the normalized text of an incident's searchable fields, as the store
// indexes it: title, body (description and location), services, causes and solution
// (resolution and known-error workaround).
type IndexText struct {
	Title, Body, Services, Causes, Solution string
}

// Index returns the normalized text of an incident for the search index.
func Index(inc Incident) IndexText {
	join := func(parts ...string) string { return strings.Join(Terms(strings.Join(parts, " ")), " ") }
	solution := inc.Resolution
	if inc.KnownError != nil {
		solution += " " + inc.KnownError.Workaround
	}
	return IndexText{
		Title:    join(inc.Title),
		Body:     join(inc.Description, inc.Location),
		Services: join(inc.Services...),
		Causes:   join(inc.Causes...),
		Solution: join(solution),
	}
}

// Query is what the declare form searches with before the incident exists.
type Query struct {
	Text     string   `json:"q"`
	Services []string `json:"services"`
	Causes   []string `json:"causes"`
}

// Match is a past incident similar to the one at hand, with how it was solved.
type Match struct {
	ID         string      `json:"id"`
	Folio      string      `json:"folio"`
	Title      string      `json:"title"`
	Status     Status      `json:"status"`
	Priority   Priority    `json:"priority"`
	Services   []string    `json:"services"`
	Causes     []string    `json:"causes"`
	CreatedAt  time.Time   `json:"created_at"`
	Resolution string      `json:"resolution,omitempty"`
	KnownError *KnownError `json:"known_error,omitempty"`
	// Score is the relevance, higher is more similar; comparable within one answer only.
	Score float64 `json:"score"`
}

// MatchOf returns the match view of an incident.
func MatchOf(inc Incident, score float64) Match {
	return Match{ID: inc.ID, Folio: inc.Folio, Title: inc.Title, Status: inc.Status, Priority: inc.Priority,
		Services: inc.Services, Causes: inc.Causes, CreatedAt: inc.CreatedAt, Resolution: inc.Resolution,
		KnownError: inc.KnownError, Score: score}
}

// Search returns the past incidents most like a query, best first.
func (d *Desk) Search(ctx context.Context, q Query, limit int) ([]Match, error) {
	var f []optimum.FieldError
	all := q.Text + " " + strings.Join(q.Services, " ") + " " + strings.Join(q.Causes, " ")
	switch {
	case !utf8.ValidString(all):
		f = append(f, optimum.FieldError{Field: "q", Message: "must be UTF-8 text"})
	case utf8.RuneCountInString(all) > MaxQuery:
		f = append(f, optimum.FieldError{Field: "q", Message: fmt.Sprintf("is too long: %d characters, at most %d", utf8.RuneCountInString(all), MaxQuery)})
	}
	if err := optimum.Invalid("The search has errors.", f); err != nil {
		return nil, err
	}
	terms := Terms(all)
	if len(terms) == 0 {
		return nil, optimum.Invalid("The search has errors.", []optimum.FieldError{{Field: "q", Message: "has no words to search for"}})
	}
	return d.similar(ctx, terms, "", limit)
}

// Similar returns the past incidents most like the incident, best first.
func (d *Desk) Similar(ctx context.Context, idOrFolio string, limit int) ([]Match, error) {
	inc, err := d.svc.Get(ctx, idOrFolio)
	if err != nil {
		return nil, err
	}
	terms := Terms(strings.Join(append(append([]string{inc.Title, inc.Title, inc.Description}, inc.Services...), inc.Causes...), " "))
	if len(terms) == 0 {
		return []Match{}, nil
	}
	return d.similar(ctx, terms, inc.ID, limit)
}

func (d *Desk) similar(ctx context.Context, terms []string, exclude string, limit int) ([]Match, error) {
	if limit <= 0 || limit > 50 {
		limit = 10
	}
	seen := map[string]bool{}
	uniq := terms[:0:0]
	for _, t := range terms {
		if !seen[t] && len(uniq) < maxQueryTerms {
			seen[t] = true
			uniq = append(uniq, t)
		}
	}
	ms, err := d.store.Similar(ctx, uniq, exclude, limit)
	if ms == nil {
		ms = []Match{}
	}
	return ms, err
}
