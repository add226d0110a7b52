// Package smtptest runs a real SMTP server on loopback for tests
// (github.com/emersion/go-smtp v0.26.0): plain, STARTTLS or implicit TLS with a
// self-signed certificate the client trusts through a CA file, AUTH PLAIN with a
// username and password, answers chosen per recipient, and the messages exactly as a
// mail client would receive them, parsed into headers, text and HTML parts.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// TLS modes of the fake.
const (
	Plain    = "plain"    // no STARTTLS offered
	StartTLS = "starttls" // STARTTLS offered on a plain connection
	Implicit = "implicit" // TLS from the first byte (smtps)
)

// Options configure a fake server.
type Options struct {
	TLS string // Plain (default), StartTLS or Implicit
	// Username and Password, when set, are required (AUTH PLAIN) before MAIL FROM.
	Username, Password string
	// Answer, when set, is asked for each RCPT TO: a non-nil *smtp.SMTPError refuses it.
	Answer func(rcpt string) *smtp.SMTPError
	// Stall, when set, makes DATA wait until the connection is closed by the client
	// (a server that hangs: the client's timeout must fire).
	Stall bool
}

// Mail is one message the server accepted.
type Mail struct {
	From string
	To   []string
	Data []byte
	// TLS says the message travelled over an encrypted connection.
	TLS bool
	// User is who authenticated ("" when nobody did).
	User string
}

// Server is a running fake.
type Server struct {
	t      testing.TB
	srv    *smtp.Server
	addr   string
	caFile string
	opt    Options

	mu       sync.Mutex
	mails    []Mail
	refused  []string
	sessions int
}

// New starts a server on 127.0.0.1 and stops it when the test ends.
func New(t testing.TB, opt Options) *Server {
	t.Helper()
	s := &Server{t: t, opt: opt}
	s.srv = smtp.NewServer(smtp.BackendFunc(s.newSession))
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout, s.srv.WriteTimeout = 30*time.Second, 30*time.Second
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.AllowInsecureAuth = opt.TLS == "" || opt.TLS == Plain
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if opt.TLS == StartTLS || opt.TLS == Implicit {
		cert, caFile := selfSigned(t)
		s.caFile = caFile
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if opt.TLS == StartTLS {
			s.srv.TLSConfig = cfg
		} else {
			l = tls.NewListener(l, cfg)
		}
	}
	s.addr = l.Addr().String()
	go func() { _ = s.srv.Serve(l) }()
	t.Cleanup(func() { _ = s.srv.Close() })
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

// URL is what OPTIMUM_SMTP_URL would say to reach the server (with its credentials),
// plus query (e.g. "starttls=required"), if any.
func (s *Server) URL(query string) string {
	scheme := "smtp"
	if s.opt.TLS == Implicit {
		scheme = "smtps"
	}
	u := url.URL{Scheme: scheme, Host: s.addr, RawQuery: query}
	if s.opt.Username != "" {
		u.User = url.UserPassword(s.opt.Username, s.opt.Password)
	}
	return u.String()
}

// CAFile is the path of the PEM certificate that signs the server's, for the client to
// trust ("" for a plain server).
func (s *Server) CAFile() string { return s.caFile }

// Mails returns the accepted messages so far.
func (s *Server) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Refused returns the recipients the server refused so far, one per refusal.
func (s *Server) Refused() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.refused...)
}

// Sessions is how many connections reached the server.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	s.sessions++
	s.mu.Unlock()
	return &session{s: s, c: c}, nil
}

type session struct {
	s    *Server
	c    *smtp.Conn
	user string
	from string
	to   []string
}

func (x *session) AuthMechanisms() []string {
	if x.s.opt.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != x.s.opt.Username || password != x.s.opt.Password {
			return smtp.ErrAuthFailed
		}
		x.user = username
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.opt.Username != "" && x.user == "" {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if x.s.opt.Answer != nil {
		if e := x.s.opt.Answer(to); e != nil {
			x.s.mu.Lock()
			x.s.refused = append(x.s.refused, to)
			x.s.mu.Unlock()
			return e
		}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if x.s.opt.Stall {
		// Hang until the client gives up and closes the connection.
		_, _ = x.c.Conn().Read(make([]byte, 1))
		return errors.New("stalled")
	}
	_, tlsOK := x.c.TLSConnectionState()
	x.s.mu.Lock()
	x.s.mails = append(x.s.mails, Mail{From: x.from, To: x.to, Data: data, TLS: tlsOK, User: x.user})
	x.s.mu.Unlock()
	return nil
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and localhost, valid for a day, and
// writes it as a PEM file for the client's trust.
func selfSigned(t testing.TB) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "smtptest"},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "smtp-ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, file
}

// Received is a message as a mail client shows it.
type Received struct {
	Header mail.Header
	// Subject is the decoded subject.
	Subject string
	// Text and HTML are the decoded bodies of the two alternatives.
	Text, HTML string
	// Parts lists the content types of the parts, in order.
	Parts []string
}

// Parse reads a raw message the way a mail client does: headers (RFC 2047 words
// decoded), and a multipart/alternative body with a text/plain and a text/html part,
// each decoded from its transfer encoding.
func Parse(t testing.TB, data []byte) Received {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a message: %v\n%s", err, data)
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("subject %q: %v", m.Header.Get("Subject"), err)
	}
	got := Received{Header: m.Header, Subject: subject}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("content type %q: %v", m.Header.Get("Content-Type"), err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		got.Parts = []string{mt}
		got.Text = decode(t, m.Header.Get("Content-Transfer-Encoding"), m.Body)
		return got
	}
	got.Parts = []string{mt}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		got.Parts = append(got.Parts, pt)
		body := decode(t, p.Header.Get("Content-Transfer-Encoding"), p)
		switch pt {
		case "text/plain":
			got.Text = body
		case "text/html":
			got.HTML = body
		}
	}
	return got
}

func decode(t testing.TB, cte string, r io.Reader) string {
	t.Helper()
	switch strings.ToLower(cte) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decode %s: %v", cte, err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}
