// Package twiliotest is a local fake of Twilio for tests: a REST API for Messages and
// Calls that checks what Twilio checks and answers what Twilio answers, and a webhook
// caller that sends signed status callbacks, inbound SMS and key presses to the server
// under test, as Twilio does.
//
// The REST side checks HTTP Basic auth (401 with Twilio's JSON error otherwise), the
// account in the path, the form content type and the required fields (To, Body or Twiml,
// From or MessagingServiceSid; a To that is not E.164 is 400 with code 21211), and answers
// 201 with the resource's JSON, num_segments and num_media as strings like the real one.
// Twilio's magic test numbers are refused the way Twilio refuses them (see InvalidNumber,
// OptedOutNumber, NotMobileNumber). Failures can be injected (FailNext, SetFailRate) and
// latency added (SetLatency). Every request is recorded. It is safe for concurrent use.
package twiliotest

import (
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/twilio"
)

// Twilio's magic "To" numbers for test credentials, refused as Twilio refuses them.
const (
	InvalidNumber   = "+15005550001" // 400, 21211: invalid 'To' number
	OptedOutNumber  = "+15005550004" // 400, 21610: the recipient replied STOP
	NotMobileNumber = "+15005550009" // 400, 21614: not a mobile number
)

// Options configure a fake.
type Options struct {
	// AccountSID and AuthToken are the credentials the fake accepts, and the token it
	// signs webhooks with. Like Twilio's, they are letters and digits (twilio-go refuses
	// anything else before sending). Defaults: AC + 32 hex digits, and a 32-digit token.
	AccountSID, AuthToken string
}

// Request is one request the fake received on Messages.json or Calls.json.
type Request struct {
	Kind   string     // "message" or "call"
	Method string     // POST, unless a client got it wrong
	Path   string     // e.g. /2010-04-01/Accounts/AC…/Messages.json
	Form   url.Values // the form body
	Header http.Header
	At     time.Time
	Status int    // the HTTP status the fake answered
	Code   int    // the Twilio error code answered, 0 on success
	SID    string // SM… or CA… when accepted (201)
}

// Failure is an error the fake answers instead of processing a request.
type Failure struct {
	Status     int           // e.g. 429, 500, 503
	Code       int           // Twilio error code; default 20429 for 429, 20500 otherwise
	Message    string        // default: Twilio's text for the code
	RetryAfter time.Duration // sent as Retry-After (whole seconds) when > 0
	// HTML answers an HTML page instead of Twilio's JSON, as a proxy in front of Twilio
	// does on a 502 or 503.
	HTML bool
}

// Fake is a fake Twilio. Create it with New.
type Fake struct {
	opts   Options
	srv    *httptest.Server
	client *http.Client // for webhooks

	mu       sync.Mutex
	requests []Request
	bySID    map[string]int // SID → index in requests
	failNext []Failure
	failRate float64
	failWith Failure
	rnd      *rand.Rand
	latency  time.Duration
	rejectTo map[string]int // To → Twilio error code
	routes   [][2]string    // public prefix → target prefix
	seq      map[string]int // call SID → next SequenceNumber
}

// New starts a fake Twilio on a loopback port; it stops when the test ends.
func New(tb testing.TB, opts Options) *Fake {
	tb.Helper()
	if opts.AccountSID == "" {
		opts.AccountSID = "AC" + strings.Repeat("0123456789abcdef", 2)
	}
	if opts.AuthToken == "" {
		opts.AuthToken = strings.Repeat("fedcba9876543210", 2)
	}
	f := &Fake{
		opts:     opts,
		bySID:    map[string]int{},
		rejectTo: map[string]int{},
		rnd:      rand.New(rand.NewPCG(1, 2)),
		client:   &http.Client{Timeout: 30 * time.Second},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	tb.Cleanup(f.srv.Close)
	return f
}

// URL is the fake's base URL, to use as Config.APIURL (OPTIMUM_TWILIO_API_URL).
func (f *Fake) URL() string { return f.srv.URL }

// AccountSID is the account the fake accepts.
func (f *Fake) AccountSID() string { return f.opts.AccountSID }

// AuthToken is the token the fake accepts and signs with.
func (f *Fake) AuthToken() string { return f.opts.AuthToken }

// Messages returns every request made to Messages.json, in order, accepted or not.
func (f *Fake) Messages() []Request { return f.filter("message") }

// Calls returns every request made to Calls.json, in order, accepted or not.
func (f *Fake) Calls() []Request { return f.filter("call") }

// Requests returns every request the fake received, in order.
func (f *Fake) Requests() []Request { return f.filter("") }

func (f *Fake) filter(kind string) []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Request
	for _, r := range f.requests {
		if kind == "" || r.Kind == kind {
			r.Form = cloneValues(r.Form)
			r.Header = r.Header.Clone()
			out = append(out, r)
		}
	}
	return out
}

