package chat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/optimum-bcp/optimum/broadcast"
)

// DefaultSlackAPI is the base of Slack's Web API.
const DefaultSlackAPI = "https://slack.com/api/"

// Slack posts Block Kit messages to Slack: through the subscription's incoming webhook,
// or, when it has a bot token, with chat.postMessage to its channel (the token goes in
// an Authorization: Bearer header, as Slack asks). slack-go's PostWebhook uses a client
// without a timeout; this sender always passes its own guarded client.
type Slack struct {
	targets Targets
	client  *http.Client
	api     string
}

var _ broadcast.Sender = (*Slack)(nil)

// NewSlack returns the Slack sender; client should be Client(guard); api is the Web
// API's base URL ("" for DefaultSlackAPI; tests point it at a local fake).
func NewSlack(targets Targets, client *http.Client, api string) *Slack {
	if api == "" {
		api = DefaultSlackAPI
	}
	if !strings.HasSuffix(api, "/") {
		api += "/"
	}
	return &Slack{targets: targets, client: client, api: api}
}

// Send posts the message.
func (s *Slack) Send(ctx context.Context, m broadcast.Message) (bool, error) {
	_, retryable, err := s.SendVia(ctx, m)
	return retryable, err
}

// SendVia is Send that also returns what Slack answered when it accepted the post,
// recorded with the attempt: "slack answered ok", and for chat.postMessage the
// channel and the message's timestamp (its id in the channel).
func (s *Slack) SendVia(ctx context.Context, m broadcast.Message) (string, bool, error) {
	t, p, err := decode(ctx, s.targets, m, ChannelSlack)
	if err != nil {
		retryable, err := decodeFailed(err)
		return "", retryable, err
	}
	blocks := SlackBlocks(p)
	if t.Token == "" {
		err := slack.PostWebhookCustomHTTPContext(ctx, t.URL, s.client, &slack.WebhookMessage{
			Text: p.Title, Blocks: &slack.Blocks{BlockSet: blocks},
		})
		retryable, err := slackError(err)
		if err != nil {
			return "", retryable, err
		}
		return "slack answered ok", false, nil
	}
	client := *s.client
	client.Transport = bearer{token: t.Token, next: s.client.Transport}
	api := slack.New(t.Token, slack.OptionHTTPClient(&client), slack.OptionAPIURL(s.api))
	channel, ts, err := api.PostMessageContext(ctx, t.Channel, slack.MsgOptionText(escape(p.Title), false), slack.MsgOptionBlocks(blocks...))
	retryable, err := slackError(err)
	if err != nil {
		return "", retryable, err
	}
	return fmt.Sprintf("slack answered ok (channel %s, message %s)", channel, ts), false, nil
}

// bearer adds the bot token as a bearer credential (slack-go v0.36.0 sends it only as a
// form field).
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	next := b.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}

// slackGone are chat.postMessage errors that will not go away by retrying: the channel
// or the app is gone, or the token no longer works. The subscription is marked broken.
var slackGone = map[string]bool{
	"channel_not_found": true, "is_archived": true, "not_in_channel": true, "invalid_auth": true,
	"account_inactive": true, "token_revoked": true, "token_expired": true, "no_permission": true,
	"not_authed": true, "team_access_not_granted": true, "org_login_required": true,
}

// slackRetry are chat.postMessage errors that are Slack's own trouble.
var slackRetry = map[string]bool{
	"ratelimited": true, "internal_error": true, "fatal_error": true, "service_unavailable": true,
	"request_timeout": true,
}

// slackError maps slack-go's errors onto the Sender contract.
func slackError(err error) (bool, error) {
	if err == nil {
		return false, nil
	}
	if rl, ok := errors.AsType[*slack.RateLimitedError](err); ok {
		return true, &broadcast.RetryAfterError{After: rl.RetryAfter, Err: err}
	}
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok {
		return Status(sc.Code, "")
	}
	if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		switch {
		case slackGone[se.Err]:
			return false, errors.Join(broadcast.ErrGone, errors.New("slack answered "+se.Err))
		case slackRetry[se.Err]:
			return true, errors.New("slack answered " + se.Err)
		}
		return false, errors.New("slack answered " + se.Err)
	}
	return transportError(err)
}

// SlackBlocks is the post as Block Kit: a header, the text, the facts as fields and a
// button to the incident.
func SlackBlocks(p Post) []slack.Block {
	blocks := []slack.Block{slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, clip(p.Title, 150), false, false))}
	if p.Text != "" {
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, clip(escape(p.Text), 3000), false, false), nil, nil))
	}
	if len(p.Facts) > 0 {
		var fields []*slack.TextBlockObject
		for _, f := range p.Facts[:min(len(p.Facts), 10)] {
			fields = append(fields, slack.NewTextBlockObject(slack.MarkdownType, clip("*"+escape(f.Name)+"*\n"+escape(f.Value), 2000), false, false))
		}
		blocks = append(blocks, slack.NewSectionBlock(nil, fields, nil))
	}
	if p.URL != "" && p.Button != "" {
		btn := slack.NewButtonBlockElement("open_incident", "open", slack.NewTextBlockObject(slack.PlainTextType, clip(p.Button, 75), false, false))
		btn.URL = p.URL
		blocks = append(blocks, slack.NewActionBlock("incident", btn))
	}
	return blocks
}

// escape makes text safe in Slack's mrkdwn, where &, < and > are control characters.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
