package escalation

import "testing"

// CRISIS is a keyword only as the first word of the SMS, in any case, followed by
// nothing, white space or punctuation.
func TestCrisisWords(t *testing.T) {
	for _, c := range []struct {
		body, words string
		ok          bool
	}{
		{"CRISIS incendio en la bodega", "incendio en la bodega", true},
		{"  crisis: se inundó el sótano ", "se inundó el sótano", true},
		{"Crisis", "", true},
		{"CRISIS   ", "", true},
		{"crisis - fire on 3", "fire on 3", true},
		{"crisisnada", "", false},
		{"1 BCP-2026-000001", "", false},
		{"hay una crisis", "", false},
		{"", "", false},
	} {
		words, ok := CrisisWords(c.body)
		if words != c.words || ok != c.ok {
			t.Errorf("CrisisWords(%q) = %q %v, want %q %v", c.body, words, ok, c.words, c.ok)
		}
	}
}
