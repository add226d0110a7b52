package escalation

import (
	"strings"

	"github.com/optimum-bcp/optimum/broadcast"
)

// NoLadder, as an incident's ladder, alerts its audience only (at once on each of its
// channels) and climbs no ladder: the page about a failed canary uses it.
const NoLadder = "none"

// canaryWords replace a drill's first words in the messages of the canary (the scheduled
// end-to-end test alert, always a drill): it is a test of the system, not a rehearsal of
// people, and says so on every channel.
var canaryWords = []struct{ drill, canary string }{
	{"SIMULACRO. ", "PRUEBA. "}, {"DRILL. ", "TEST. "},
	{"SIMULACRO · ", "PRUEBA · "}, {"DRILL · ", "TEST · "},
	{"Esto es un simulacro. ", "Esto es una prueba del sistema de alertas. "},
	{"This is a drill. ", "This is a test of the alert system. "},
}

// canaryLabel puts PRUEBA / TEST first in every part of a canary's message.
func canaryLabel(m *broadcast.Message) {
	label := func(s string) string {
		for _, w := range canaryWords {
			if strings.HasPrefix(s, w.drill) {
				return w.canary + s[len(w.drill):]
			}
		}
		if s == "" {
			return s
		}
		if m.Language == "en" {
			return "TEST. " + s
		}
		return "PRUEBA. " + s
	}
	m.Title, m.Text = label(m.Title), label(m.Text)
}
