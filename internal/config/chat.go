package config

import (
	"net/url"
	"time"
)

// Chat tunes the posts to team chats and outbound webhooks (broadcast/chat). The
// channels and webhooks themselves are kept in the database and managed through the API.
type Chat struct {
	// SlackAPIURL is the base of Slack's Web API for chat.postMessage (default
	// https://slack.com/api/; OPTIMUM_SLACK_API_URL points tests at a local fake).
	SlackAPIURL string `yaml:"slack_api_url"`
	// RetryFor is how long a post answered 429, 5xx or nothing is retried before it is
	// given up. An endpoint that answers 404 or 410 is not retried at all: its
	// subscription is marked broken.
	RetryFor Duration `yaml:"retry_for"`
	// Rates are the posts a second each kind (teams, slack, webhook) may send from one
	// node, never more; absent or 0 is unlimited (a 429 is still retried after its
	// Retry-After). Slack takes about one message a second per channel.
	Rates map[string]float64 `yaml:"rates"`
}

func defaultChat() Chat {
	return Chat{SlackAPIURL: "https://slack.com/api/", RetryFor: Duration(24 * time.Hour), Rates: map[string]float64{}}
}

func (c *Chat) applyEnv(getenv func(string) string) {
	if v := getenv("OPTIMUM_SLACK_API_URL"); v != "" {
		c.SlackAPIURL = v
	}
}

func (c Chat) validate(p *problems) {
	if u, err := url.Parse(c.SlackAPIURL); err != nil || !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http") {
		p.add("chat.slack_api_url", "must be an absolute http(s) URL")
	}
	if c.RetryFor < Duration(time.Minute) {
		p.add("chat.retry_for", "must be at least 1m")
	}
	for kind, r := range c.Rates {
		switch {
		case kind != "teams" && kind != "slack" && kind != "webhook":
			p.add("chat.rates."+kind, "unknown kind (teams, slack, webhook)")
		case r < 0:
			p.add("chat.rates."+kind, "must not be negative")
		}
	}
}
