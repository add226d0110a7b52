// Package config holds the one typed configuration of the server: built-in defaults, an
// optional YAML file, then environment variables, which win. Validate reports every
// problem at once so an operator fixes a file in one go.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Levels are the values of impact and urgency, from the most to the least severe.
var Levels = []string{"critical", "high", "medium", "low"}

// Priorities are the priorities the matrix may produce, P1 being the most urgent.
var Priorities = []string{"P1", "P2", "P3", "P4", "P5"}

// Config is the whole configuration. The zero value is not useful: start from Default.
type Config struct {
	Server   Server   `yaml:"server"`
	Database Database `yaml:"database"`
	Redis    Redis    `yaml:"redis"`
	// TimeZone names the IANA zone used for folio years and human schedules.
	TimeZone string   `yaml:"time_zone"`
	Teams    []Team   `yaml:"teams"`
	Incident Incident `yaml:"incident"`
	Limits   Limits   `yaml:"limits"`
	Delivery Delivery `yaml:"delivery"`
	Twilio   Twilio   `yaml:"twilio"`
	WebPush  WebPush  `yaml:"webpush"`
	// Escalation holds the ladders and the engine's settings (escalation.go).
	Escalation Escalation `yaml:"escalation"`
	// Drills holds drill plans kept in the file (drills.go).
	Drills  Drills  `yaml:"drills"`
	Metrics Metrics `yaml:"metrics"`
	// Stream tunes the live stream (stream.go).
	Stream Stream `yaml:"stream"`
	// Intake bounds the declarations at work at once (intake.go).
	Intake Intake `yaml:"intake"`
	// Consumers, Watchdog, Canary and Heartbeat make the system prove it is alive (alive.go).
	Consumers Consumers `yaml:"consumers"`
	Watchdog  Watchdog  `yaml:"watchdog"`
	Canary    Canary    `yaml:"canary"`
	Heartbeat Heartbeat `yaml:"heartbeat"`
	// Outbound bounds requests to URLs users chose (outbound.go).
	Outbound Outbound `yaml:"outbound"`
	// SSO is single sign-on through OpenID Connect providers (sso.go).
	SSO SSO `yaml:"sso"`
	// sms2: the second SMS and voice provider, failover and per-country rules (sms.go).
	Vonage Vonage `yaml:"vonage"`
	SMS    SMS    `yaml:"sms"`
	// Email is the SMTP server of the email channel (email.go).
	Email Email `yaml:"email"`
	// Integrations take alerts in from monitoring (integrations.go).
	Integrations Integrations `yaml:"integrations"`
	// Retention bounds how long delivery attempts and webhook records are kept (retention.go).
	Retention Retention `yaml:"retention"`
	// Chat tunes posts to team chats and outbound webhooks (chat.go).
	Chat Chat `yaml:"chat"`
	// SCIM and DirectorySync keep the directory current from the identity provider
	// (directory.go).
	SCIM          SCIM          `yaml:"scim"`
	DirectorySync DirectorySync `yaml:"directory_sync"`
}

// Delivery tunes how alerts are sent.
type Delivery struct {
	// Rates are the messages a second each channel may send (never more); 0 is unlimited.
	Rates map[string]float64 `yaml:"rates"`
	// Concurrency is how many sends may be in flight at once.
	Concurrency int `yaml:"concurrency"`
	// RetryFor is how long a failing delivery is retried before it is given up.
	RetryFor Duration `yaml:"retry_for"`
	// LinkTTL is how long a one-tap acknowledgement link works.
	LinkTTL Duration `yaml:"link_ttl"`
	// Lease is how long a node owns a delivery it is sending. If the node dies, another
	// sends it once the lease has expired; it must be longer than the slowest send.
	Lease Duration `yaml:"lease"`
}

