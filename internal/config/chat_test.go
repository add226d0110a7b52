package config

import (
	"strings"
	"testing"
	"time"
)

func TestChatSettingsAreValidated(t *testing.T) {
	c := Default()
	c.Chat.SlackAPIURL = "slack.com/api"
	c.Chat.RetryFor = Duration(time.Second)
	c.Chat.Rates = map[string]float64{"email": 1, "slack": -1, "teams": 4}
	err := c.Validate()
	for _, want := range []string{"chat.slack_api_url", "chat.retry_for", "chat.rates.email", "chat.rates.slack"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want a problem with %s", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "chat.rates.teams") {
		t.Errorf("Validate() = %v: teams: 4 is a valid rate", err)
	}
}
