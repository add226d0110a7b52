package config

import (
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
)

// Vonage is the second SMS and voice provider (broadcast/vonage). Without an API key it
// is off. Secrets come from the environment only.
type Vonage struct {
	APIKey          string `yaml:"api_key"`          // VONAGE_API_KEY
	APISecret       string `yaml:"-"`                // VONAGE_API_SECRET
	SignatureSecret string `yaml:"-"`                // VONAGE_SIGNATURE_SECRET: verifies replies, receipts, call events
	SignatureMethod string `yaml:"signature_method"` // VONAGE_SIGNATURE_METHOD: md5hash (default), md5, sha1, sha256, sha512
	// ApplicationID and PrivateKeyFile (the Vonage application's RSA key, PEM) place
	// calls; without them Vonage carries SMS only.
	ApplicationID  string `yaml:"application_id"`   // VONAGE_APPLICATION_ID
	PrivateKeyFile string `yaml:"private_key_file"` // VONAGE_PRIVATE_KEY_FILE
	// From is the default sender: an E.164 number (calls need one), a short code or an
	// alphanumeric sender ID.
	From string `yaml:"from"` // VONAGE_FROM
	// Senders picks the SMS sender per country calling code: {"52": "OPTIMUM", "34": "+34911234567"}.
	Senders map[string]string `yaml:"senders"`
	// SMSAPIURL and VoiceAPIURL replace Vonage's hosts; OPTIMUM_VONAGE_API_URL sets both
	// (tests point it at a fake).
	SMSAPIURL   string `yaml:"sms_api_url"`
	VoiceAPIURL string `yaml:"voice_api_url"`
}

// SMS chooses between the SMS and voice providers and holds the per-country rules.
type SMS struct {
	// Providers is the order of preference (OPTIMUM_SMS_PROVIDERS, comma separated);
	// empty means every configured one, Twilio first.
	Providers []string `yaml:"providers"`
	// Failover takes a provider out of use after Threshold failures (5xx, timeouts,
	// refused credentials) within Window, for Cooldown, then tries it again.
	Failover Failover `yaml:"failover"`
	// NoLinkCountries are country calling codes ("52" Mexico) whose alert SMS carry no
	// link: "Confirma: responde 1 a este SMS." (OPTIMUM_SMS_NO_LINK_COUNTRIES). Carriers
	// there block automated messages with URLs.
	NoLinkCountries []string `yaml:"no_link_countries"`
}

// Failover tunes when a provider is taken out of use.
type Failover struct {
	Threshold int      `yaml:"threshold"`
	Window    Duration `yaml:"window"`
	Cooldown  Duration `yaml:"cooldown"`
}

func defaultSMS() SMS {
	return SMS{Providers: []string{}, NoLinkCountries: []string{},
		Failover: Failover{Threshold: 5, Window: Duration(30 * time.Second), Cooldown: Duration(time.Minute)}}
}

func (c *Config) applySMSEnv(getenv func(string) string) {
	set := func(dst *string, key string) {
		if v := getenv(key); v != "" {
			*dst = v
		}
	}
	list := func(dst *[]string, key string) {
		if v := getenv(key); v != "" {
			*dst = nil
			for _, f := range strings.Split(v, ",") {
				if f = strings.TrimSpace(f); f != "" {
					*dst = append(*dst, f)
				}
			}
		}
	}
	set(&c.Vonage.APIKey, "VONAGE_API_KEY")
	set(&c.Vonage.APISecret, "VONAGE_API_SECRET")
	set(&c.Vonage.SignatureSecret, "VONAGE_SIGNATURE_SECRET")
	set(&c.Vonage.SignatureMethod, "VONAGE_SIGNATURE_METHOD")
	set(&c.Vonage.ApplicationID, "VONAGE_APPLICATION_ID")
	set(&c.Vonage.PrivateKeyFile, "VONAGE_PRIVATE_KEY_FILE")
	set(&c.Vonage.From, "VONAGE_FROM")
	if v := getenv("OPTIMUM_VONAGE_API_URL"); v != "" {
		c.Vonage.SMSAPIURL, c.Vonage.VoiceAPIURL = v, v
	}
	list(&c.SMS.Providers, "OPTIMUM_SMS_PROVIDERS")
	list(&c.SMS.NoLinkCountries, "OPTIMUM_SMS_NO_LINK_COUNTRIES")
	if v, err := strconv.Atoi(getenv("OPTIMUM_SMS_FAILOVER_THRESHOLD")); err == nil {
		c.SMS.Failover.Threshold = v
	}
}