// Twilio is the SMS and voice provider. Without an account SID, SMS and voice are off.
type Twilio struct {
	AccountSID          string   `yaml:"account_sid"`           // TWILIO_ACCOUNT_SID
	AuthToken           string   `yaml:"-"`                     // TWILIO_AUTH_TOKEN, from the environment only
	From                []string `yaml:"from"`                  // TWILIO_FROM (comma separated): a pool of numbers
	MessagingServiceSID string   `yaml:"messaging_service_sid"` // TWILIO_MESSAGING_SERVICE_SID
	APIURL              string   `yaml:"api_url"`               // OPTIMUM_TWILIO_API_URL: tests point it at a fake
	// Senders picks the SMS sender per country calling code (sms2): a number, a short
	// code, an alphanumeric ID or a Messaging Service SID (MG…), e.g. {"52": "MG…"}.
	Senders map[string]string `yaml:"senders"`
	// Transliterate turns accented letters GSM-7 lacks into plain ones, so a Spanish
	// alert fits in one SMS segment instead of three.
	Transliterate bool `yaml:"transliterate"`
	// bridge: BridgeNumber is the number people call to join a war-room bridge
	// (OPTIMUM_BRIDGE_NUMBER); its voice webhook is /hooks/twilio/bridge. Empty means the
	// first TWILIO_FROM number.
	BridgeNumber string `yaml:"bridge_number"`
}

// WebPush is browser push. Keys come from VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY, or
// are generated once and kept in the data folder.
type WebPush struct {
	Subject string `yaml:"subject"` // VAPID_SUBJECT: mailto: or https:
}

// Server is how the process listens and where it keeps its files.
type Server struct {
	Addr      string `yaml:"addr"`       // OPTIMUM_ADDR
	DataDir   string `yaml:"data_dir"`   // OPTIMUM_DATA
	PublicURL string `yaml:"public_url"` // OPTIMUM_PUBLIC_URL
	// AllowedOrigins lists extra browser origins allowed to open the live stream.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// BootstrapToken, from OPTIMUM_BOOTSTRAP_TOKEN only, becomes the first admin's token.
	BootstrapToken string `yaml:"-"`
}

// Database selects the store. An empty URL means SQLite in the data folder.
type Database struct {
	URL string `yaml:"url"` // OPTIMUM_DATABASE_URL
}

// Redis selects the fan-out between nodes. An empty URL means in-process.
type Redis struct {
	URL string `yaml:"url"` // OPTIMUM_REDIS_URL
	// Prefix starts every Redis channel and key of this deployment, so several
	// deployments can share one Redis. Every node of one deployment needs the same.
	Prefix string `yaml:"prefix"` // OPTIMUM_REDIS_PREFIX
}

// Team is one of the teams an alert may go to.
type Team struct {
	ID   string `yaml:"id"`
	Name Names  `yaml:"name"`
}

// Names holds a display name per language.
type Names struct {
	ES string `yaml:"es"`
	EN string `yaml:"en"`
}

// Incident holds the rules for new incidents.
type Incident struct {
	// DefaultTeams is the audience of a declaration that names none.
	DefaultTeams []string `yaml:"default_teams"`
	// Matrix maps impact, then urgency, to a priority.
	Matrix map[string]map[string]string `yaml:"matrix"`
	// SLA holds the targets per priority.
	SLA map[string]SLA `yaml:"sla"`
	// ConformityTTL is how long a requester has to accept or reject a solution; an
	// unanswered request then closes the incident, recorded as timed out.
	ConformityTTL Duration `yaml:"conformity_ttl"`
}

// SLA is the pair of targets of one priority, counted from the declaration.
type SLA struct {
	Acknowledge Duration `yaml:"acknowledge"`
	Resolve     Duration `yaml:"resolve"`
}

