package email_test

import (
	"context"
	"html"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/email"
	"github.com/optimum-bcp/optimum/broadcast/email/smtptest"
)

// sender returns a Sender for the fake's URL plus query, trusting its certificate.
func sender(t *testing.T, srv *smtptest.Server, query string) *email.Sender {
	t.Helper()
	return senderTB(t, srv, query)
}

func senderTB(t testing.TB, srv *smtptest.Server, query string) *email.Sender {
	t.Helper()
	cfg, err := email.ParseURL(srv.URL(query))
	if err != nil {
		t.Fatal(err)
	}
	cfg.From = "Alertas BCP <alertas@bcp.example.com>"
	cfg.CAFile = srv.CAFile()
	cfg.Timeout = 5 * time.Second
	s, err := email.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func alert(lang string) broadcast.Message {
	m := broadcast.Message{DeliveryID: "dlv_0001", Attempt: 1, Channel: "email", To: "ana@example.com", Language: lang,
		URL: "https://bcp.example.test/a/Tok3nTok3nTok3"}
	if lang == "en" {
		m.Title = "DRILL · P1 INC-2026-0042: Data centre down"
		m.Text = "DRILL. Mexico City. The main site lost power.\n\nPlease acknowledge."
		m.Actions = []broadcast.Action{{ID: "ack", Title: "Acknowledge"}}
	} else {
		m.Title = "SIMULACRO · P1 INC-2026-0042: Caída del centro de datos"
		m.Text = "SIMULACRO. CDMX. Se perdió la energía del sitio principal <y del respaldo>.\n\nConfirma recepción."
		m.Actions = []broadcast.Action{{ID: "ack", Title: "Confirmar recepción"}}
	}
	return m
}

// What a mail client receives: the sender, the recipient, the subject with the drill
// word first, both parts in the person's language, the one-tap link in each, the
// headers that keep autoresponders quiet, and one Message-ID per delivery.
func TestAlertArrivesAsTextAndHTMLInTheLanguage(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{TLS: smtptest.StartTLS, Username: "optimum", Password: "s3cr3t p@ss"})
	s := sender(t, srv, "")
	for _, lang := range []string{"es", "en"} {
		m := alert(lang)
		m.DeliveryID = "dlv_" + lang
		if retry, err := s.Send(context.Background(), m); err != nil {
			t.Fatalf("%s: send = %v (retry %v)", lang, err, retry)
		}
	}
	mails := srv.Mails()
	if len(mails) != 2 {
		t.Fatalf("server got %d mails, want 2", len(mails))
	}
	type want struct {
		subject, lang, button, hint, footer string
	}
	wants := []want{
		{"SIMULACRO · P1 INC-2026-0042: Caída del centro de datos", "es", "Confirmar recepción",
			"El enlace abre una página con el botón para confirmar; abrirlo no confirma nada por sí solo.",
			"Recibes este correo porque estás en el directorio de crisis"},
		{"DRILL · P1 INC-2026-0042: Data centre down", "en", "Acknowledge",
			"The link opens a page with the button to acknowledge; opening it acknowledges nothing by itself.",
			"You get this email because you are in your organisation's crisis directory"},
	}
	for i, w := range wants {
		m := mails[i]
		if m.From != "alertas@bcp.example.com" || len(m.To) != 1 || m.To[0] != "ana@example.com" {
			t.Errorf("%s: envelope from %q to %v", w.lang, m.From, m.To)
		}
		if !m.TLS || m.User != "optimum" {
			t.Errorf("%s: TLS %v, authenticated as %q; want STARTTLS and user optimum", w.lang, m.TLS, m.User)
		}
		got := smtptest.Parse(t, m.Data)
		if got.Subject != w.subject {
			t.Errorf("%s: subject %q, want %q", w.lang, got.Subject, w.subject)
		}
		if f := got.Header.Get("From"); f != `"Alertas BCP" <alertas@bcp.example.com>` {
			t.Errorf("%s: From %q", w.lang, f)
		}
		if to := got.Header.Get("To"); to != "<ana@example.com>" {
			t.Errorf("%s: To %q", w.lang, to)
		}
		for h, v := range map[string]string{"Content-Language": w.lang, "Auto-Submitted": "auto-generated",
			"X-Auto-Response-Suppress": "All", "Message-Id": "<dlv_" + w.lang + "@bcp.example.com>", "Mime-Version": "1.0"} {
			if got.Header.Get(h) != v {
				t.Errorf("%s: header %s = %q, want %q", w.lang, h, got.Header.Get(h), v)
			}
		}
		if _, err := got.Header.Date(); err != nil {
			t.Errorf("%s: Date: %v", w.lang, err)
		}
		if strings.Join(got.Parts, ",") != "multipart/alternative,text/plain,text/html" {
			t.Errorf("%s: parts %v, want text then HTML alternatives", w.lang, got.Parts)
		}
		link := "https://bcp.example.test/a/Tok3nTok3nTok3"
		for part, body := range map[string]string{"text": got.Text, "html": html.UnescapeString(got.HTML)} {
			for _, s := range []string{link, w.button, w.hint, w.footer} {
				if !strings.Contains(body, s) {
					t.Errorf("%s %s part lacks %q:\n%s", w.lang, part, s, body)
				}
			}
		}
		if !strings.Contains(got.HTML, `<html lang="`+w.lang+`">`) || !strings.Contains(got.HTML, `<a href="`+link+`"`) {
			t.Errorf("%s: the HTML part has no lang or no link button:\n%s", w.lang, got.HTML)
		}
	}
	es := smtptest.Parse(t, mails[0].Data)
	if !strings.HasPrefix(es.Text, "SIMULACRO. CDMX. Se perdió la energía del sitio principal <y del respaldo>.\n\nConfirma recepción.\n\nConfirmar recepción:\n"+"https://bcp.example.test/a/Tok3nTok3nTok3\n") {
		t.Errorf("Spanish text part:\n%s", es.Text)
	}
	// The person's words are escaped in HTML, never markup.
	if !strings.Contains(es.HTML, "principal &lt;y del respaldo&gt;.</p>") {
		t.Errorf("HTML part does not escape the text:\n%s", es.HTML)
	}
}

