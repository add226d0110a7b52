// Package email sends alerts and notices by email over SMTP with
// github.com/wneessen/go-mail v0.8.1 (v0.8.2 needs a newer Go): STARTTLS when the server
// offers it, or required, or implicit TLS, with authentication; every message as a
// multipart/alternative of text and HTML in the person's language, with the one-tap link
// (which opens a page with a button: a GET never acknowledges, since mail scanners open
// every link). The SMTP server's answers are mapped to the broadcast.Sender contract:
// 4xx, timeouts and lost connections are retried, 5xx are permanent.
package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	gomailsmtp "github.com/wneessen/go-mail/smtp"

	"github.com/optimum-bcp/optimum/broadcast"
)

// DefaultTimeout bounds the connection and each SMTP command.
const DefaultTimeout = 15 * time.Second

// Sender sends broadcast messages (channel "email") through one SMTP server. It
// implements broadcast.Sender and is safe for concurrent use: each Send opens its own
// connection (go-mail's Client is not meant to be shared by goroutines), sends one
// message to one recipient (so the server's answer is that person's) and closes it.
type Sender struct {
	cfg    Config
	from   *mail.Address
	domain string
	tls    *tls.Config
}

var _ broadcast.Sender = (*Sender)(nil)

// New returns a Sender for cfg (see ParseURL; From is required).
func New(cfg Config) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	from, _ := mail.ParseAddress(cfg.From)
	if from.Name == "" {
		from.Name = "OPTIMUM BCP"
	}
	tc, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	return &Sender{cfg: cfg, from: from, domain: domain, tls: tc}, nil
}

// Send mails m to the address in m.To: subject m.Title, the text and HTML parts from
// m.Text and m.URL. It returns nil once the server accepted the message (250 after
// DATA). An address that is not an email address, or a 5xx answer, is a permanent
// failure; 4xx answers, timeouts, refused or dropped connections are retryable.
func (s *Sender) Send(ctx context.Context, m broadcast.Message) (retryable bool, err error) {
	to, err := mail.ParseAddress(m.To)
	if err != nil || to.Address != strings.TrimSpace(m.To) {
		return false, fmt.Errorf("email %s: %q is not an email address", m.DeliveryID, m.To)
	}
	msg, err := s.message(m, to)
	if err != nil {
		return false, fmt.Errorf("email %s: %w", m.DeliveryID, err)
	}
	c, err := s.client()
	if err != nil {
		return false, fmt.Errorf("email: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		retry, reason := classify(ctx, err)
		return retry, fmt.Errorf("email to %s via %s: %s", to.Address, s.cfg.Host, reason)
	}
	return false, nil
}

// message builds the email of m for to.
func (s *Sender) message(m broadcast.Message, to *mail.Address) (*gomail.Msg, error) {
	c := contentOf(m)
	html, err := htmlBody(c)
	if err != nil {
		return nil, err
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.from)
	msg.ToMailAddress(to)
	msg.Subject(m.Title)
	// One Message-ID per delivery, the same on every attempt: a mail client that gets a
	// retried message twice (the first answer was lost) shows it once.
	msg.SetMessageIDWithValue(m.DeliveryID + "@" + s.domain)
	if s.cfg.BounceAddress != "" {
		// VERP: a bounce comes back to an address that names the delivery.
		if err := msg.EnvelopeFrom(VERP(s.cfg.BounceAddress, m.DeliveryID)); err != nil {
			return nil, fmt.Errorf("the bounce address: %w", err)
		}
	}
	msg.SetDate()
	msg.SetGenHeader(gomail.HeaderContentLang, c.Lang)
	// RFC 3834: automatic, so autoresponders (out of office) do not answer it.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	msg.SetBodyString(gomail.TypeTextPlain, textBody(c))
	msg.AddAlternativeString(gomail.TypeTextHTML, html)
	return msg, nil
}

// client is a go-mail client for one connection.
func (s *Sender) client() (*gomail.Client, error) {
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.Port),
		gomail.WithTimeout(s.cfg.Timeout),
		gomail.WithTLSConfig(s.tls),
	}
	switch s.cfg.Security {
	case ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case StartTLSRequired:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.cfg.Username != "" {
		// The strongest mechanism the server offers; PLAIN and LOGIN only over TLS (or
		// to localhost): a password never crosses the network in clear.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	return gomail.NewClient(s.cfg.Host, opts...)
}

// classify says whether a failed send may be retried, and why it failed, in words
// that name no secret (the text is stored with the delivery, which users read).
func classify(ctx context.Context, err error) (bool, string) {
	var se *gomail.SendError
	var te *textproto.Error
	var ne net.Error
	var ce *tls.CertificateVerificationError
	var ue x509.UnknownAuthorityError
	var he x509.HostnameError
	switch {
	case errors.As(err, &se) && se.ErrorCode() >= 400:
		// The server answered: 4xx is "try again later", 5xx is final.
		return se.ErrorCode() < 500, fmt.Sprintf("the server answered %d%s (%s)", se.ErrorCode(), enhanced(se), oneLine(err))
	case errors.As(err, &te) && te.Code >= 400:
		return te.Code < 500, fmt.Sprintf("the server answered %d (%s)", te.Code, oneLine(err))
	case errors.As(err, &ce), errors.As(err, &ue), errors.As(err, &he):
		// Not a passing fault: the server's certificate is not one we trust
		// (OPTIMUM_SMTP_CA_FILE adds a company CA).
		return false, "the server's TLS certificate was not accepted: " + oneLine(err)
	case strings.Contains(err.Error(), "does not support STARTTLS"):
		return false, "the server does not offer STARTTLS and the URL requires it (starttls=required)"
	case errors.Is(err, gomailsmtp.ErrUnencrypted), errors.Is(err, gomail.ErrNoSupportedAuthDiscovered):
		// Over a link without TLS only mechanisms that hide the password would do.
		return false, "the server offers no TLS (or no mechanism that hides the password), and the password is never sent in clear"
	case strings.Contains(err.Error(), "does not support SMTP AUTH"):
		return false, "the server offers no authentication (AUTH), but the URL names a user"
	case errors.As(err, &ne) && ne.Timeout():
		return true, "the server did not answer in time"
	case ctx.Err() != nil:
		return true, "the send was interrupted"
	case errors.As(err, &se):
		// Lost connections, a NOOP that failed: not an answer from the server.
		return true, oneLine(err)
	}
	// Refused or dropped connections, DNS failures: the network may come back.
	return true, oneLine(err)
}

func enhanced(se *gomail.SendError) string {
	if c := se.EnhancedStatusCode(); c != "" {
		return " " + c
	}
	return ""
}

func oneLine(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