// Limits bound abuse of sign-in and declare. Each rate is kept per client IP and per
// account (or actor) in memory, on each node; the lockout after failed sign-ins is kept
// in the database.
type Limits struct {
	// TrustedProxies lists the reverse proxies (CIDRs or addresses) whose
	// X-Forwarded-For header names the client. From anyone else the header is ignored.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// SignInPerClient and SignInPerAccount limit POST /api/v1/session per client IP and
	// per email; SignInPerAccount also limits password changes and phone codes per user.
	// Login and set-password links count under LinkGuessesPerClient.
	SignInPerClient  Rate `yaml:"sign_in_per_client"`
	SignInPerAccount Rate `yaml:"sign_in_per_account"`
	// DeclarePerActor limits POST /api/v1/incidents. DeclarePerClient is no longer
	// applied (a site declaring several incidents from one address is normal); it is
	// still read so that older files load.
	DeclarePerClient Rate `yaml:"declare_per_client"`
	DeclarePerActor  Rate `yaml:"declare_per_actor"`
	// Lockout slows down repeated failed sign-ins of one email.
	Lockout Lockout `yaml:"lockout"`
	// MaxKeys bounds how many clients or accounts each rate remembers; the idlest are
	// forgotten first.
	MaxKeys int `yaml:"max_keys"`

	// SignInGlobal slows down password sign-ins from browsers that never signed in to
	// the account before, over every account together. A known browser is never slowed.
	SignInGlobal Rate `yaml:"sign_in_global"`
	// LinkPerToken limits the answers through one capability link (one-tap
	// acknowledgement /a/, conformity /c/); LinkGuessesPerClient limits unknown, used
	// or expired links per client address. A valid link never counts per address.
	LinkPerToken         Rate `yaml:"link_per_token"`
	LinkGuessesPerClient Rate `yaml:"link_guesses_per_client"`
	// WebhookForgedPerClient limits webhook requests with a wrong signature per client
	// address; requests Twilio signed are never limited.
	WebhookForgedPerClient Rate `yaml:"webhook_forged_per_client"`
	// PhoneCodesPerHour and PhoneCodesPerDay limit the SMS verification codes sent,
	// counted both per account and per destination number.
	PhoneCodesPerHour int `yaml:"phone_codes_per_hour"`
	PhoneCodesPerDay  int `yaml:"phone_codes_per_day"`
	// NonAlertSMSPerDay caps the SMS that are not alerts (verification codes) over the
	// whole deployment in 24 hours; 0 is no cap. Alerts are never counted nor stopped.
	NonAlertSMSPerDay int `yaml:"non_alert_sms_per_day"`
	// SSOStartPerClient limits the single sign-ins started per client address (each
	// stores a short-lived row); generous, since a whole office may share an address.
	SSOStartPerClient Rate `yaml:"sso_start_per_client"`
}

// Rate is a token bucket: PerMinute requests a minute on average, Burst at once.
type Rate struct {
	PerMinute int `yaml:"per_minute"`
	Burst     int `yaml:"burst"`
}

// Lockout locks an email after After consecutive failed sign-ins, for Base, then twice
// as long after each further failure, up to Max.
type Lockout struct {
	After int      `yaml:"after"`
	Base  Duration `yaml:"base"`
	Max   Duration `yaml:"max"`
	// AccountAfter is the number of consecutive failures, from every browser that never
	// signed in to the account, after which such browsers are locked out of it too (with
	// the same growth). Browsers that signed in before are never locked by them.
	AccountAfter int `yaml:"account_after"`
}

