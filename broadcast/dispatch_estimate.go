package broadcast

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Estimate is how long reaching some people on one channel takes at its configured rate:
// the figures the readiness page and the declare confirmation show.
type Estimate struct {
	Channel string `json:"channel"`
	People  int    `json:"people"`
	// RatePerSecond is the channel's configured rate; 0 means unlimited.
	RatePerSecond float64 `json:"rate_per_second"`
	// Seconds is People / RatePerSecond, rounded up; nil when the rate is unlimited
	// (then the providers and the network set the pace, not a configured rate).
	Seconds *int64 `json:"seconds"`
	// Text says it in the reader's language: "SMS a 500 personas a 10/s: 50 s".
	Text string `json:"text"`
}

// Estimates returns, in the order of channels, the estimate for each channel with
// people > 0: people[channel] at rates[channel] a second, described in lang ("es", or
// "en").
func Estimates(channels []string, people map[string]int, rates map[string]float64, lang string) []Estimate {
	out := []Estimate{}
	for _, ch := range channels {
		n := people[ch]
		if n <= 0 {
			continue
		}
		e := Estimate{Channel: ch, People: n, RatePerSecond: rates[ch]}
		if e.RatePerSecond > 0 {
			s := int64(math.Ceil(float64(n) / e.RatePerSecond))
			e.Seconds = &s
		}
		e.Text = e.Describe(lang)
		out = append(out, e)
	}
	return out
}

// estimateWords are the words of Describe, by language.
var estimateWords = map[string]struct {
	channel                           map[string]string
	to, person, people, at, unlimited string
}{
	"es": {channel: map[string]string{ChannelWebPush: "Push", ChannelSMS: "SMS", ChannelVoice: "Llamada", ChannelEmail: "Correo"},
		to: "a", person: "persona", people: "personas", at: "a", unlimited: "sin límite de ritmo"},
	"en": {channel: map[string]string{ChannelWebPush: "Push", ChannelSMS: "SMS", ChannelVoice: "Call", ChannelEmail: "Email"},
		to: "to", person: "person", people: "people", at: "at", unlimited: "no rate limit"},
}

// Describe says the estimate in lang: "SMS a 500 personas a 10/s: 50 s", "Llamada a 500
// personas a 2/s: 4 min 10 s", "Push to 1,200 people: no rate limit".
func (e Estimate) Describe(lang string) string {
	w, ok := estimateWords[lang]
	if !ok {
		lang, w = "es", estimateWords["es"] // Spanish by default
	}
	name := w.channel[e.Channel]
	if name == "" {
		name = e.Channel
	}
	who := w.people
	if e.People == 1 {
		who = w.person
	}
	s := fmt.Sprintf("%s %s %s %s", name, w.to, groupDigits(int64(e.People), lang), who)
	if e.Seconds == nil {
		return s + ": " + w.unlimited
	}
	return fmt.Sprintf("%s %s %s/s: %s", s, w.at, formatRate(e.RatePerSecond, lang), FormatDuration(*e.Seconds))
}

// DescribeAll joins the estimates' texts: "SMS a 500 personas a 10/s: 50 s; Llamada a …".
func DescribeAll(es []Estimate) string {
	texts := make([]string, len(es))
	for i, e := range es {
		texts[i] = e.Text
	}
	return strings.Join(texts, "; ")
}

// FormatDuration writes whole seconds the way both languages read them: "50 s",
// "4 min 10 s", "2 h 5 min" (hours drop the seconds), "0 s".
func FormatDuration(seconds int64) string {
	h, m, s := seconds/3600, seconds%3600/60, seconds%60
	var parts []string
	if h > 0 {
		parts = append(parts, fmt.Sprintf("%d h", h))
		if m > 0 {
			parts = append(parts, fmt.Sprintf("%d min", m))
		}
		return strings.Join(parts, " ")
	}
	if m > 0 {
		parts = append(parts, fmt.Sprintf("%d min", m))
	}
	if s > 0 || m == 0 {
		parts = append(parts, fmt.Sprintf("%d s", s))
	}
	return strings.Join(parts, " ")
}

// groupDigits writes n with thousands grouped: 12 500 in Spanish (a space, as the RAE
// recommends), 12,500 in English.
func groupDigits(n int64, lang string) string {
	sep := "\u00a0" // no-break space: the number stays on one line
	if lang == "en" {
		sep = ","
	}
	digits := strconv.FormatInt(n, 10)
	if len(digits) <= 4 && lang == "es" { // Spanish leaves four-digit numbers whole: 2500
		return digits
	}
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(d)
	}
	return b.String()
}

// formatRate writes a rate: whole numbers as such, else one decimal with the
// language's decimal mark (0,5 in Spanish, 0.5 in English).
func formatRate(r float64, lang string) string {
	if r == math.Trunc(r) {
		return groupDigits(int64(r), lang)
	}
	s := strconv.FormatFloat(r, 'f', 1, 64)
	if lang != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}
