package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net"
	"net/url"
	"slices"
	"strings"
)

// Paths of the webhooks Twilio calls, under Config.PublicURL.
const (
	PathStatus = "/hooks/twilio/status" // message and call status callbacks
	PathSMS    = "/hooks/twilio/sms"    // inbound SMS (the number's messaging webhook)
	PathVoice  = "/hooks/twilio/voice"  // key presses of a call (the Gather action)
)

// SignatureHeader is the header in which Twilio signs every webhook request.
const SignatureHeader = "X-Twilio-Signature"

// Sign computes the X-Twilio-Signature of a POST to fullURL with form: base64 of
// HMAC-SHA1(authToken, fullURL + every key and value, keys sorted). A key sent several
// times contributes each of its distinct values, sorted, as Twilio's own SDKs do. The fake
// Twilio signs its webhook requests with it.
func Sign(authToken, fullURL string, form url.Values) string {
	return sign(authToken, fullURL, form, true)
}

// ValidSignature reports whether signature is Twilio's signature of a POST of form to
// fullURL. fullURL must be the URL Twilio called, exactly: behind a proxy or a load
// balancer that is Config.PublicURL + r.URL.RequestURI(), never a URL rebuilt from r.Host
// or r.TLS. form must be the body's parameters only (r.PostForm, not r.Form, which merges
// the query in). The URL is also tried with and without its scheme's default port, since
// Twilio is not consistent about it, and repeated keys are handled (the library's
// RequestValidator.ValidateBody keeps only the first value and refuses such requests).
// The comparison is constant-time.
//
// A valid signature proves the request came from Twilio for that exact URL and body, not
// that it is new: Twilio retries, and a recorded request can be replayed. Handlers must be
// idempotent (a status only moves forward, a second acknowledgement changes nothing).
func ValidSignature(authToken, fullURL string, form url.Values, signature string) bool {
	if authToken == "" || signature == "" {
		return false
	}
	got, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return false
	}
	orders := []bool{true}
	for _, values := range form {
		if len(values) > 1 {
			orders = append(orders, false)
			break
		}
	}
	ok := false
	for _, u := range urlVariants(fullURL) {
		for _, sorted := range orders {
			want, _ := base64.StdEncoding.DecodeString(sign(authToken, u, form, sorted))
			// Every candidate is compared, so the time taken says nothing about which one
			// matched.
			if hmac.Equal(got, want) {
				ok = true
			}
		}
	}
	return ok
}

// sign computes the signature. With sortValues, the distinct values of a repeated key are
// sorted (twilio-python and twilio-node); without, they are taken in the order received.
func sign(authToken, fullURL string, form url.Values, sortValues bool) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(fullURL))
	for _, k := range keys {
		values := form[k]
		if sortValues && len(values) > 1 {
			values = slices.Compact(slices.Sorted(slices.Values(values)))
		}
		for _, v := range values {
			mac.Write([]byte(k))
			mac.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// urlVariants returns fullURL as given, plus the same URL with its scheme's default port
// added (when it has none) or removed (when it has it). Another port is never dropped:
// Twilio signs the port it called.
func urlVariants(fullURL string) []string {
	variants := []string{fullURL}
	u, err := url.Parse(fullURL)
	if err != nil || u.Host == "" {
		return variants
	}
	def := map[string]string{"https": "443", "http": "80"}[strings.ToLower(u.Scheme)]
	if def == "" {
		return variants
	}
	v := *u
	switch port := u.Port(); port {
	case "":
		v.Host = net.JoinHostPort(u.Hostname(), def)
	case def:
		v.Host = u.Hostname()
		if strings.Contains(v.Host, ":") { // IPv6 literal
			v.Host = "[" + v.Host + "]"
		}
	default:
		return variants
	}
	return append(variants, v.String())
}
