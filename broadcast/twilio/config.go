package twilio

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
)

// Config is what the Twilio senders need. It is filled from TWILIO_ACCOUNT_SID,
// TWILIO_AUTH_TOKEN, TWILIO_FROM, TWILIO_MESSAGING_SERVICE_SID, OPTIMUM_TWILIO_API_URL and
// OPTIMUM_PUBLIC_URL by the caller; this package reads no environment.
type Config struct {
	// AccountSID (AC…) and AuthToken authenticate every request and sign every webhook.
	AccountSID, AuthToken string
	// From is a pool of sender numbers (E.164). Each recipient always gets the same one
	// (see SMS), so a person learns the number their alerts come from. Calls need it.
	From []string
	// MessagingServiceSID (MG…) sends SMS through a Messaging Service instead of From,
	// which then picks the number itself (sticky sender, scaling). Calls still use From.
	MessagingServiceSID string
	// APIURL replaces https://api.twilio.com when set, e.g. http://127.0.0.1:PORT for a
	// local fake: twilio-go has no base-URL option, so the transport rewrites the host.
	APIURL string
	// PublicURL is the server's URL as Twilio sees it: status callbacks, the voice Gather
	// action and the signature checks are built on it.
	PublicURL string
	// Timeout bounds each request to Twilio (default 10 s), inside the caller's context.
	Timeout time.Duration
	// Senders overrides the SMS sender per country calling code (the longest that
	// prefixes the number): an E.164 number, a short code, an alphanumeric sender ID or a
	// Messaging Service SID (MG…). Calls always come from the From pool.
	Senders broadcast.CountrySenders
	// Transliterate maps accented text to GSM-7 when that makes an SMS GSM-7, so a Spanish
	// alert fits in one 160-character segment instead of three of 70 (see Transliterate).
	Transliterate bool
}

// DefaultTimeout bounds a request to Twilio when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

var (
	e164         = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	alphanumeric = regexp.MustCompile(`^[A-Za-z0-9]+$`)
)

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("twilio: "+format, args...)) }

	// twilio-go refuses credentials that are not letters and digits before sending anything
	// (errors 21222, 21224), so catch it here rather than on the first alert.
	switch {
	case c.AccountSID == "":
		bad("the account SID is missing (TWILIO_ACCOUNT_SID)")
	case !alphanumeric.MatchString(c.AccountSID) || !strings.HasPrefix(c.AccountSID, "AC"):
		bad("the account SID %q must be AC followed by letters and digits only", c.AccountSID)
	}
	switch {
	case c.AuthToken == "":
		bad("the auth token is missing (TWILIO_AUTH_TOKEN)")
	case !alphanumeric.MatchString(c.AuthToken):
		bad("the auth token must be letters and digits only")
	}
	if len(c.From) == 0 && c.MessagingServiceSID == "" {
		bad("set sender numbers (TWILIO_FROM) or a Messaging Service (TWILIO_MESSAGING_SERVICE_SID)")
	}
	seen := map[string]bool{}
	for _, f := range c.From {
		if !e164.MatchString(f) {
			bad("the sender number %q is not E.164 (+ and country code, digits only)", f)
		}
		if seen[f] {
			bad("the sender number %s is listed twice", f)
		}
		seen[f] = true
	}
	if s := c.MessagingServiceSID; s != "" && (!alphanumeric.MatchString(s) || !strings.HasPrefix(s, "MG")) {
		bad("the Messaging Service SID %q must be MG followed by letters and digits only", s)
	}
	errs = append(errs, c.Senders.Validate("twilio", broadcast.SenderLongCode, broadcast.SenderShortCode,
		broadcast.SenderAlphanumeric, broadcast.SenderService)...)
	if c.APIURL != "" {
		if err := absoluteURL(c.APIURL); err != nil {
			bad("the API URL (OPTIMUM_TWILIO_API_URL): %v", err)
		}
	}
	if c.PublicURL == "" {
		bad("the public URL (OPTIMUM_PUBLIC_URL) is missing: Twilio needs it for status callbacks, key presses and signatures")
	} else if err := absoluteURL(c.PublicURL); err != nil {
		bad("the public URL (OPTIMUM_PUBLIC_URL): %v", err)
	}
	if c.Timeout < 0 {
		bad("the timeout %v is negative", c.Timeout)
	}
	return errors.Join(errs...)
}

func absoluteURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q must not have a query or a fragment", s)
	}
	return nil
}

// publicBase is PublicURL without a trailing slash, ready for a path to be appended.
func (c Config) publicBase() string { return strings.TrimRight(c.PublicURL, "/") }
