package email

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Security is how the connection to the SMTP server is protected.
type Security string

const (
	// StartTLSOffered upgrades with STARTTLS when the server offers it (smtp://…).
	// Without it the mail goes in clear, but credentials are never sent in clear: the
	// client refuses to authenticate over an unencrypted link (except to localhost).
	StartTLSOffered Security = "starttls"
	// StartTLSRequired refuses to send unless the server offers STARTTLS
	// (smtp://…?starttls=required).
	StartTLSRequired Security = "starttls-required"
	// ImplicitTLS speaks TLS from the first byte (smtps://…, usually port 465).
	ImplicitTLS Security = "tls"
)

// Default ports per scheme: submission (RFC 6409) and submissions (RFC 8314).
const (
	DefaultPort    = 587
	DefaultTLSPort = 465
)

// Config says where and how to send mail.
type Config struct {
	Host     string
	Port     int
	Username string
	Password string
	Security Security
	// From is the sender, "OPTIMUM BCP <alertas@example.com>" or a bare address.
	From string
	// CAFile, when set, names a PEM file of certificates trusted, besides the system's,
	// to sign the server's certificate (a company's own CA; a test's self-signed one).
	// Verification is never turned off.
	CAFile string
	// BounceAddress, when set, is the mailbox bounces go to: each message's envelope
	// sender is its local part, "+", the delivery id, at its domain (VERP).
	BounceAddress string
	// Timeout bounds the connection and every SMTP command; default 15 s.
	Timeout time.Duration
}

// ParseURL reads OPTIMUM_SMTP_URL: smtp://user:pass@host:port (STARTTLS when the
// server offers it), smtp://…?starttls=required (refuse to send without it), or
// smtps://user:pass@host:port (implicit TLS). User and password are percent-decoded.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, errors.New("not a URL (smtp://user:pass@host:port or smtps://…)")
	}
	var c Config
	switch u.Scheme {
	case "smtp":
		c.Security, c.Port = StartTLSOffered, DefaultPort
	case "smtps":
		c.Security, c.Port = ImplicitTLS, DefaultTLSPort
	default:
		return Config{}, fmt.Errorf("the scheme must be smtp or smtps, got %q", u.Scheme)
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return Config{}, errors.New("the URL names no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return Config{}, fmt.Errorf("the port %q is not a port number", p)
		}
		c.Port = n
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if u.Path != "" && u.Path != "/" {
		return Config{}, errors.New("the URL must have no path")
	}
	for k, vs := range u.Query() {
		switch k {
		case "starttls":
			v := strings.ToLower(vs[len(vs)-1])
			switch {
			case v == "required" && c.Security == StartTLSOffered:
				c.Security = StartTLSRequired
			case v == "required":
				return Config{}, errors.New("starttls=required is for smtp://; smtps:// is TLS from the start")
			case v == "offered" || v == "opportunistic":
			default:
				return Config{}, fmt.Errorf("starttls must be \"required\", got %q", v)
			}
		default:
			return Config{}, fmt.Errorf("unknown parameter %q (only starttls=required)", k)
		}
	}
	return c, nil
}

// Validate reports what is wrong with c, or nil.
func (c Config) Validate() error {
	var errs []error
	if c.Host == "" {
		errs = append(errs, errors.New("no SMTP host"))
	}
	if c.From == "" {
		errs = append(errs, errors.New("OPTIMUM_SMTP_FROM is required with OPTIMUM_SMTP_URL"))
	} else if _, err := mail.ParseAddress(c.From); err != nil {
		errs = append(errs, fmt.Errorf("OPTIMUM_SMTP_FROM %q is not an email address", c.From))
	}
	if c.BounceAddress != "" {
		if a, err := mail.ParseAddress(c.BounceAddress); err != nil || a.Address != c.BounceAddress || strings.Contains(c.BounceAddress, "+") {
			errs = append(errs, fmt.Errorf("OPTIMUM_SMTP_BOUNCE %q is not a bare email address without a + (the + and the delivery id are added to it)", c.BounceAddress))
		}
	}
	if c.CAFile != "" {
		if _, err := c.rootCAs(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// tlsConfig verifies the server's certificate against the system's roots plus CAFile,
// for the host of the URL.
func (c Config) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pool, err := c.rootCAs()
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

func (c Config) rootCAs() (*x509.CertPool, error) {
	data, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("OPTIMUM_SMTP_CA_FILE: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("OPTIMUM_SMTP_CA_FILE %s holds no PEM certificate", c.CAFile)
	}
	return pool, nil
}

// Redacted is the URL without its password, for logs.
func (c Config) Redacted() string {
	scheme := "smtp"
	if c.Security == ImplicitTLS {
		scheme = "smtps"
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port))}
	if c.Username != "" {
		u.User = url.UserPassword(c.Username, "xxxxx")
	}
	if c.Security == StartTLSRequired {
		u.RawQuery = "starttls=required"
	}
	return u.String()
}