// Duration is a time.Duration written as "5m" or "4h" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: want a duration such as 15m: %w", n.Line, err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration such as 15m or 4h", n.Line, s)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Default returns the built-in configuration: the embedded default, four teams, an ITIL
// priority matrix and SLA targets a continuity manager would start from.
func Default() Config {
	return Config{
		Server:   Server{Addr: ":8080", DataDir: "./data"},
		Redis:    Redis{Prefix: "optimum:"},
		TimeZone: "America/Mexico_City",
		Teams: []Team{
			{ID: "directors", Name: Names{ES: "Dirección", EN: "Directors"}},
			{ID: "continuity", Name: Names{ES: "Continuidad del negocio", EN: "Business continuity"}},
			{ID: "technology", Name: Names{ES: "Tecnología", EN: "Technology"}},
			{ID: "operations", Name: Names{ES: "Operaciones", EN: "Operations"}},
		},
		Incident: Incident{
			DefaultTeams: []string{"directors", "continuity", "technology", "operations"},
			Matrix: map[string]map[string]string{
				"critical": {"critical": "P1", "high": "P1", "medium": "P2", "low": "P3"},
				"high":     {"critical": "P1", "high": "P2", "medium": "P3", "low": "P4"},
				"medium":   {"critical": "P2", "high": "P3", "medium": "P4", "low": "P5"},
				"low":      {"critical": "P3", "high": "P4", "medium": "P5", "low": "P5"},
			},
			SLA: map[string]SLA{
				"P1": {Acknowledge: Duration(5 * time.Minute), Resolve: Duration(4 * time.Hour)},
				"P2": {Acknowledge: Duration(15 * time.Minute), Resolve: Duration(8 * time.Hour)},
				"P3": {Acknowledge: Duration(time.Hour), Resolve: Duration(24 * time.Hour)},
				"P4": {Acknowledge: Duration(4 * time.Hour), Resolve: Duration(72 * time.Hour)},
				"P5": {Acknowledge: Duration(8 * time.Hour), Resolve: Duration(120 * time.Hour)},
			},
			ConformityTTL: Duration(72 * time.Hour),
		},
		Delivery: Delivery{
			Rates: map[string]float64{"sms": 10, "voice": 2, "webpush": 100, "email": 10},
			// 64, not 16: with sends of a few milliseconds each waiting for their outcome's
			// commit, 64 in flight per channel reached the last of 100,000 people in 152 s
			// against 198 s, and grouped four times as many writes in each SQLite commit
			// (docs/deliveries.md, "Statements kept prepared").
			Concurrency: 64,
			RetryFor:    Duration(time.Hour),
			LinkTTL:     Duration(72 * time.Hour),
			Lease:       Duration(2 * time.Minute),
		},
		Twilio:     Twilio{From: []string{}, Transliterate: true},
		Escalation: defaultEscalation(),
		Drills:     defaultDrills(),
		Metrics:    DefaultMetrics(),
		Stream:     DefaultStream(),
		Intake:     DefaultIntake(),
		Retention:  DefaultRetention(),
		Consumers:  defaultConsumers(),
		Watchdog:   defaultWatchdog(),
		Canary:     defaultCanary(),
		Heartbeat:  defaultHeartbeat(),
		Outbound:   defaultOutbound(),
		SSO:        defaultSSO(), // single sign-on (sso.go)
		Chat:       defaultChat(),
		// directory sync (directory.go)
		DirectorySync: defaultDirectorySync(),
		SMS:           defaultSMS(), // sms2
		Limits: Limits{
			TrustedProxies:   []string{},
			SignInPerClient:  Rate{PerMinute: 10, Burst: 5},
			SignInPerAccount: Rate{PerMinute: 5, Burst: 5},
			DeclarePerClient: Rate{PerMinute: 30, Burst: 10},
			DeclarePerActor:  Rate{PerMinute: 30, Burst: 10},
			Lockout:          Lockout{After: 5, Base: Duration(time.Second), Max: Duration(15 * time.Minute), AccountAfter: 20},
			MaxKeys:          10000,

			SignInGlobal:           Rate{PerMinute: 600, Burst: 100},
			LinkPerToken:           Rate{PerMinute: 10, Burst: 10},
			LinkGuessesPerClient:   Rate{PerMinute: 30, Burst: 10},
			WebhookForgedPerClient: Rate{PerMinute: 30, Burst: 10},
			PhoneCodesPerHour:      3,
			PhoneCodesPerDay:       10,
			NonAlertSMSPerDay:      500,
			SSOStartPerClient:      Rate{PerMinute: 120, Burst: 60}, // single sign-on (sso.go)
		},
	}
}

// DefaultPath is the file read when OPTIMUM_CONFIG is not set, if it exists.
const DefaultPath = "configs/optimum.yaml"

// Load returns Default, overlaid with the YAML file at path (OPTIMUM_CONFIG, else
// DefaultPath when it exists), overlaid with the environment. It does not validate.
func Load(getenv func(string) string) (Config, error) {
	cfg := Default()
	path, explicit := getenv("OPTIMUM_CONFIG"), true
	if path == "" {
		path, explicit = DefaultPath, false
	}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := cfg.decode(data); err != nil {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	case !explicit && errors.Is(err, os.ErrNotExist):
	default:
		return cfg, fmt.Errorf("config: %w", err)
	}
	cfg.applyEnv(getenv)
	return cfg, nil
}

