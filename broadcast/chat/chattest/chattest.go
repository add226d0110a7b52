// Package chattest is a local stand-in for Microsoft Teams Workflows webhooks, Slack
// (incoming webhooks and chat.postMessage) and a Standard Webhooks receiver, on one
// loopback HTTP server. Each checks what the real service checks before it accepts a
// post: the Workflows envelope and the Adaptive Card's required fields, Slack's bearer
// token and Block Kit's required fields, the webhook signature (verified with the
// Standard Webhooks reference library, not with the sender's own code). A post that
// fails a check is answered 400 and recorded as rejected with the reason.
package chattest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Received is one accepted or rejected request.
type Received struct {
	// Service is "teams", "slack", "slack-api" or "webhook"; Name the endpoint's name in
	// the path (/teams/{name}, /slack/{name}, /webhook/{name}) or the Slack channel.
	Service, Name string
	Body          []byte
	Header        http.Header
	// Card is the Adaptive Card (Teams); Blocks the Block Kit blocks (Slack).
	Card   map[string]any
	Blocks []map[string]any
	// Rejected is the reason a post failed the service's checks, "" when accepted.
	Rejected string
	// Status is what the fake answered.
	Status int
}

// Server is the fake.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	got      []Received
	secrets  map[string]string // webhook name → whsec_ secret
	tokens   map[string]bool   // valid Slack bot tokens
	channels map[string]bool   // Slack channels the bot may post to
	answers  map[string][]int  // endpoint path → statuses to answer next, in order
	holds    map[string]time.Duration
	arrived  map[string][]string // endpoint path → webhook-id (or "") of every request, as it arrives
	seen     chan struct{}
}

// New starts the fake on loopback.
func New() *Server {
	s := &Server{secrets: map[string]string{}, tokens: map[string]bool{}, channels: map[string]bool{},
		answers: map[string][]int{}, holds: map[string]time.Duration{}, arrived: map[string][]string{}, seen: make(chan struct{}, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /teams/{name}", s.teams)
	mux.HandleFunc("POST /slack/{name}", s.slackHook)
	mux.HandleFunc("POST /api/chat.postMessage", s.slackAPI)
	mux.HandleFunc("POST /webhook/{name}", s.webhook)
	s.Server = httptest.NewServer(s.arrive(mux))
	return s
}

// arrive notes every request as it arrives, and holds the first one of a path given to
// Hold: a sender that dies meanwhile leaves a request the service saw but never answered.
func (s *Server) arrive(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the body first: only then does the server notice a client that goes away.
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mu.Lock()
		s.arrived[r.URL.Path] = append(s.arrived[r.URL.Path], r.Header.Get("webhook-id"))
		hold := s.holds[r.URL.Path]
		delete(s.holds, r.URL.Path)
		s.mu.Unlock()
		select {
		case s.seen <- struct{}{}:
		default:
		}
		if hold > 0 {
			select {
			case <-time.After(hold):
			case <-r.Context().Done():
				return // the sender went away: nothing answered, nothing recorded
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Hold makes the next request to path wait d before it is handled.
func (s *Server) Hold(path string, d time.Duration) {
	s.mu.Lock()
	s.holds[path] = d
	s.mu.Unlock()
}

// Arrived returns the webhook-id header ("" when none) of every request to path that
// arrived, answered or not.
func (s *Server) Arrived(path string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.arrived[path]...)
}

// SetSecret registers the signing secret of the webhook endpoint /webhook/{name}.
func (s *Server) SetSecret(name, secret string) {
	s.mu.Lock()
	s.secrets[name] = secret
	s.mu.Unlock()
}

// AddSlackBot makes token a valid bot token that may post to the channels.
func (s *Server) AddSlackBot(token string, channels ...string) {
	s.mu.Lock()
	s.tokens[token] = true
	for _, c := range channels {
		s.channels[c] = true
	}
	s.mu.Unlock()
}

// Answer makes the endpoint at path (e.g. "/teams/ops") answer the statuses, one per
// request, before it goes back to accepting (a 429 carries Retry-After: 0).
func (s *Server) Answer(path string, statuses ...int) {
	s.mu.Lock()
	s.answers[path] = append(s.answers[path], statuses...)
	s.mu.Unlock()
}

// AnswerAlways makes the endpoint at path answer status to every request.
func (s *Server) AnswerAlways(path string, status int) {
	s.Answer(path, -status)
}

// Received returns every request so far.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.got...)
}

// Seen is signalled (without blocking) after each request.
func (s *Server) Seen() <-chan struct{} { return s.seen }

// next returns the status forced on path, 0 when none.
func (s *Server) next(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.answers[path]
	if len(q) == 0 {
		return 0
	}
	if q[0] < 0 {
		return -q[0]
	}
	s.answers[path] = q[1:]
	return q[0]
}

func (s *Server) record(w http.ResponseWriter, r Received, body any) {
	if r.Status == 0 {
		r.Status = http.StatusOK
		if r.Rejected != "" {
			r.Status = http.StatusBadRequest
		}
	}
	s.mu.Lock()
	s.got = append(s.got, r)
	s.mu.Unlock()
	select {
	case s.seen <- struct{}{}:
	default:
	}
	if r.Status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "0")
	}
	if body != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(r.Status)
		_ = json.NewEncoder(w).Encode(body)
		return
	}
	w.WriteHeader(r.Status)
	if r.Rejected != "" {
		_, _ = io.WriteString(w, r.Rejected)
	}
}

