package twilio

// Alphabet is the GSM 03.38 alphabet as the alert templates see it
// (escalation.SMSAlphabet): they write their SMS in it and fit them to one segment.
type Alphabet struct{}

// Transliterate maps what GSM-7 lacks to its nearest GSM-7 form (see Transliterate).
func (Alphabet) Transliterate(text string) string { return Transliterate(text) }

// Segments is how many segments text takes (see Segments).
func (Alphabet) Segments(text string) int {
	_, n := Segments(text)
	return n
}

// Has reports whether r is in the GSM-7 alphabet, basic or extension.
func (Alphabet) Has(r rune) bool { return septets[r] != 0 }
