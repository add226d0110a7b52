package broadcast

import (
	"fmt"
	"regexp"
	"strings"
)

// Kinds of SMS sender a country rule can name.
const (
	SenderLongCode     = "long_code"         // an ordinary phone number, E.164: +525512345678
	SenderShortCode    = "short_code"        // 3 to 8 digits: 89992
	SenderAlphanumeric = "alphanumeric"      // 1 to 11 letters, digits and spaces, at least one letter: OPTIMUM
	SenderService      = "messaging_service" // a Twilio Messaging Service SID: MG + 32 hex digits
)

var (
	longCode     = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	shortCode    = regexp.MustCompile(`^[0-9]{3,8}$`)
	alphanumeric = regexp.MustCompile(`^[A-Za-z0-9 ]{1,11}$`)
	serviceSID   = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
	countryCode  = regexp.MustCompile(`^[1-9][0-9]{0,3}$`)
)

// SenderKind says what kind of SMS sender s is, or "" when it is none: an E.164 number
// is a long code, 3–8 digits a short code, a Twilio Messaging Service SID (MG…) a
// messaging service, and up to 11 letters, digits and spaces with a letter an
// alphanumeric sender ID.
func SenderKind(s string) string {
	switch {
	case longCode.MatchString(s):
		return SenderLongCode
	case shortCode.MatchString(s):
		return SenderShortCode
	case serviceSID.MatchString(s):
		return SenderService
	case alphanumeric.MatchString(s) && strings.ContainsFunc(s, func(r rune) bool {
		return (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z')
	}):
		return SenderAlphanumeric
	}
	return ""
}

// CountrySenders maps country calling codes ("52" Mexico, "34" Spain, "1" North
// America) to the SMS sender used for numbers of that country. The longest code that
// prefixes a number wins, so "1" can be a US long code while "1787" is another for
// Puerto Rico. A number of a country without a rule gets the provider's default sender.
type CountrySenders map[string]string

// For returns the sender for the E.164 number to, and whether a rule named one.
func (c CountrySenders) For(to string) (string, bool) {
	digits := strings.TrimPrefix(to, "+")
	for n := min(4, len(digits)); n >= 1; n-- {
		if s, ok := c[digits[:n]]; ok {
			return s, true
		}
	}
	return "", false
}

// Validate reports every rule whose country code or sender is not valid; kinds are the
// sender kinds the provider supports (a Messaging Service is Twilio's only).
func (c CountrySenders) Validate(provider string, kinds ...string) []error {
	var errs []error
	for cc, s := range c {
		if !countryCode.MatchString(cc) {
			errs = append(errs, fmt.Errorf("%s: %q is not a country calling code (1 to 4 digits, such as 52 or 34)", provider, cc))
		}
		k := SenderKind(s)
		ok := false
		for _, want := range kinds {
			ok = ok || k == want
		}
		if !ok {
			errs = append(errs, fmt.Errorf("%s: the sender %q for country code %s is not one of: %s", provider, s, cc, strings.Join(kinds, ", ")))
		}
	}
	return errs
}

// CountryOf returns the calling code among codes that prefixes the E.164 number to (the
// longest), or "".
func CountryOf(to string, codes []string) string {
	digits := strings.TrimPrefix(to, "+")
	best := ""
	for _, c := range codes {
		if strings.HasPrefix(digits, c) && len(c) > len(best) {
			best = c
		}
	}
	return best
}