// Lookup returns the accepted request that created sid.
func (f *Fake) Lookup(sid string) (Request, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, ok := f.bySID[sid]
	if !ok {
		return Request{}, false
	}
	r := f.requests[i]
	r.Form = cloneValues(r.Form)
	return r, true
}

// FailNext makes the next n requests (after authentication) fail with status, and a
// Retry-After header when retryAfter > 0.
func (f *Fake) FailNext(n, status int, retryAfter time.Duration) {
	f.FailNextWith(n, Failure{Status: status, RetryAfter: retryAfter})
}

// FailNextWith makes the next n requests (after authentication) fail as fl says.
func (f *Fake) FailNextWith(n int, fl Failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.failNext = append(f.failNext, fl)
	}
}

// SetFailRate makes each request fail with status with probability rate (0 stops it).
// The draws come from a fixed seed, so a run is repeatable for the same order of requests.
func (f *Fake) SetFailRate(rate float64, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failRate, f.failWith = rate, Failure{Status: status}
}

// SetLatency delays every answer by d; a client that gives up first is not answered.
func (f *Fake) SetLatency(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency = d
}

// RejectTo makes the fake refuse messages and calls to number with a 400 and the Twilio
// error code, e.g. 21610 (opted out), 21614 (not mobile), 21211 (invalid).
func (f *Fake) RejectTo(number string, code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rejectTo[number] = code
}

