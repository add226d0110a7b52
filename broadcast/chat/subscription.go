package chat

import "time"

// Subscription is a team's chat channel or an outbound webhook as people see it: never
// its URL (a Workflows or Slack webhook URL is itself a credential), bot token or
// secret, which are shown once, when it is created.
type Subscription struct {
	ID   string `json:"id"`
	Kind string `json:"kind"` // ChannelTeams, ChannelSlack or ChannelWebhook
	Name string `json:"name"`
	// Team is the team whose incidents a chat channel gets; "" for a webhook.
	Team string `json:"team,omitempty"`
	// Host is the host of the URL, enough to tell subscriptions apart.
	Host string `json:"host,omitempty"`
	// Channel is the Slack conversation of chat.postMessage.
	Channel string `json:"channel,omitempty"`
	// Events are the event types a webhook gets.
	Events    []string  `json:"events,omitempty"`
	Language  string    `json:"language"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
	// BrokenAt is set when the endpoint answered that it no longer exists (404, 410) or
	// the guard refused its address; BrokenReason says what it answered. A broken
	// subscription gets no posts until it is resumed.
	BrokenAt     *time.Time `json:"broken_at"`
	BrokenReason string     `json:"broken_reason,omitempty"`
}

// Credentials are the secret parts of a subscription.
type Credentials struct {
	URL    string
	Token  string
	Secret string
}

// PostState is one post of a subscription and its attempts.
type PostState struct {
	ID string `json:"id"` // the webhook-id
	// Subscription, Kind and Name say where the post goes.
	Subscription string `json:"subscription"`
	Kind         string `json:"kind"`
	Name         string `json:"name"`
	// Team is the team of a chat channel's post ("" for a webhook).
	Team       string     `json:"team,omitempty"`
	EventID    int64      `json:"event_id"`
	IncidentID string     `json:"incident_id,omitempty"`
	Title      string     `json:"title"`
	Status     string     `json:"status"`
	Error      string     `json:"error,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	SentAt     *time.Time `json:"sent_at"`
	Attempts   []Attempt  `json:"attempts"`
}

// Attempt is one try of a post.
type Attempt struct {
	Attempt   int        `json:"attempt"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at"`
	Outcome   string     `json:"outcome"` // sending, sent, retry, failed, resent
	Reason    string     `json:"reason,omitempty"`
}