// A safety poll's email leads to the page with both answers: its button says so; a
// notice without an action (an update) opens the incident.
func TestButtonLabels(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{})
	s := sender(t, srv, "")
	poll := alert("es")
	poll.Actions = []broadcast.Action{{ID: "safe", Title: "Estoy a salvo"}, {ID: "help_needed", Title: "Necesito ayuda"}}
	update := alert("en")
	update.Actions = nil
	for _, m := range []broadcast.Message{poll, update} {
		if _, err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	mails := srv.Mails()
	if len(mails) != 2 {
		t.Fatalf("%d mails", len(mails))
	}
	if got := smtptest.Parse(t, mails[0].Data); !strings.Contains(got.Text, "Responder:\nhttps://bcp.example.test/a/") || !strings.Contains(got.Text, "abrirlo no confirma nada") {
		t.Errorf("poll text:\n%s", got.Text)
	}
	if got := smtptest.Parse(t, mails[1].Data); !strings.Contains(got.Text, "Open in OPTIMUM:\nhttps://bcp.example.test/a/") || strings.Contains(got.Text, "acknowledges nothing") {
		t.Errorf("update text:\n%s", got.Text)
	}
}

// A title with line breaks cannot add headers or recipients.
func TestSubjectCannotInjectHeaders(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{})
	m := alert("es")
	m.Title = "Caída\r\nBcc: eve@example.com\r\nX-Injected: yes"
	if _, err := sender(t, srv, "").Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	mails := srv.Mails()
	if len(mails) != 1 || len(mails[0].To) != 1 {
		t.Fatalf("mails = %+v, want one to Ana only", mails)
	}
	got := smtptest.Parse(t, mails[0].Data)
	if got.Header.Get("Bcc") != "" || got.Header.Get("X-Injected") != "" {
		t.Errorf("the subject injected headers: %v", got.Header)
	}
}

// smtps:// speaks TLS from the first byte; the client trusts the self-signed
// certificate only through the CA file, never by turning verification off.
func TestImplicitTLSTrustsOnlyTheConfiguredCA(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{TLS: smtptest.Implicit, Username: "optimum", Password: "pw"})
	if _, err := sender(t, srv, "").Send(context.Background(), alert("es")); err != nil {
		t.Fatalf("send over implicit TLS: %v", err)
	}
	if m := srv.Mails(); len(m) != 1 || !m[0].TLS {
		t.Fatalf("mails = %+v, want one over TLS", m)
	}

	cfg, _ := email.ParseURL(srv.URL(""))
	cfg.From, cfg.Timeout = "alertas@bcp.example.com", 5*time.Second
	untrusting, err := email.New(cfg) // no CA file: the system's roots only
	if err != nil {
		t.Fatal(err)
	}
	retry, err := untrusting.Send(context.Background(), alert("es"))
	if err == nil || retry || !strings.Contains(err.Error(), "TLS certificate was not accepted") {
		t.Fatalf("send without trusting the CA = retry %v, %v; want a permanent certificate error", retry, err)
	}
	if len(srv.Mails()) != 1 {
		t.Fatalf("a mail went through an untrusted connection")
	}
}

