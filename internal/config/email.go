package config

import (
	"github.com/optimum-bcp/optimum/broadcast/email"
)

// Email is the SMTP server alerts and notices are mailed through. Without a URL, email
// is off. The URL carries the password, so it comes from the environment only.
type Email struct {
	// URL is OPTIMUM_SMTP_URL: smtp://user:pass@host:port (STARTTLS when the server
	// offers it), smtp://…?starttls=required, or smtps://… (implicit TLS).
	URL string `yaml:"-"`
	// From is OPTIMUM_SMTP_FROM: the sender, "OPTIMUM BCP <alertas@example.com>".
	From string `yaml:"from"`
	// CAFile is OPTIMUM_SMTP_CA_FILE: a PEM file of certificates trusted, besides the
	// system's, to sign the SMTP server's (a company CA). Verification is never off.
	CAFile string `yaml:"ca_file"`
	// BounceAddress is OPTIMUM_SMTP_BOUNCE: the mailbox asynchronous bounces go to, e.g.
	// bounces@example.com. Each message's envelope sender is then bounces+<delivery
	// id>@example.com (VERP), so a bounce names its delivery; the mailbox's server pipes
	// them to POST /api/v1/email/bounces. Without it the envelope sender is From.
	BounceAddress string `yaml:"bounce_address"`
}

func (e *Email) applyEnv(getenv func(string) string) {
	for key, dst := range map[string]*string{"OPTIMUM_SMTP_URL": &e.URL, "OPTIMUM_SMTP_FROM": &e.From, "OPTIMUM_SMTP_CA_FILE": &e.CAFile, "OPTIMUM_SMTP_BOUNCE": &e.BounceAddress} {
		if v := getenv(key); v != "" {
			*dst = v
		}
	}
}

func (e Email) validate(p *problems, publicURL string) {
	if e.URL == "" {
		return // email off; a from in the file waits for the URL in the environment
	}
	cfg, err := e.SMTP()
	if err != nil {
		// The error names no part of the URL: it may hold a password.
		p.add("email", "OPTIMUM_SMTP_URL: %v", err)
		return
	}
	if err := cfg.Validate(); err != nil {
		p.add("email", "%v", err)
	}
	if publicURL == "" {
		p.add("server.public_url", "is required with email: the links in the messages use it")
	}
}

// SMTP is the sender's configuration, read from the URL (when email is on).
func (e Email) SMTP() (email.Config, error) {
	cfg, err := email.ParseURL(e.URL)
	if err != nil {
		return cfg, err
	}
	cfg.From, cfg.CAFile, cfg.BounceAddress = e.From, e.CAFile, e.BounceAddress
	return cfg, nil
}
