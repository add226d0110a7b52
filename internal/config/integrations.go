package config

import (
	"slices"
	"strings"
)

// Integrations configure alerts coming in from monitoring (alerts/, docs/integrations.md):
// Prometheus Alertmanager's webhook and a generic signed JSON webhook. Each alert makes a
// proposed incident that a responder confirms or dismisses, unless a rule below says its
// alert name declares at once.
type Integrations struct {
	// WebhookSecret signs the generic webhook (Standard Webhooks: "whsec_" and base64);
	// empty turns the generic webhook off. Also OPTIMUM_INTEGRATION_WEBHOOK_SECRET.
	WebhookSecret string `yaml:"webhook_secret"`
	// Teams are alerted by a confirmed proposal that names none (no confirmation
	// choice, no rule, no known "team" label).
	Teams []string `yaml:"teams"`
	// DeclareAtOnce are the alert names that declare without waiting for a human.
	DeclareAtOnce []AlertRule `yaml:"declare_at_once"`
}

// AlertRule declares an alert at once, with these fields (empty ones come from the alert).
type AlertRule struct {
	AlertName string   `yaml:"alertname"`
	Impact    string   `yaml:"impact"`
	Urgency   string   `yaml:"urgency"`
	Teams     []string `yaml:"teams"`
}

// Rule returns the rule for an alert name, if any.
func (in Integrations) Rule(alertName string) (AlertRule, bool) {
	for _, r := range in.DeclareAtOnce {
		if r.AlertName == alertName {
			return r, true
		}
	}
	return AlertRule{}, false
}

func (in Integrations) validate(p *problems) {
	if s := in.WebhookSecret; s != "" && (!strings.HasPrefix(s, "whsec_") || len(s) < len("whsec_")+24) {
		p.add("integrations.webhook_secret", "must be a Standard Webhooks secret: whsec_ and at least 24 base64 characters")
	}
	levels := []string{"", "critical", "high", "medium", "low"}
	seen := map[string]bool{}
	for i, r := range in.DeclareAtOnce {
		if r.AlertName == "" {
			p.add("integrations.declare_at_once", "rule %d has no alertname", i+1)
		} else if seen[r.AlertName] {
			p.add("integrations.declare_at_once", "alertname %q has two rules", r.AlertName)
		}
		seen[r.AlertName] = true
		if !slices.Contains(levels, r.Impact) || !slices.Contains(levels, r.Urgency) {
			p.add("integrations.declare_at_once", "rule %q: impact and urgency are critical, high, medium or low", r.AlertName)
		}
	}
}