var (
	resourcePath = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/(Messages|Calls)\.json$`)
	e164         = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

// twilioErrors are the texts Twilio answers with its codes.
var twilioErrors = map[int]string{
	20003: "Authenticate",
	20404: "The requested resource was not found",
	20429: "Too Many Requests",
	20500: "Internal Server Error",
	20503: "Service Unavailable",
	21201: "No 'To' number is specified",
	21205: "Url parameter is required.",
	21211: "The 'To' number is not a valid phone number.",
	21212: "The 'From' number is not a valid phone number, shortcode, or alphanumeric sender ID.",
	21602: "Message body is required.",
	21603: "The 'From' phone number is required.",
	21604: "A 'To' phone number is required.",
	21610: "Attempt to send to unsubscribed recipient",
	21614: "'To' number is not a valid mobile number",
	21617: "The concatenated message body exceeds the 1600 character limit.",
	21658: "Parameter exceeded character limit",
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	rec := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), At: time.Now()}
	m := resourcePath.FindStringSubmatch(r.URL.Path)
	if m != nil {
		rec.Kind = map[string]string{"Messages": "message", "Calls": "call"}[m[2]]
	}
	// Read the form first, whatever happens next, so that it is recorded.
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/x-www-form-urlencoded" {
		if err := r.ParseForm(); err == nil {
			rec.Form = r.PostForm
		}
	}
	answer := func(status, code int, body any) {
		rec.Status, rec.Code = status, code
		f.record(rec)
		writeJSON(w, status, body)
	}
	fail := func(status, code int, detail string) {
		if detail == "" {
			detail = twilioErrors[code]
		}
		answer(status, code, twilioError(status, code, detail))
	}

	f.mu.Lock()
	latency := f.latency
	f.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			rec.Status = 499 // the client went away; nothing was created
			f.record(rec)
			return
		}
	}

	user, pass, ok := r.BasicAuth()
	if !ok || user != f.opts.AccountSID || pass != f.opts.AuthToken {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		fail(http.StatusUnauthorized, 20003, "")
		return
	}
	if m == nil || m[1] != f.opts.AccountSID {
		fail(http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	if r.Method != http.MethodPost {
		fail(http.StatusMethodNotAllowed, 20004, "Method not allowed")
		return
	}
	if fl, ok := f.injected(); ok {
		rec.Status, rec.Code = fl.Status, fl.Code
		f.record(rec)
		writeFailure(w, fl)
		return
	}
	if ct != "application/x-www-form-urlencoded" {
		fail(http.StatusBadRequest, 21205, "Content-Type must be application/x-www-form-urlencoded")
		return
	}
	form := rec.Form
	to := form.Get("To")
	switch {
	case to == "" && rec.Kind == "message":
		fail(http.StatusBadRequest, 21604, "")
		return
	case to == "":
		fail(http.StatusBadRequest, 21201, "")
		return
	case !e164.MatchString(to) || to == InvalidNumber:
		fail(http.StatusBadRequest, 21211, "The 'To' number "+to+" is not a valid phone number.")
		return
	}
	// A message may come from a number, a short code or an alphanumeric sender ID; a call
	// only from a number.
	if from := form.Get("From"); from != "" && !e164.MatchString(from) && !(rec.Kind == "message" && smsOnlySender(from)) {
		fail(http.StatusBadRequest, 21212, "")
		return
	}
	if rec.Kind == "message" {
		switch {
		case form.Get("From") == "" && form.Get("MessagingServiceSid") == "":
			fail(http.StatusBadRequest, 21603, "")
			return
		case form.Get("Body") == "" && form.Get("MediaUrl") == "" && form.Get("ContentSid") == "":
			fail(http.StatusBadRequest, 21602, "")
			return
		case len([]rune(form.Get("Body"))) > 1600:
			fail(http.StatusBadRequest, 21617, "")
			return
		}
	} else {
		switch {
		case form.Get("From") == "":
			fail(http.StatusBadRequest, 21603, "")
			return
		case form.Get("Url") == "" && form.Get("Twiml") == "" && form.Get("ApplicationSid") == "":
			fail(http.StatusBadRequest, 21205, "")
			return
		case len(form.Get("Twiml")) > 4000:
			// Twilio caps the Twiml parameter at 4000 characters.
			fail(http.StatusBadRequest, 21658, "Twiml exceeds 4000 characters")
			return
		}
	}
	code := map[string]int{OptedOutNumber: 21610, NotMobileNumber: 21614}[to]
	f.mu.Lock()
	if c, ok := f.rejectTo[to]; ok {
		code = c
	}
	f.mu.Unlock()
	if code != 0 {
		fail(http.StatusBadRequest, code, "")
		return
	}

	now := time.Now().UTC()
	if rec.Kind == "message" {
		rec.SID = newSID("SM")
		answer(http.StatusCreated, 0, f.messageJSON(rec.SID, form, now))
	} else {
		rec.SID = newSID("CA")
		answer(http.StatusCreated, 0, f.callJSON(rec.SID, form, now))
	}
}

// injected returns the failure to answer with, if any.
func (f *Fake) injected() (Failure, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.failNext) > 0 {
		fl := f.failNext[0]
		f.failNext = f.failNext[1:]
		return withDefaults(fl), true
	}
	if f.failRate > 0 && f.rnd.Float64() < f.failRate {
		return withDefaults(f.failWith), true
	}
	return Failure{}, false
}

func withDefaults(fl Failure) Failure {
	if fl.Status == 0 {
		fl.Status = http.StatusInternalServerError
	}
	if fl.Code == 0 {
		switch {
		case fl.Status == http.StatusTooManyRequests:
			fl.Code = 20429
		case fl.Status == http.StatusServiceUnavailable:
			fl.Code = 20503
		case fl.Status >= 500:
			fl.Code = 20500
		}
	}
	if fl.Message == "" {
		fl.Message = twilioErrors[fl.Code]
	}
	return fl
}

func writeFailure(w http.ResponseWriter, fl Failure) {
	if fl.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((fl.RetryAfter+time.Second-1)/time.Second)))
	}
	if fl.HTML {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(fl.Status)
		fmt.Fprintf(w, "<html><body><h1>%d %s</h1></body></html>\n", fl.Status, http.StatusText(fl.Status))
		return
	}
	writeJSON(w, fl.Status, twilioError(fl.Status, fl.Code, fl.Message))
}

func (f *Fake) record(rec Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, rec)
	if rec.SID != "" {
		f.bySID[rec.SID] = len(f.requests) - 1
	}
}

// twilioError is the JSON body of a Twilio REST error.
func twilioError(status, code int, message string) map[string]any {
	e := map[string]any{"status": status, "message": message}
	if code != 0 {
		e["code"] = code
		e["more_info"] = fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code)
	}
	return e
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

// messageJSON is the Message resource as Twilio returns it on creation. num_segments and
// num_media are strings, dates are RFC 2822, and a message sent through a Messaging
// Service without From starts as "accepted" with no from yet.
func (f *Fake) messageJSON(sid string, form url.Values, now time.Time) map[string]any {
	uri := fmt.Sprintf("/2010-04-01/Accounts/%s/Messages/%s", f.opts.AccountSID, sid)
	_, segments := twilio.Segments(form.Get("Body"))
	status, from := "queued", any(form.Get("From"))
	if form.Get("From") == "" {
		status, from = "accepted", nil
	}
	return map[string]any{
		"account_sid":           f.opts.AccountSID,
		"api_version":           "2010-04-01",
		"body":                  form.Get("Body"),
		"date_created":          now.Format(time.RFC1123Z),
		"date_sent":             nil,
		"date_updated":          now.Format(time.RFC1123Z),
		"direction":             "outbound-api",
		"error_code":            nil,
		"error_message":         nil,
		"from":                  from,
		"messaging_service_sid": nullable(form.Get("MessagingServiceSid")),
		"num_media":             strconv.Itoa(len(form["MediaUrl"])),
		"num_segments":          strconv.Itoa(segments),
		"price":                 nil,
		"price_unit":            "USD",
		"sid":                   sid,
		"status":                status,
		"subresource_uris":      map[string]any{"media": uri + "/Media.json"},
		"to":                    form.Get("To"),
		"uri":                   uri + ".json",
	}
}

// callJSON is the Call resource as Twilio returns it on creation.
func (f *Fake) callJSON(sid string, form url.Values, now time.Time) map[string]any {
	uri := fmt.Sprintf("/2010-04-01/Accounts/%s/Calls/%s", f.opts.AccountSID, sid)
	return map[string]any{
		"account_sid":      f.opts.AccountSID,
		"annotation":       nil,
		"answered_by":      nil,
		"api_version":      "2010-04-01",
		"caller_name":      nil,
		"date_created":     now.Format(time.RFC1123Z),
		"date_updated":     now.Format(time.RFC1123Z),
		"direction":        "outbound-api",
		"duration":         nil,
		"end_time":         nil,
		"forwarded_from":   nil,
		"from":             form.Get("From"),
		"from_formatted":   form.Get("From"),
		"group_sid":        nil,
		"parent_call_sid":  nil,
		"phone_number_sid": newSID("PN"),
		"price":            nil,
		"price_unit":       "USD",
		"queue_time":       "0",
		"sid":              sid,
		"start_time":       nil,
		"status":           "queued",
		"subresource_uris": map[string]any{"notifications": uri + "/Notifications.json", "recordings": uri + "/Recordings.json"},
		"to":               form.Get("To"),
		"to_formatted":     form.Get("To"),
		"trunk_sid":        nil,
		"uri":              uri + ".json",
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// newSID returns prefix + 32 hex digits, like Twilio's SIDs.
func newSID(prefix string) string {
	b := make([]byte, 16)
	crand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// smsOnlySender reports whether from is a short code or an alphanumeric sender ID,
// which Twilio takes as the From of a message (not of a call).
func smsOnlySender(from string) bool {
	k := broadcast.SenderKind(from)
	return k == broadcast.SenderShortCode || k == broadcast.SenderAlphanumeric
}
