// Package chat posts to team chats and to outbound webhooks: Microsoft Teams through a
// Workflows webhook ("When a Teams webhook request is received") with an Adaptive Card,
// Slack through an incoming webhook or chat.postMessage (github.com/slack-go/slack), and
// any other system through a JSON POST signed as the Standard Webhooks specification says.
//
// Each is a broadcast.Sender: the dispatcher's message names the subscription in To (its
// URL, token and secret are looked up at each attempt, so they are never copied into the
// queue) and carries the rendered Post as JSON in Text. The message's DeliveryID is the
// post's id, the same on every attempt: it is the webhook-id a receiver deduplicates on.
//
// Every request goes out through a client whose connections are checked by the outbound
// guard (internal/netguard) on the resolved address: subscriptions are URLs people typed.
package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/internal/netguard"
)

// Channels of the dispatcher, one per kind of subscription.
const (
	ChannelTeams   = "teams"
	ChannelSlack   = "slack"
	ChannelWebhook = "webhook"
)

// Channels lists the chat channels.
var Channels = []string{ChannelTeams, ChannelSlack, ChannelWebhook}

// Post is what one chat message says, already in its subscription's language. Teams and
// Slack show Title, Text, Facts and a Button to URL; a webhook receives Body, the JSON
// of the event, signed.
type Post struct {
	Title  string `json:"title"`
	Text   string `json:"text,omitempty"`
	Facts  []Fact `json:"facts,omitempty"`
	Button string `json:"button,omitempty"`
	URL    string `json:"url,omitempty"`
	// Drill marks a post about a drill (its title already starts SIMULACRO / DRILL).
	Drill bool `json:"drill,omitempty"`
	// Body is the webhook's payload, sent as it is (the signature covers these bytes).
	Body json.RawMessage `json:"body,omitempty"`
}

// Fact is one labelled value of a card (Prioridad: P1).
type Fact struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Target is where a subscription posts, with its credentials.
type Target struct {
	ID   string
	Kind string // ChannelTeams, ChannelSlack or ChannelWebhook
	// URL is the Workflows URL, the Slack incoming webhook or the webhook endpoint; for
	// Slack with a Token it is empty and Channel names the conversation.
	URL     string
	Token   string
	Channel string
	// Secret is the webhook's signing secret, "whsec_" + base64.
	Secret string
	// Broken is set once the endpoint answered that it no longer exists (404, 410).
	Broken bool
}

// Targets finds subscriptions by id. It returns an error wrapping ErrNoTarget when the
// subscription was deleted.
type Targets interface {
	Target(ctx context.Context, id string) (Target, error)
}

// ErrNoTarget marks a post whose subscription no longer exists or is broken: it fails
// at once, without a request.
var ErrNoTarget = errors.New("the chat subscription was deleted or is broken")

// DefaultTimeout bounds one request (the Standard Webhooks guidance is 15–30 s; a chat
// service answers in well under that).
const DefaultTimeout = 15 * time.Second

// DefaultRetryAfter is the wait after a 429 without a Retry-After header.
const DefaultRetryAfter = 30 * time.Second

// Client returns the HTTP client of chat requests: connections checked by guard after
// DNS resolution, https only (plain http only to an allowed loopback address), redirects
// not followed.
func Client(guard netguard.Policy) *http.Client { return guard.Client(DefaultTimeout) }

// decode reads the post of a message and the subscription it goes to.
func decode(ctx context.Context, targets Targets, m broadcast.Message, kind string) (Target, Post, error) {
	var p Post
	if err := json.Unmarshal([]byte(m.Text), &p); err != nil {
		return Target{}, p, fmt.Errorf("chat post %s: %w", m.DeliveryID, err)
	}
	t, err := targets.Target(ctx, m.To)
	if err != nil {
		if !errors.Is(err, ErrNoTarget) {
			// The lookup failed (the database is away): not the post's fault, try again.
			return t, p, &lookupError{err}
		}
		return t, p, err
	}
	if t.Broken {
		return t, p, fmt.Errorf("%w: %s", ErrNoTarget, m.To)
	}
	if t.Kind != kind {
		return t, p, fmt.Errorf("chat post %s: subscription %s is a %s, not a %s", m.DeliveryID, t.ID, t.Kind, kind)
	}
	return t, p, nil
}

// lookupError is a failed lookup of a subscription, retried like a provider's 5xx.
type lookupError struct{ err error }

func (e *lookupError) Error() string { return "looking up the chat subscription: " + e.err.Error() }
func (e *lookupError) Unwrap() error { return e.err }

// decodeFailed is what a sender returns when decode fails: a lookup that failed is
// retried, anything else (a deleted or broken subscription, a bad post) is not.
func decodeFailed(err error) (bool, error) {
	var le *lookupError
	return errors.As(err, &le), err
}

// post sends body to url with the headers and maps the answer onto the Sender contract;
// answer is what the endpoint answered ("the endpoint answered 202 Accepted"), "" when it
// answered nothing.
func post(ctx context.Context, client *http.Client, url string, header http.Header, body []byte) (answer string, retryable bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytesReader(body))
	if err != nil {
		return "", false, fmt.Errorf("chat request: %w", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		retryable, err = transportError(err)
		return "", retryable, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	retryable, err = Status(resp.StatusCode, resp.Header.Get("Retry-After"))
	return Answer(resp.StatusCode), retryable, err
}

// Answer is how an HTTP answer is recorded with a post's attempt.
func Answer(code int) string {
	return fmt.Sprintf("the endpoint answered %d %s", code, http.StatusText(code))
}

// transportError maps a request that got no answer: refused by the guard (never worth
// retrying: the address will not become public by waiting; the subscription is broken),
// or a timeout or network failure (retried).
func transportError(err error) (bool, error) {
	if errors.Is(err, netguard.ErrRefused) {
		return false, fmt.Errorf("%w: %w", broadcast.ErrGone, netguard.Public(err))
	}
	return true, netguard.Public(err)
}

// Status maps an HTTP answer onto the Sender contract: 2xx is accepted (Teams answers
// 202 before its flow runs); 404 and 410 mean the endpoint is gone (ErrGone: the
// subscription is marked broken and not tried again); 408, 429 and 5xx are retried, after
// Retry-After when given; any other answer (a 3xx, which is never followed, or a 4xx
// saying the payload is wrong) is a permanent failure of this post.
func Status(code int, retryAfter string) (bool, error) {
	err := errors.New(Answer(code))
	switch {
	case code >= 200 && code < 300:
		return false, nil
	case code == http.StatusNotFound || code == http.StatusGone:
		return false, fmt.Errorf("%w: %w", broadcast.ErrGone, err)
	case code == http.StatusTooManyRequests:
		wait := DefaultRetryAfter
		if s, perr := strconv.Atoi(retryAfter); perr == nil && s >= 0 {
			wait = time.Duration(s) * time.Second
		}
		return true, &broadcast.RetryAfterError{After: wait, Err: err}
	case code == http.StatusRequestTimeout || code >= 500:
		if s, perr := strconv.Atoi(retryAfter); perr == nil && s > 0 {
			return true, &broadcast.RetryAfterError{After: time.Duration(s) * time.Second, Err: err}
		}
		return true, err
	}
	return false, err
}
