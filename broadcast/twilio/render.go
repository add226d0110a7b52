package twilio

import (
	"strings"
)

// language returns "es" or "en" for a language tag such as "es-MX" or "EN".
func language(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if strings.HasPrefix(tag, "en") {
		return "en"
	}
	return "es"
}

// oneLine collapses runs of white space, so that pasted text does not waste segments.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