// decode overlays YAML onto cfg. Unknown keys are an error, so a typo is not silently
// ignored. Maps given in the file replace the default maps whole.
func (c *Config) decode(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

func (c *Config) applyEnv(getenv func(string) string) {
	set := func(dst *string, key string) {
		if v := getenv(key); v != "" {
			*dst = v
		}
	}
	set(&c.Server.Addr, "OPTIMUM_ADDR")
	set(&c.Server.DataDir, "OPTIMUM_DATA")
	set(&c.Server.PublicURL, "OPTIMUM_PUBLIC_URL")
	set(&c.Server.BootstrapToken, "OPTIMUM_BOOTSTRAP_TOKEN")
	set(&c.Database.URL, "OPTIMUM_DATABASE_URL")
	set(&c.Redis.URL, "OPTIMUM_REDIS_URL")
	set(&c.Redis.Prefix, "OPTIMUM_REDIS_PREFIX")
	set(&c.TimeZone, "OPTIMUM_TIME_ZONE")
	set(&c.Twilio.AccountSID, "TWILIO_ACCOUNT_SID")
	set(&c.Twilio.AuthToken, "TWILIO_AUTH_TOKEN")
	set(&c.Twilio.MessagingServiceSID, "TWILIO_MESSAGING_SERVICE_SID")
	set(&c.Twilio.APIURL, "OPTIMUM_TWILIO_API_URL")
	set(&c.Twilio.BridgeNumber, "OPTIMUM_BRIDGE_NUMBER") // bridge
	set(&c.WebPush.Subject, "VAPID_SUBJECT")
	c.Outbound.applyEnv(getenv)
	// Single sign-on (sso.go).
	c.SSO.applyEnv(getenv)
	c.Email.applyEnv(getenv) // OPTIMUM_SMTP_URL, OPTIMUM_SMTP_FROM, OPTIMUM_SMTP_CA_FILE, OPTIMUM_SMTP_BOUNCE
	set(&c.Integrations.WebhookSecret, "OPTIMUM_INTEGRATION_WEBHOOK_SECRET")
	c.Chat.applyEnv(getenv)
	set(&c.SCIM.Token, "OPTIMUM_SCIM_TOKEN")                                    // directory.go
	set(&c.DirectorySync.Authorization, "OPTIMUM_DIRECTORY_SYNC_AUTHORIZATION") // directory.go
	// sms2: Vonage, failover and per-country SMS rules.
	c.applySMSEnv(getenv)
	if v := getenv("TWILIO_FROM"); v != "" {
		c.Twilio.From = nil
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				c.Twilio.From = append(c.Twilio.From, f)
			}
		}
	}
}

