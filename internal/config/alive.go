package config

import (
	"net/url"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum/drill"
)

// Consumers tunes how the consumers of the event log treat an event they fail on: they
// try it again after Backoff (doubled after each failure, at most a minute) and after
// Attempts failures park it with its reason and go on (docs/operations.md).
type Consumers struct {
	Attempts int      `yaml:"attempts"`
	Backoff  Duration `yaml:"backoff"`
}

// Watchdog is the check, in every node, that the work it promised is being done: steps
// and reminders due, deliveries queued, consumers keeping up.
type Watchdog struct {
	// Interval is how often it looks; LogEvery how often it repeats its error line while
	// something is overdue.
	Interval Duration `yaml:"interval"`
	LogEvery Duration `yaml:"log_every"`
	// Stalled is how long a consumer's cursor may stand still while events wait.
	Stalled Duration `yaml:"stalled"`
	// Queued is how long a delivery may stay queued past its due time (a rate limit
	// legitimately queues a large drill for minutes).
	Queued Duration `yaml:"queued"`
}

// Canary is a scheduled end-to-end test alert: a real incident marked canary, sent to a
// test person or team on the channels named, checked through to the provider's acceptance
// and its status callback. Off while Schedule is empty.
type Canary struct {
	// Schedule is a cron spec with seconds ("0 0 9 * * MON-FRI") in the configured zone.
	Schedule string `yaml:"schedule"`
	// Person (an email or a person id) or Team receives it; one of them is required.
	Person string `yaml:"person"`
	Team   string `yaml:"team"`
	// Channels it must pass on (sms, voice, webpush); default sms and webpush.
	Channels []string `yaml:"channels"`
	// Timeout is how long every message has to be accepted and reported delivered.
	Timeout Duration `yaml:"timeout"`
	// PageTeam is paged, on every channel that still works, when a canary fails.
	PageTeam string `yaml:"page_team"`
}

// Heartbeat is the node's call, every Interval, to an outside dead-man switch (a
// healthchecks.io-style URL) so a dead or cut-off server is noticed. Off while URL is empty.
type Heartbeat struct {
	URL      string   `yaml:"url"`
	Method   string   `yaml:"method"` // GET or POST
	Interval Duration `yaml:"interval"`
	Timeout  Duration `yaml:"timeout"`
}

func defaultConsumers() Consumers {
	return Consumers{Attempts: 5, Backoff: Duration(time.Second)}
}

func defaultWatchdog() Watchdog {
	return Watchdog{Interval: Duration(15 * time.Second), LogEvery: Duration(time.Minute), Stalled: Duration(time.Minute),
		Queued: Duration(10 * time.Minute)}
}

func defaultCanary() Canary {
	return Canary{Channels: []string{"sms", "webpush"}, Timeout: Duration(5 * time.Minute), PageTeam: "continuity"}
}

func defaultHeartbeat() Heartbeat {
	return Heartbeat{Method: "GET", Interval: Duration(time.Minute), Timeout: Duration(10 * time.Second)}
}

func (c Consumers) validate(p *problems) {
	if c.Attempts < 1 || c.Attempts > 100 {
		p.add("consumers.attempts", "must be from 1 to 100")
	}
	if c.Backoff < Duration(time.Millisecond) || c.Backoff > Duration(time.Minute) {
		p.add("consumers.backoff", "must be from 1ms to 1m")
	}
}

func (w Watchdog) validate(p *problems) {
	if w.Interval < Duration(10*time.Millisecond) || w.Interval > Duration(time.Hour) {
		p.add("watchdog.interval", "must be from 10ms to 1h")
	}
	if w.LogEvery < w.Interval || w.LogEvery > Duration(24*time.Hour) {
		p.add("watchdog.log_every", "must be from watchdog.interval to 24h")
	}
	if w.Stalled < Duration(time.Second) || w.Stalled > Duration(24*time.Hour) {
		p.add("watchdog.stalled", "must be from 1s to 24h")
	}
	if w.Queued < Duration(time.Second) || w.Queued > Duration(24*time.Hour) {
		p.add("watchdog.queued", "must be from 1s to 24h")
	}
}

// validate checks the canary; twilio says whether SMS and calls have a sender, email
// whether email has one.
func (c Canary) validate(p *problems, teams map[string]bool, twilio, email bool) {
	if c.Schedule == "" {
		return
	}
	if _, err := drill.ParseSchedule(c.Schedule); err != nil {
		p.add("canary.schedule", "%q is not a cron spec with seconds such as \"0 0 9 * * MON-FRI\"", c.Schedule)
	}
	switch {
	case c.Person == "" && c.Team == "":
		p.add("canary", "names nobody: set canary.person (an email or a person id) or canary.team")
	case c.Person != "" && c.Team != "":
		p.add("canary", "set canary.person or canary.team, not both")
	case c.Team != "" && !teams[c.Team]:
		p.add("canary.team", "%q is not one of the teams", c.Team)
	}
	if len(c.Channels) == 0 {
		p.add("canary.channels", "must name at least one channel (sms, voice, webpush, email)")
	}
	for _, ch := range c.Channels {
		if ch != "sms" && ch != "voice" && ch != "webpush" && ch != "email" {
			p.add("canary.channels", "unknown channel %q (sms, voice, webpush, email)", ch)
		} else if ch == "email" && !email {
			p.add("canary.channels", "email has no sender: set OPTIMUM_SMTP_URL, or leave email out (every canary would fail)")
		} else if ch != "webpush" && ch != "email" && !twilio {
			p.add("canary.channels", "%s has no sender: configure Twilio, or leave %s out (every canary would fail)", ch, ch)
		}
	}
	if c.Timeout < Duration(time.Second) || c.Timeout > Duration(time.Hour) {
		p.add("canary.timeout", "must be from 1s to 1h")
	}
	if c.PageTeam == "" || !teams[c.PageTeam] {
		p.add("canary.page_team", "%q is not one of the teams", c.PageTeam)
	}
}

func (h Heartbeat) validate(p *problems) {
	if h.URL == "" {
		return
	}
	if u, err := url.Parse(h.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.add("heartbeat.url", "must be an absolute http(s) URL, got %q", h.URL)
	}
	if m := strings.ToUpper(h.Method); m != "GET" && m != "POST" {
		p.add("heartbeat.method", "must be GET or POST, got %q", h.Method)
	}
	if h.Interval < Duration(10*time.Millisecond) || h.Interval > Duration(time.Hour) {
		p.add("heartbeat.interval", "must be from 10ms to 1h")
	}
	if h.Timeout <= 0 || h.Timeout > h.Interval {
		p.add("heartbeat.timeout", "must be positive and at most heartbeat.interval")
	}
}
