package config_test

import (
	"os"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum/internal/config"
)

// The SMTP settings come from the environment; a bad URL or sender stops start-up with
// a reason that never repeats the URL (it holds the password).
func TestEmailSettings(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		err  string // "" for valid
	}{
		{"off", map[string]string{}, ""},
		{"from without URL waits for the URL", map[string]string{"OPTIMUM_SMTP_FROM": "alertas@example.com"}, ""},
		{"STARTTLS", map[string]string{"OPTIMUM_SMTP_URL": "smtp://u:secretpw@mail.example.com:587", "OPTIMUM_SMTP_FROM": "OPTIMUM <alertas@example.com>"}, ""},
		{"implicit TLS", map[string]string{"OPTIMUM_SMTP_URL": "smtps://u:secretpw@mail.example.com", "OPTIMUM_SMTP_FROM": "alertas@example.com"}, ""},
		{"no sender", map[string]string{"OPTIMUM_SMTP_URL": "smtp://u:secretpw@mail.example.com"}, "OPTIMUM_SMTP_FROM is required"},
		{"bad scheme", map[string]string{"OPTIMUM_SMTP_URL": "http://u:secretpw@mail.example.com", "OPTIMUM_SMTP_FROM": "a@example.com"}, "the scheme must be smtp or smtps"},
		{"bad option", map[string]string{"OPTIMUM_SMTP_URL": "smtp://u:secretpw@mail.example.com?starttls=sometimes", "OPTIMUM_SMTP_FROM": "a@example.com"}, `starttls must be "required"`},
		{"bounce mailbox", map[string]string{"OPTIMUM_SMTP_URL": "smtp://mail.example.com", "OPTIMUM_SMTP_FROM": "a@example.com", "OPTIMUM_SMTP_BOUNCE": "rebotes@example.com"}, ""},
		{"bounce mailbox with a +", map[string]string{"OPTIMUM_SMTP_URL": "smtp://mail.example.com", "OPTIMUM_SMTP_FROM": "a@example.com", "OPTIMUM_SMTP_BOUNCE": "rebotes+x@example.com"}, "OPTIMUM_SMTP_BOUNCE"},
		{"missing CA file", map[string]string{"OPTIMUM_SMTP_URL": "smtp://mail.example.com", "OPTIMUM_SMTP_FROM": "a@example.com", "OPTIMUM_SMTP_CA_FILE": "/nonexistent.pem"}, "OPTIMUM_SMTP_CA_FILE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{"OPTIMUM_PUBLIC_URL": "https://bcp.example.com"}
			for k, v := range c.env {
				env[k] = v
			}
			cfg, err := config.Load(func(k string) string { return env[k] })
			if err == nil {
				err = cfg.Validate()
			}
			if c.err == "" && err != nil {
				t.Fatalf("Load = %v, want valid", err)
			}
			if c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
				t.Fatalf("Load = %v, want %q", err, c.err)
			}
			if err != nil && strings.Contains(err.Error(), "secretpw") {
				t.Errorf("the problem repeats the password: %v", err)
			}
		})
	}
}

// The canary may test email only where a server sends it.
func TestCanaryByEmailNeedsAServer(t *testing.T) {
	file := t.TempDir() + "/optimum.yaml"
	if err := os.WriteFile(file, []byte("canary:\n  schedule: \"0 0 9 * * MON-FRI\"\n  person: ana@example.com\n  channels: [email]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		url, err string
	}{
		{"", "email has no sender: set OPTIMUM_SMTP_URL"},
		{"smtp://mail.example.com", ""},
	} {
		env := map[string]string{"OPTIMUM_CONFIG": file, "OPTIMUM_PUBLIC_URL": "https://bcp.example.com", "OPTIMUM_SMTP_URL": c.url, "OPTIMUM_SMTP_FROM": "a@example.com"}
		cfg, err := config.Load(func(k string) string { return env[k] })
		if err == nil {
			err = cfg.Validate()
		}
		if (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("SMTP %q: %v, want %q", c.url, err, c.err)
		}
	}
}