// smtp:// upgrades when STARTTLS is offered and sends in clear when not; with
// starttls=required it refuses to send without it, and nothing reaches the server.
func TestStartTLSOfferedOrRequired(t *testing.T) {
	plain := smtptest.New(t, smtptest.Options{TLS: smtptest.Plain})
	if _, err := sender(t, plain, "").Send(context.Background(), alert("es")); err != nil {
		t.Fatalf("smtp:// to a server without STARTTLS: %v", err)
	}
	if m := plain.Mails(); len(m) != 1 || m[0].TLS {
		t.Fatalf("mails = %+v, want one in clear", m)
	}

	retry, err := sender(t, plain, "starttls=required").Send(context.Background(), alert("es"))
	if err == nil || retry || !strings.Contains(err.Error(), "does not offer STARTTLS") {
		t.Fatalf("starttls=required without STARTTLS = retry %v, %v; want a permanent refusal", retry, err)
	}
	if len(plain.Mails()) != 1 {
		t.Fatal("a mail was sent in clear although STARTTLS was required")
	}

	tlsSrv := smtptest.New(t, smtptest.Options{TLS: smtptest.StartTLS})
	if _, err := sender(t, tlsSrv, "starttls=required").Send(context.Background(), alert("es")); err != nil {
		t.Fatalf("starttls=required with STARTTLS: %v", err)
	}
	if m := tlsSrv.Mails(); len(m) != 1 || !m[0].TLS {
		t.Fatalf("mails = %+v, want one over STARTTLS", m)
	}
}

// The server's answers decide: 4xx and timeouts are retried, 5xx (a refused
// recipient, refused credentials) are final, and each failure says why.
func TestServerAnswersMapToRetryOrPermanentFailure(t *testing.T) {
	answers := map[string]*smtp.SMTPError{
		"busy@example.com":    {Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"},
		"full@example.com":    {Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "mailbox full"},
		"nobody@example.com":  {Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"},
		"blocked@example.com": {Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "relay denied"},
	}
	srv := smtptest.New(t, smtptest.Options{TLS: smtptest.StartTLS, Username: "optimum", Password: "pw",
		Answer: func(rcpt string) *smtp.SMTPError { return answers[rcpt] }})
	s := sender(t, srv, "starttls=required")
	cases := []struct {
		to     string
		retry  bool
		reason string
	}{
		{"busy@example.com", true, "the server answered 451 4.3.0"},
		{"full@example.com", true, "the server answered 452 4.2.2"},
		{"nobody@example.com", false, "the server answered 550 5.1.1"},
		{"blocked@example.com", false, "the server answered 554 5.7.1"},
		{"not an address", false, `"not an address" is not an email address`},
		{"ana@example.com, eve@example.com", false, "is not an email address"},
	}
	for _, c := range cases {
		m := alert("es")
		m.To = c.to
		retry, err := s.Send(context.Background(), m)
		if err == nil || retry != c.retry || !strings.Contains(err.Error(), c.reason) {
			t.Errorf("to %q: retry %v, err %v; want retry %v and %q", c.to, retry, err, c.retry, c.reason)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("the error names the password: %v", err)
		}
	}
	if n := len(srv.Mails()); n != 0 {
		t.Errorf("server accepted %d mails, want none", n)
	}

	cfg, _ := email.ParseURL(strings.Replace(srv.URL(""), ":pw@", ":wrong@", 1))
	cfg.From, cfg.CAFile = "alertas@bcp.example.com", srv.CAFile()
	bad, _ := email.New(cfg)
	retry, err := bad.Send(context.Background(), alert("es"))
	if err == nil || retry || !strings.Contains(err.Error(), "535") {
		t.Errorf("wrong password: retry %v, %v; want a permanent 535", retry, err)
	}
}

// A server that never answers DATA is a timeout, retried; a closed port is retried.
func TestTimeoutsAndRefusedConnectionsAreRetried(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{Stall: true})
	cfg, _ := email.ParseURL(srv.URL(""))
	cfg.From, cfg.Timeout = "alertas@bcp.example.com", 300*time.Millisecond
	s, _ := email.New(cfg)
	retry, err := s.Send(context.Background(), alert("es"))
	if err == nil || !retry || !strings.Contains(err.Error(), "did not answer in time") {
		t.Errorf("stalled server: retry %v, %v; want a retryable timeout", retry, err)
	}

	cfg.Port = closedPort(t)
	s, _ = email.New(cfg)
	retry, err = s.Send(context.Background(), alert("es"))
	if err == nil || !retry {
		t.Errorf("closed port: retry %v, %v; want retryable", retry, err)
	}
}

// A password never crosses the network in clear: against a server that offers AUTH
// without TLS, the sender refuses to authenticate, for good, and sends nothing.
func TestNoPasswordInClear(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{TLS: smtptest.Plain, Username: "optimum", Password: "pw"})
	retry, err := sender(t, srv, "").Send(context.Background(), alert("es"))
	if err == nil || retry || !strings.Contains(err.Error(), "the password is never sent in clear") {
		t.Fatalf("AUTH without TLS = retry %v, %v; want a permanent refusal", retry, err)
	}
	if n := len(srv.Mails()); n != 0 {
		t.Fatalf("%d mails sent", n)
	}
}

