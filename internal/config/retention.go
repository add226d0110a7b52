package config

import "time"

// Retention is how long records that are not the event log are kept (docs/privacy.md):
// the attempts of each delivery (when, outcome, the provider's reason) and the records of
// provider webhooks (Twilio's, the integrations'). 0 keeps them. The event log itself is
// never cut: it is the evidence, and its hash chain would break.
type Retention struct {
	DeliveryAttempts Duration `yaml:"delivery_attempts"`
	// WebhookCalls protect against replayed provider requests: a request older than
	// this, captured and sent again, is processed again. Keep it unless you must.
	WebhookCalls Duration `yaml:"webhook_calls"`
}

// minRetention is the shortest retention allowed: an incident's report and its drill
// are read within weeks.
const minRetention = 30 * 24 * time.Hour

// DefaultRetention keeps delivery attempts 400 days (a year and its audit) and webhook
// records for ever.
func DefaultRetention() Retention {
	return Retention{DeliveryAttempts: Duration(400 * 24 * time.Hour)}
}

func (r Retention) validate(p *problems) {
	for name, d := range map[string]Duration{"retention.delivery_attempts": r.DeliveryAttempts, "retention.webhook_calls": r.WebhookCalls} {
		if v := time.Duration(d); v != 0 && v < minRetention {
			p.add(name, "must be 0 (keep) or at least 720h (30 days), got %v", v)
		}
	}
}