// SMSProviders returns the configured SMS and voice providers in order of preference.
func (c Config) SMSProviders() []string {
	configured := map[string]bool{"twilio": c.Twilio.AccountSID != "", "vonage": c.Vonage.APIKey != ""}
	order := c.SMS.Providers
	if len(order) == 0 {
		order = []string{"twilio", "vonage"}
	}
	var out []string
	for _, p := range order {
		if configured[p] && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// VonagePrivateKey reads the application's private key file ("" when none is set).
func (c Config) VonagePrivateKey() ([]byte, error) {
	if c.Vonage.PrivateKeyFile == "" {
		return nil, nil
	}
	return os.ReadFile(c.Vonage.PrivateKeyFile)
}

// callingCode is a country calling code: 1 to 4 digits, not starting with 0.
var callingCode = regexp.MustCompile(`^[1-9][0-9]{0,3}$`)

func (c Config) validateSMS(p *problems) {
	for _, name := range c.SMS.Providers {
		if name != "twilio" && name != "vonage" {
			p.add("sms.providers", "unknown provider %q (twilio, vonage)", name)
		}
	}
	f := c.SMS.Failover
	if f.Threshold < 1 || f.Threshold > 1000 {
		p.add("sms.failover.threshold", "must be from 1 to 1000 failures")
	}
	if f.Window < Duration(time.Second) || f.Window > Duration(time.Hour) {
		p.add("sms.failover.window", "must be from 1s to 1h")
	}
	if f.Cooldown < Duration(time.Second) || f.Cooldown > Duration(24*time.Hour) {
		p.add("sms.failover.cooldown", "must be from 1s to 24h")
	}
	for _, cc := range c.SMS.NoLinkCountries {
		if !callingCode.MatchString(cc) {
			p.add("sms.no_link_countries", "%q is not a country calling code (1 to 4 digits, such as 52)", cc)
		}
	}
	for _, err := range broadcast.CountrySenders(c.Twilio.Senders).Validate("twilio.senders",
		broadcast.SenderLongCode, broadcast.SenderShortCode, broadcast.SenderAlphanumeric, broadcast.SenderService) {
		p.add("twilio.senders", "%v", err)
	}
	v := c.Vonage
	if v.APIKey == "" {
		return
	}
	if v.APISecret == "" {
		p.add("vonage", "VONAGE_API_SECRET is required with an API key")
	}
	if v.SignatureSecret == "" {
		p.add("vonage", "VONAGE_SIGNATURE_SECRET is required with an API key: replies and receipts are verified with it")
	}
	if m := strings.ToLower(v.SignatureMethod); m != "" && !slices.Contains([]string{"md5hash", "md5", "sha1", "sha256", "sha512"}, m) {
		p.add("vonage.signature_method", "must be md5hash, md5, sha1, sha256 or sha512")
	}
	if v.From == "" {
		p.add("vonage.from", "is required with an API key (VONAGE_FROM)")
	} else if k := broadcast.SenderKind(v.From); k == "" || k == broadcast.SenderService {
		p.add("vonage.from", "%q is not an E.164 number, a short code or an alphanumeric sender ID", v.From)
	}
	if (v.ApplicationID == "") != (v.PrivateKeyFile == "") {
		p.add("vonage", "calls need both application_id and private_key_file")
	}
	for _, err := range broadcast.CountrySenders(v.Senders).Validate("vonage.senders",
		broadcast.SenderLongCode, broadcast.SenderShortCode, broadcast.SenderAlphanumeric) {
		p.add("vonage.senders", "%v", err)
	}
	for k, u := range map[string]string{"vonage.sms_api_url": v.SMSAPIURL, "vonage.voice_api_url": v.VoiceAPIURL} {
		if u == "" {
			continue
		}
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			p.add(k, "must be an absolute http(s) URL, got %q", u)
		}
	}
	if c.Server.PublicURL == "" {
		p.add("server.public_url", "is required with Vonage: receipts, replies and key presses come back to it")
	}
}