func readBody(r *http.Request) []byte {
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	return b
}

// teams checks a Workflows webhook post: {"type":"message","attachments":[{"contentType":
// "application/vnd.microsoft.card.adaptive","content":{AdaptiveCard}}]} and the card's
// required fields (type, version, the type of every element, a TextBlock's text, a
// FactSet's facts with title and value, an Action.OpenUrl's url). Workflows answers 202.
func (s *Server) teams(w http.ResponseWriter, r *http.Request) {
	rec := Received{Service: "teams", Name: r.PathValue("name"), Body: readBody(r), Header: r.Header.Clone()}
	if st := s.next(r.URL.Path); st != 0 {
		rec.Status = st
		s.record(w, rec, nil)
		return
	}
	rec.Card, rec.Rejected = checkTeams(r.Header.Get("Content-Type"), rec.Body)
	if rec.Rejected == "" {
		rec.Status = http.StatusAccepted
	}
	s.record(w, rec, nil)
}

func checkTeams(contentType string, body []byte) (map[string]any, string) {
	if !strings.HasPrefix(contentType, "application/json") {
		return nil, "Content-Type is not application/json"
	}
	var msg struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string         `json:"contentType"`
			Content     map[string]any `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		return nil, "body is not JSON: " + err.Error()
	}
	if msg.Type != "message" {
		return nil, `type is not "message"`
	}
	if len(msg.Attachments) != 1 {
		return nil, "there must be one attachment"
	}
	a := msg.Attachments[0]
	if a.ContentType != "application/vnd.microsoft.card.adaptive" {
		return nil, "the attachment is not an Adaptive Card"
	}
	card := a.Content
	if card["type"] != "AdaptiveCard" {
		return nil, `content.type is not "AdaptiveCard"`
	}
	if v, _ := card["version"].(string); v == "" {
		return nil, "content.version is required"
	}
	elems, _ := card["body"].([]any)
	for i, e := range elems {
		if reason := checkElement(e); reason != "" {
			return nil, fmt.Sprintf("body[%d]: %s", i, reason)
		}
	}
	if acts, ok := card["actions"].([]any); ok {
		for i, a := range acts {
			m, _ := a.(map[string]any)
			switch m["type"] {
			case "Action.OpenUrl":
				u, _ := m["url"].(string)
				if pu, err := url.Parse(u); err != nil || !pu.IsAbs() {
					return nil, fmt.Sprintf("actions[%d]: Action.OpenUrl needs an absolute url", i)
				}
			case nil:
				return nil, fmt.Sprintf("actions[%d]: type is required", i)
			}
		}
	}
	return card, ""
}

func checkElement(e any) string {
	m, ok := e.(map[string]any)
	if !ok {
		return "not an object"
	}
	switch m["type"] {
	case "TextBlock":
		if t, _ := m["text"].(string); t == "" {
			return "TextBlock.text is required"
		}
	case "FactSet":
		facts, _ := m["facts"].([]any)
		if len(facts) == 0 {
			return "FactSet.facts is required"
		}
		for _, f := range facts {
			fm, _ := f.(map[string]any)
			if _, ok := fm["title"].(string); !ok {
				return "Fact.title is required"
			}
			if _, ok := fm["value"].(string); !ok {
				return "Fact.value is required"
			}
		}
	case nil:
		return "type is required"
	}
	return ""
}

// slackHook is an incoming webhook: a JSON body with text or blocks; Slack answers "ok".
func (s *Server) slackHook(w http.ResponseWriter, r *http.Request) {
	rec := Received{Service: "slack", Name: r.PathValue("name"), Body: readBody(r), Header: r.Header.Clone()}
	if st := s.next(r.URL.Path); st != 0 {
		rec.Status = st
		s.record(w, rec, nil)
		return
	}
	var msg struct {
		Text   string           `json:"text"`
		Blocks []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(rec.Body, &msg); err != nil {
		rec.Rejected = "invalid_payload"
	} else if msg.Text == "" && len(msg.Blocks) == 0 {
		rec.Rejected = "no_text"
	} else if reason := checkBlocks(msg.Blocks); reason != "" {
		rec.Rejected = "invalid_blocks: " + reason
	}
	rec.Blocks = msg.Blocks
	s.record(w, rec, nil)
}

// slackAPI is chat.postMessage: the bot token as a bearer credential, a channel the bot
// is in, text or blocks. Slack answers 200 with {"ok": false, "error": …} on errors.
func (s *Server) slackAPI(w http.ResponseWriter, r *http.Request) {
	rec := Received{Service: "slack-api", Header: r.Header.Clone()}
	if err := r.ParseForm(); err != nil {
		rec.Rejected = "invalid_form_data"
		s.record(w, rec, map[string]any{"ok": false, "error": "invalid_form_data"})
		return
	}
	rec.Name = r.PostForm.Get("channel")
	rec.Body = []byte(r.PostForm.Encode())
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	valid, member := ok && s.tokens[token], s.channels[rec.Name]
	s.mu.Unlock()
	fail := func(code string) {
		rec.Rejected, rec.Status = code, http.StatusOK
		s.record(w, rec, map[string]any{"ok": false, "error": code})
	}
	if st := s.next("/slack-api/" + rec.Name); st != 0 {
		rec.Status = st
		s.record(w, rec, nil)
		return
	}
	switch {
	case !ok:
		fail("not_authed")
		return
	case !valid:
		fail("invalid_auth")
		return
	case !member:
		fail("channel_not_found")
		return
	}
	if err := json.Unmarshal([]byte(r.PostForm.Get("blocks")), &rec.Blocks); err != nil && r.PostForm.Get("text") == "" {
		fail("no_text")
		return
	}
	if reason := checkBlocks(rec.Blocks); reason != "" {
		fail("invalid_blocks")
		return
	}
	rec.Status = http.StatusOK
	s.record(w, rec, map[string]any{"ok": true, "channel": rec.Name, "ts": "1700000000.000100"})
}

// checkBlocks checks Block Kit's required fields for the blocks the sender uses.
func checkBlocks(blocks []map[string]any) string {
	for i, b := range blocks {
		switch b["type"] {
		case "header":
			t, _ := b["text"].(map[string]any)
			if t["type"] != "plain_text" || t["text"] == "" {
				return fmt.Sprintf("blocks[%d]: a header needs plain_text", i)
			}
		case "section":
			if b["text"] == nil && b["fields"] == nil {
				return fmt.Sprintf("blocks[%d]: a section needs text or fields", i)
			}
		case "actions":
			els, _ := b["elements"].([]any)
			if len(els) == 0 {
				return fmt.Sprintf("blocks[%d]: actions need elements", i)
			}
			for _, e := range els {
				m, _ := e.(map[string]any)
				if m["type"] == "button" {
					if t, _ := m["text"].(map[string]any); t["type"] != "plain_text" {
						return fmt.Sprintf("blocks[%d]: a button needs plain_text", i)
					}
				}
			}
		default:
			return fmt.Sprintf("blocks[%d]: unknown type %v", i, b["type"])
		}
	}
	return ""
}

// webhook verifies a Standard Webhooks signature with the secret set for the endpoint.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	rec := Received{Service: "webhook", Name: r.PathValue("name"), Body: readBody(r), Header: r.Header.Clone()}
	if st := s.next(r.URL.Path); st != 0 {
		rec.Status = st
		s.record(w, rec, nil)
		return
	}
	s.mu.Lock()
	secret := s.secrets[rec.Name]
	s.mu.Unlock()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		rec.Rejected = "no secret for this endpoint"
	} else if err := wh.Verify(rec.Body, r.Header); err != nil {
		rec.Rejected, rec.Status = "signature: "+err.Error(), http.StatusUnauthorized
	}
	s.record(w, rec, nil)
}
