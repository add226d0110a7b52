package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestSMSProvidersFollowTheConfiguredOrder(t *testing.T) {
	cases := []struct {
		twilio, vonage bool
		order          []string
		want           string
	}{
		{true, true, nil, "[twilio vonage]"},
		{true, true, []string{"vonage", "twilio"}, "[vonage twilio]"},
		{false, true, nil, "[vonage]"},
		{true, false, []string{"vonage", "twilio"}, "[twilio]"}, // Vonage not configured
		{false, false, nil, "[]"},
	}
	for _, c := range cases {
		cfg := Default()
		if c.twilio {
			cfg.Twilio.AccountSID = "AC1"
		}
		if c.vonage {
			cfg.Vonage.APIKey = "k"
		}
		cfg.SMS.Providers = c.order
		if got := fmt.Sprint(cfg.SMSProviders()); got != c.want {
			t.Errorf("twilio %v, vonage %v, order %v: %s, want %s", c.twilio, c.vonage, c.order, got, c.want)
		}
	}
}

func TestSMSSettingsAreValidated(t *testing.T) {
	vonage := func(c *Config) {
		c.Server.PublicURL = "https://bcp.example.com"
		c.Vonage.APIKey, c.Vonage.APISecret, c.Vonage.SignatureSecret, c.Vonage.From = "k", "s", "sig", "+34911234567"
	}
	cases := []struct {
		name   string
		change func(*Config)
		want   string // a part of the error; "" for valid
	}{
		{"Vonage complete", vonage, ""},
		{"Vonage without its signature secret", func(c *Config) { vonage(c); c.Vonage.SignatureSecret = "" }, "VONAGE_SIGNATURE_SECRET is required"},
		{"Vonage with a Messaging Service as sender", func(c *Config) { vonage(c); c.Vonage.From = "MG0123456789abcdef0123456789abcdef" }, "vonage.from"},
		{"a call application without its key", func(c *Config) { vonage(c); c.Vonage.ApplicationID = "app" }, "both application_id and private_key_file"},
		{"an unknown provider", func(c *Config) { c.SMS.Providers = []string{"plivo"} }, `unknown provider "plivo"`},
		{"a country code with a plus", func(c *Config) { c.SMS.NoLinkCountries = []string{"+52"} }, "not a country calling code"},
		{"Mexico without links", func(c *Config) { c.SMS.NoLinkCountries = []string{"52"} }, ""},
		{"a twelve-letter sender ID", func(c *Config) { c.Twilio.Senders = map[string]string{"34": "OPTIMUMBCPXX"} }, "twilio.senders"},
		{"a zero threshold", func(c *Config) { c.SMS.Failover.Threshold = 0 }, "sms.failover.threshold"},
	}
	for _, c := range cases {
		cfg := Default()
		c.change(&cfg)
		err := cfg.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v, want valid", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}

func TestSMSEnvironment(t *testing.T) {
	cfg, err := Load(env(map[string]string{"OPTIMUM_SMS_PROVIDERS": "vonage, twilio", "OPTIMUM_SMS_NO_LINK_COUNTRIES": "52",
		"OPTIMUM_VONAGE_API_URL": "http://127.0.0.1:9", "OPTIMUM_SMS_FAILOVER_THRESHOLD": "3"}))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(cfg.SMS.Providers) != "[vonage twilio]" || fmt.Sprint(cfg.SMS.NoLinkCountries) != "[52]" ||
		cfg.Vonage.SMSAPIURL != "http://127.0.0.1:9" || cfg.Vonage.VoiceAPIURL != "http://127.0.0.1:9" || cfg.SMS.Failover.Threshold != 3 {
		t.Errorf("sms %+v, vonage URLs %q %q", cfg.SMS, cfg.Vonage.SMSAPIURL, cfg.Vonage.VoiceAPIURL)
	}
}
