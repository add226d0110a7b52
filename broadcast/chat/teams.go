package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/optimum-bcp/optimum/broadcast"
)

// Teams posts Adaptive Cards to Microsoft Teams channels through Workflows webhooks (the
// Office 365 connectors they replace are retired). A Workflows URL carries its own
// credential (the sig= parameter), so it is a secret: it is looked up per attempt and
// never shown after the subscription is created.
type Teams struct {
	targets Targets
	client  *http.Client
}

var _ broadcast.Sender = (*Teams)(nil)

// NewTeams returns the Teams sender; client should be Client(guard).
func NewTeams(targets Targets, client *http.Client) *Teams {
	return &Teams{targets: targets, client: client}
}

// Send posts the message's card. Workflows answers 202 Accepted before its flow runs:
// that is success (a failed run is invisible to the sender, and retrying on 202 would
// post twice).
func (s *Teams) Send(ctx context.Context, m broadcast.Message) (bool, error) {
	_, retryable, err := s.SendVia(ctx, m)
	return retryable, err
}

// SendVia is Send that also returns what Workflows answered, recorded with the attempt
// (broadcast.ProviderSender: for a chat, the "provider" is the service's answer).
func (s *Teams) SendVia(ctx context.Context, m broadcast.Message) (string, bool, error) {
	t, p, err := decode(ctx, s.targets, m, ChannelTeams)
	if err != nil {
		retryable, err := decodeFailed(err)
		return "", retryable, err
	}
	body, err := json.Marshal(TeamsMessage(p))
	if err != nil {
		return "", false, fmt.Errorf("teams card: %w", err)
	}
	return post(ctx, s.client, t.URL, nil, body)
}

// TeamsMessage is the body a Workflows webhook takes: a message with one attachment, the
// Adaptive Card (version 1.4, which Teams renders on every client).
func TeamsMessage(p Post) map[string]any {
	body := []map[string]any{{
		"type": "TextBlock", "text": p.Title, "weight": "Bolder", "size": "Medium", "wrap": true,
	}}
	if p.Drill {
		body[0]["color"] = "Accent"
	} else {
		body[0]["color"] = "Attention"
	}
	if p.Text != "" {
		body = append(body, map[string]any{"type": "TextBlock", "text": p.Text, "wrap": true})
	}
	if len(p.Facts) > 0 {
		facts := make([]map[string]string, len(p.Facts))
		for i, f := range p.Facts {
			facts[i] = map[string]string{"title": f.Name, "value": f.Value}
		}
		body = append(body, map[string]any{"type": "FactSet", "facts": facts})
	}
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"body":    body,
	}
	if p.URL != "" && p.Button != "" {
		card["actions"] = []map[string]any{{"type": "Action.OpenUrl", "title": p.Button, "url": p.URL}}
	}
	return map[string]any{
		"type": "message",
		"attachments": []map[string]any{{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"contentUrl":  nil,
			"content":     card,
		}},
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