// Location returns the configured time zone. Call Validate first.
func (c Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// SQLitePath is the database file used when no database URL is set.
func (c Config) SQLitePath() string { return filepath.Join(c.Server.DataDir, "optimum.db") }

// TeamIDs returns the ids of the configured teams.
func (c Config) TeamIDs() []string {
	ids := make([]string, len(c.Teams))
	for i, t := range c.Teams {
		ids[i] = t.ID
	}
	return ids
}

// Validate returns every problem of the configuration at once, or nil.
func (c Config) Validate() error {
	var p problems
	if c.Server.Addr == "" {
		p.add("server.addr", "must not be empty (e.g. :8080)")
	}
	if c.Server.DataDir == "" {
		p.add("server.data_dir", "must not be empty")
	}
	if u := c.Server.PublicURL; u != "" {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			p.add("server.public_url", "must be an absolute http(s) URL, got %q", u)
		}
	}
	for i, o := range c.Server.AllowedOrigins {
		if pu, err := url.Parse(o); err != nil || pu.Scheme == "" || pu.Host == "" {
			p.add(fmt.Sprintf("server.allowed_origins[%d]", i), "must be an origin such as https://bcp.example.com, got %q", o)
		}
	}
	if u := c.Database.URL; u != "" && !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		p.add("database.url", "must be empty (SQLite) or a postgres:// URL")
	}
	if u := c.Redis.URL; u != "" && !strings.HasPrefix(u, "redis://") && !strings.HasPrefix(u, "rediss://") {
		p.add("redis.url", "must be empty (in-process) or a redis:// or rediss:// URL")
	}
	if c.Redis.Prefix == "" || len(c.Redis.Prefix) > 64 || strings.ContainsAny(c.Redis.Prefix, " \t\r\n{}") {
		p.add("redis.prefix", "must be 1-64 characters without spaces or braces, got %q", c.Redis.Prefix)
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "" {
		p.add("time_zone", "%q is not an IANA time zone such as America/Mexico_City", c.TimeZone)
	}
	teams := map[string]bool{}
	for i, t := range c.Teams {
		switch {
		case !validID(t.ID):
			p.add(fmt.Sprintf("teams[%d].id", i), "%q must be lower-case letters, digits, '-' or '_' (1-64)", t.ID)
		case teams[t.ID]:
			p.add(fmt.Sprintf("teams[%d].id", i), "%q is listed twice", t.ID)
		}
		teams[t.ID] = true
		if t.Name.ES == "" || t.Name.EN == "" {
			p.add(fmt.Sprintf("teams[%d].name", i), "needs both es and en")
		}
	}
	if len(c.Incident.DefaultTeams) == 0 {
		p.add("incident.default_teams", "must name at least one team")
	}
	for _, id := range c.Incident.DefaultTeams {
		if !teams[id] {
			p.add("incident.default_teams", "%q is not one of the teams", id)
		}
	}
	prio := map[string]bool{}
	for _, v := range Priorities {
		prio[v] = true
	}
	for _, impact := range Levels {
		row, ok := c.Incident.Matrix[impact]
		if !ok {
			p.add("incident.matrix."+impact, "missing: every impact needs a row")
			continue
		}
		for _, urgency := range Levels {
			if v := row[urgency]; !prio[v] {
				p.add("incident.matrix."+impact+"."+urgency, "must be one of P1-P5, got %q", v)
			}
		}
		for k := range row {
			if !contains(Levels, k) {
				p.add("incident.matrix."+impact+"."+k, "unknown urgency (want critical, high, medium or low)")
			}
		}
	}
	for k := range c.Incident.Matrix {
		if !contains(Levels, k) {
			p.add("incident.matrix."+k, "unknown impact (want critical, high, medium or low)")
		}
	}
	for _, pr := range Priorities {
		s, ok := c.Incident.SLA[pr]
		if !ok {
			p.add("incident.sla."+pr, "missing: every priority needs SLA targets")
			continue
		}
		if s.Acknowledge <= 0 || s.Resolve <= 0 {
			p.add("incident.sla."+pr, "acknowledge and resolve must be positive")
		} else if s.Resolve < s.Acknowledge {
			p.add("incident.sla."+pr, "resolve (%v) must not be shorter than acknowledge (%v)", time.Duration(s.Resolve), time.Duration(s.Acknowledge))
		}
		if time.Duration(s.Resolve) > 365*24*time.Hour {
			p.add("incident.sla."+pr+".resolve", "must be under a year")
		}
	}
	for k := range c.Incident.SLA {
		if !prio[k] {
			p.add("incident.sla."+k, "unknown priority (want P1-P5)")
		}
	}
	if d := time.Duration(c.Incident.ConformityTTL); d < time.Minute || d > 90*24*time.Hour {
		p.add("incident.conformity_ttl", "must be from 1m to 2160h (90 days)")
	}
	c.Limits.validate(&p)
	c.Escalation.validate(&p, teams)
	c.Metrics.validate(&p)
	c.Stream.validate(&p)
	c.Intake.validate(&p)
	c.Integrations.validate(&p)
	c.Retention.validate(&p)
	c.Consumers.validate(&p)
	c.Watchdog.validate(&p)
	c.Canary.validate(&p, teams, len(c.SMSProviders()) > 0, c.Email.URL != "") // sms2: Twilio or Vonage
	c.Heartbeat.validate(&p)
	c.Outbound.validate(&p)
	c.SSO.validate(&p) // single sign-on (sso.go)
	c.Email.validate(&p, c.Server.PublicURL)
	c.Chat.validate(&p)
	c.SCIM.validate(&p)
	c.DirectorySync.validate(&p, teams)
	c.Drills.validate(&p)
	c.validateSMS(&p) // sms2
	for ch, r := range c.Delivery.Rates {
		if ch != "sms" && ch != "voice" && ch != "webpush" && ch != "email" {
			p.add("delivery.rates."+ch, "unknown channel (sms, voice, webpush, email)")
		}
		if r < 0 || r > 10000 {
			p.add("delivery.rates."+ch, "must be from 0 (unlimited) to 10000 messages a second")
		}
	}
	if c.Delivery.Concurrency < 1 || c.Delivery.Concurrency > 1000 {
		p.add("delivery.concurrency", "must be from 1 to 1000")
	}
	if c.Delivery.RetryFor < Duration(time.Minute) || c.Delivery.RetryFor > Duration(48*time.Hour) {
		p.add("delivery.retry_for", "must be from 1m to 48h")
	}
	if c.Delivery.LinkTTL < Duration(time.Hour) || c.Delivery.LinkTTL > Duration(90*24*time.Hour) {
		p.add("delivery.link_ttl", "must be from 1h to 2160h (90 days)")
	}
	if c.Delivery.Lease < Duration(time.Second) || c.Delivery.Lease > Duration(time.Hour) {
		p.add("delivery.lease", "must be from 1s to 1h")
	}
	if c.Twilio.AccountSID != "" {
		if c.Twilio.AuthToken == "" {
			p.add("twilio", "TWILIO_AUTH_TOKEN is required with an account SID")
		}
		if len(c.Twilio.From) == 0 && c.Twilio.MessagingServiceSID == "" {
			p.add("twilio", "TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID is required with an account SID")
		}
		if c.Server.PublicURL == "" {
			p.add("server.public_url", "is required with Twilio: status callbacks, replies and links use it")
		}
	}
	if u := c.Twilio.APIURL; u != "" {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			p.add("twilio.api_url", "must be an absolute http(s) URL, got %q", u)
		}
	}
	if s := c.WebPush.Subject; s != "" && !strings.HasPrefix(s, "mailto:") && !strings.HasPrefix(s, "https://") {
		p.add("webpush.subject", "must start with mailto: or https://")
	}
	return p.err()
}