func TestParseURL(t *testing.T) {
	cases := []struct {
		url        string
		host       string
		port       int
		user, pass string
		security   email.Security
		err        string
	}{
		{"smtp://user:pass@mail.example.com:2525", "mail.example.com", 2525, "user", "pass", email.StartTLSOffered, ""},
		{"smtp://mail.example.com", "mail.example.com", 587, "", "", email.StartTLSOffered, ""},
		{"smtp://u%40corp:p%2Fw%3A@mail.example.com?starttls=required", "mail.example.com", 587, "u@corp", "p/w:", email.StartTLSRequired, ""},
		{"smtps://user:pass@mail.example.com", "mail.example.com", 465, "user", "pass", email.ImplicitTLS, ""},
		{"smtps://mail.example.com:1465", "mail.example.com", 1465, "", "", email.ImplicitTLS, ""},
		{"smtps://mail.example.com?starttls=required", "", 0, "", "", "", "starttls=required is for smtp://"},
		{"smtp://mail.example.com?starttls=maybe", "", 0, "", "", "", `starttls must be "required"`},
		{"smtp://mail.example.com?tls=off", "", 0, "", "", "", `unknown parameter "tls"`},
		{"http://mail.example.com", "", 0, "", "", "", `the scheme must be smtp or smtps, got "http"`},
		{"smtp://:25", "", 0, "", "", "", "names no host"},
		{"smtp://mail.example.com:99999", "", 0, "", "", "", "is not a port number"},
		{"smtp://mail.example.com/inbox", "", 0, "", "", "", "no path"},
	}
	for _, c := range cases {
		got, err := email.ParseURL(c.url)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err %v, want %q", c.url, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.url, err)
			continue
		}
		if got.Host != c.host || got.Port != c.port || got.Username != c.user || got.Password != c.pass || got.Security != c.security {
			t.Errorf("%s = %+v", c.url, got)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	base, _ := email.ParseURL("smtp://mail.example.com")
	for _, c := range []struct {
		from, ca, err string
	}{
		{"alertas@example.com", "", ""},
		{"OPTIMUM <alertas@example.com>", "", ""},
		{"", "", "OPTIMUM_SMTP_FROM is required"},
		{"alertas", "", `OPTIMUM_SMTP_FROM "alertas" is not an email address`},
		{"alertas@example.com", "/nonexistent/ca.pem", "OPTIMUM_SMTP_CA_FILE"},
	} {
		cfg := base
		cfg.From, cfg.CAFile = c.from, c.ca
		err := cfg.Validate()
		if (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("from %q ca %q: %v, want %q", c.from, c.ca, err, c.err)
		}
	}
	if r := (email.Config{Host: "h", Port: 465, Username: "u", Password: "secret", Security: email.ImplicitTLS}).Redacted(); strings.Contains(r, "secret") || !strings.HasPrefix(r, "smtps://u:") {
		t.Errorf("Redacted = %q", r)
	}
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}
