package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Bad settings of the consumers, the watchdog, the canary and the heartbeat are each
// reported, all at once, by key.
func TestAliveSettingsAreValidated(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"canary naming nobody", "canary:\n  schedule: \"0 0 9 * * MON-FRI\"\n",
			[]string{"canary: names nobody"}},
		{"canary with a bad cron, an unknown team, channel and page team",
			"canary:\n  schedule: \"every morning\"\n  team: nadie\n  channels: [sms, fax]\n  page_team: ghosts\n  timeout: 0s\n",
			[]string{"canary.schedule", "canary.team: \"nadie\"", "canary.channels: unknown channel \"fax\"", "canary.page_team", "canary.timeout"}},
		{"canary naming a person and a team", "canary:\n  schedule: \"0 0 9 * * *\"\n  person: a@example.com\n  team: continuity\n",
			[]string{"canary: set canary.person or canary.team, not both"}},
		{"canary on SMS and calls without Twilio", "canary:\n  schedule: \"0 0 9 * * *\"\n  person: a@example.com\n  channels: [sms, voice, webpush]\n",
			[]string{"canary.channels: sms has no sender", "canary.channels: voice has no sender"}},
		{"heartbeat with a bad URL and method", "heartbeat:\n  url: \"ftp://monitor.example.com/x\"\n  method: PUT\n",
			[]string{"heartbeat.url", "heartbeat.method"}},
		{"heartbeat timeout longer than its interval", "heartbeat:\n  url: \"https://hc.example.com/ping/1\"\n  interval: 5s\n  timeout: 10s\n",
			[]string{"heartbeat.timeout"}},
		{"consumers and watchdog out of range", "consumers:\n  attempts: 0\n  backoff: 2m\nwatchdog:\n  interval: 1ms\n  stalled: 0s\n  queued: 0s\n",
			[]string{"consumers.attempts", "consumers.backoff", "watchdog.interval", "watchdog.stalled", "watchdog.queued"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(env(map[string]string{"OPTIMUM_CONFIG": path}))
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.Validate()
			if err == nil {
				t.Fatalf("Validate accepted %q", tc.yaml)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

// A working canary and heartbeat pass.
func TestAliveSettingsAccepted(t *testing.T) {
	cfg := Default()
	cfg.Canary.Schedule, cfg.Canary.Person = "0 0 9 * * MON-FRI", "canary@example.com"
	cfg.Heartbeat.URL, cfg.Heartbeat.Method = "https://hc.example.com/ping/abc", "post"
	cfg.Canary.Channels = []string{"webpush"} // no Twilio here
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg.Canary.Channels = []string{"sms", "webpush"}
	cfg.Twilio.AccountSID, cfg.Twilio.AuthToken, cfg.Twilio.From = "AC0123", "secret", []string{"+15005550006"}
	cfg.Server.PublicURL = "https://bcp.example.com"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}