func (l Limits) validate(p *problems) {
	if _, err := l.Proxies(); err != nil {
		p.add("limits.trusted_proxies", "%v", err)
	}
	for key, r := range map[string]Rate{"sign_in_per_client": l.SignInPerClient, "sign_in_per_account": l.SignInPerAccount,
		"declare_per_client": l.DeclarePerClient, "declare_per_actor": l.DeclarePerActor} {
		if r.PerMinute < 1 || r.Burst < 1 || r.PerMinute > 1_000_000 || r.Burst > 1_000_000 {
			p.add("limits."+key, "per_minute and burst must be between 1 and 1000000")
		}
	}
	if l.Lockout.After < 1 {
		p.add("limits.lockout.after", "must be at least 1")
	}
	if l.Lockout.Base <= 0 || l.Lockout.Max < l.Lockout.Base {
		p.add("limits.lockout", "base must be positive and max at least base")
	}
	if l.MaxKeys < 100 {
		p.add("limits.max_keys", "must be at least 100")
	}
	for key, r := range map[string]Rate{"sign_in_global": l.SignInGlobal, "link_per_token": l.LinkPerToken,
		"link_guesses_per_client": l.LinkGuessesPerClient, "webhook_forged_per_client": l.WebhookForgedPerClient, "sso_start_per_client": l.SSOStartPerClient} {
		if r.PerMinute < 1 || r.Burst < 1 || r.PerMinute > 1_000_000 || r.Burst > 1_000_000 {
			p.add("limits."+key, "per_minute and burst must be between 1 and 1000000")
		}
	}
	if l.Lockout.AccountAfter < l.Lockout.After {
		p.add("limits.lockout.account_after", "must be at least lockout.after")
	}
	if l.PhoneCodesPerHour < 1 || l.PhoneCodesPerDay < l.PhoneCodesPerHour {
		p.add("limits.phone_codes_per_hour", "must be at least 1, and phone_codes_per_day at least as many")
	}
	if l.NonAlertSMSPerDay < 0 {
		p.add("limits.non_alert_sms_per_day", "must be 0 (no cap) or more")
	}
}

// Proxies parses TrustedProxies; a bare address counts as a one-address range.
func (l Limits) Proxies() ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(l.TrustedProxies))
	for _, s := range l.TrustedProxies {
		if pr, err := netip.ParsePrefix(s); err == nil {
			out = append(out, pr.Masked())
		} else if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		} else {
			return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or an IP address", s)
		}
	}
	return out, nil
}

func validID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// problems collects validation failures, one per line, in a stable order.
type problems []string

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, key+": "+fmt.Sprintf(format, args...))
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	sort.Strings(p)
	return fmt.Errorf("invalid configuration:\n  %s", strings.Join(p, "\n  "))
}
