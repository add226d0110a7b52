package twilio

import (
	"strings"
	"unicode/utf8"
)

// Encodings an SMS can travel in.
const (
	GSM7 = "GSM-7"
	UCS2 = "UCS-2"
)

// Characters per segment. A single SMS carries 160 GSM-7 septets or 70 UCS-2 units; a
// longer text is split into parts that each give up room to the concatenation header.
const (
	gsmSingle  = 160
	gsmPart    = 153
	ucs2Single = 70
	ucs2Part   = 67
)

// gsmBasic is the GSM 03.38 default alphabet, one septet each (the escape code 0x1B is
// left out: it is not a character).
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtension is the GSM 03.38 extension table: escape + character, two septets each.
const gsmExtension = "\f^{}\\[~]|€"

// septets is the cost of each GSM-7 character; a rune missing from it forces UCS-2.
var septets = func() map[rune]int {
	m := make(map[rune]int, 140)
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtension {
		m[r] = 2
	}
	return m
}()

// Segments tells how a text travels as an SMS: in GSM-7 when every character is in the GSM
// 03.38 alphabet (extension characters such as € [ ] { } count double), in UCS-2 otherwise,
// and in how many segments (160 or 70 characters alone, 153 or 67 per part once
// concatenated). One á, í, ó or ú anywhere turns a 160-character GSM-7 message into three
// UCS-2 segments: Transliterate avoids that. An empty text is 0 segments.
func Segments(text string) (encoding string, segments int) {
	if text == "" {
		return GSM7, 0
	}
	if IsGSM7(text) {
		return GSM7, pack(text, gsmSingle, gsmPart, func(r rune) int { return septets[r] })
	}
	return UCS2, pack(text, ucs2Single, ucs2Part, func(r rune) int { return utf16Units(r) })
}

// IsGSM7 reports whether every character of text is in the GSM 03.38 alphabet.
func IsGSM7(text string) bool {
	for _, r := range text {
		if septets[r] == 0 {
			return false
		}
	}
	return true
}

// pack counts segments: a text that fits in single goes alone; otherwise parts of at most
// part units are filled greedily, and a character never straddles two parts (an extension
// septet pair or a UTF-16 surrogate pair moves whole to the next part, as phones do).
func pack(text string, single, part int, cost func(rune) int) int {
	total := 0
	for _, r := range text {
		total += cost(r)
	}
	if total <= single {
		return 1
	}
	segments, used := 1, 0
	for _, r := range text {
		c := cost(r)
		if used+c > part {
			segments++
			used = 0
		}
		used += c
	}
	return segments
}

func utf16Units(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// transliterations replace characters that are not in GSM-7 with the nearest ones that
// are. Only what is missing is mapped: é, É, ñ, Ñ, ü, Ü, ¿ and ¡ are GSM-7 and stay, so a
// Spanish text keeps its ñ and its opening marks; á í ó ú (and their capitals) lose the
// accent, which Spanish readers restore without effort.
var transliterations = map[rune]string{
	'á': "a", 'í': "i", 'ó': "o", 'ú': "u",
	'Á': "A", 'Í': "I", 'Ó': "O", 'Ú': "U",
	'È': "E", 'Ì': "I", 'Ò': "O", 'Ù': "U", 'À': "A",
	'â': "a", 'ê': "e", 'î': "i", 'ô': "o", 'û': "u",
	'Â': "A", 'Ê': "E", 'Î': "I", 'Ô': "O", 'Û': "U",
	'ã': "a", 'õ': "o", 'Ã': "A", 'Õ': "O",
	'ë': "e", 'ï': "i", 'ÿ': "y", 'Ë': "E", 'Ï': "I",
	'ç': "Ç", // GSM-7 has only the capital; phones show it for both
	'ý': "y", 'Ý': "Y",
	'ª': "a", 'º': "o", '°': "o",
	'‘': "'", '’': "'", '‚': "'", '´': "'", '`': "'",
	'“': "\"", '”': "\"", '„': "\"", '«': "\"", '»': "\"",
	'–': "-", '—': "-", '‐': "-", '‑': "-", '−': "-",
	'…': "...", '•': "-", '·': ".",
	'\u00a0': " ", '\u2007': " ", '\u202f': " ", '\u2009': " ", '\t': " ",
	'\u200b': "", '\ufeff': "",
}

// Transliterate maps the characters of text that GSM-7 lacks to their nearest GSM-7 form
// (see transliterations), so that a Spanish alert fits in one 160-character segment instead
// of three 70-character ones. Characters with no sensible equivalent (emoji, other scripts)
// are kept: the text then stays UCS-2, and the caller should send the original instead.
func Transliterate(text string) string {
	if IsGSM7(text) {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	for _, r := range text {
		if septets[r] != 0 {
			b.WriteRune(r)
		} else if s, ok := transliterations[r]; ok {
			b.WriteString(s)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// fitSMS returns text unchanged when it fits in max segments (max <= 0: no limit) and
// Twilio's 1600 characters, and otherwise its longest prefix that does, ending in "...".
// Fewer characters never need more segments, so a binary search over the cut finds it.
func fitSMS(text string, max int) string {
	fits := func(s string) bool {
		if utf8.RuneCountInString(s) > maxBody {
			return false
		}
		_, n := Segments(s)
		return max <= 0 || n <= max
	}
	if fits(text) {
		return text
	}
	runes := []rune(text)
	lo, hi := 0, len(runes) // runes[:lo]+"..." fits; runes[:hi]+"..." does not (or hi is all)
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if fits(string(runes[:mid]) + ellipsis) {
			lo = mid
		} else {
			hi = mid
		}
	}
	cut := string(runes[:lo])
	// End at a word when one ends nearby, rather than in the middle of one.
	if i := strings.LastIndexAny(cut, " \n"); i >= 0 && utf8.RuneCountInString(cut[i:]) <= 16 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " \n.,;:") + ellipsis
}

// ellipsis is three dots, not "…": the single character is not GSM-7.
const ellipsis = "..."

// maxBody is the longest Body Twilio accepts (error 21617 past it).
const maxBody = 1600
