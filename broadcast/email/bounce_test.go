package email_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/email"
	"github.com/optimum-bcp/optimum/broadcast/email/smtptest"
)

// Delivery status notifications written by hand after RFC 3464 (§2, and the examples of
// its appendix): CRLF line ends, as mail servers send them.
func crlf(s string) string { return strings.ReplaceAll(strings.TrimPrefix(s, "\n"), "\n", "\r\n") }

// A permanent failure (5.1.1): the original message comes back whole (message/rfc822),
// its Message-ID names the delivery.
var permanentDSN = crlf(`
Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
To: alertas@example.com
Subject: Undelivered Mail Returned to Sender
Date: Mon, 07 Dec 2026 10:21:03 -0600
Message-ID: <20261207162103.A1B2C3@mx.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="RPT-1"

This is a MIME-encapsulated message.

--RPT-1
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

<ana.lopez@empresa.example>: host mx.empresa.example said: 550 5.1.1 User unknown

--RPT-1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com
X-Postfix-Queue-ID: A1B2C3
Arrival-Date: Mon, 07 Dec 2026 10:21:00 -0600

Final-Recipient: rfc822; ana.lopez@empresa.example
Original-Recipient: rfc822;ana.lopez@empresa.example
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.empresa.example
Diagnostic-Code: smtp; 550 5.1.1 <ana.lopez@empresa.example>:
    Recipient address rejected: User unknown

--RPT-1
Content-Type: message/rfc822

From: OPTIMUM BCP <alertas@example.com>
To: ana.lopez@empresa.example
Subject: Alerta P1 · BCP-2026-000042 · Incendio
Message-ID: <dlv_06h51abc@example.com>
Date: Mon, 07 Dec 2026 10:20:59 -0600

Alerta P1.

--RPT-1--
`)

// A transient failure (4.2.2, mailbox full), only the headers come back
// (text/rfc822-headers), two recipients, one delayed and one delivered, a status with a
// comment.
var transientDSN = crlf(`
From: postmaster@mx.example.com
To: alertas@example.com
Subject: Delivery Status Notification (Delay)
MIME-Version: 1.0
Content-Type: multipart/report; report-type="delivery-status";
	boundary="==delay=="

--==delay==
Content-Type: text/plain

Delivery is delayed; we will keep trying for 5 days.
--==delay==
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: RFC822; beto@empresa.example
Action: delayed
Status: 4.2.2 (mailbox full)
Diagnostic-Code: smtp; 452 4.2.2 Mailbox full
Will-Retry-Until: Sat, 12 Dec 2026 10:20:59 -0600

Final-Recipient: rfc822; copia@empresa.example
Action: delivered
Status: 2.0.0
--==delay==
Content-Type: text/rfc822-headers

From: OPTIMUM BCP <alertas@example.com>
To: beto@empresa.example
Message-ID: <dlv_06h51def@example.com>
Subject: Alerta P2
--==delay==--
`)

// A bounce to a VERP address that returns nothing of the original message.
var verpDSN = crlf(`
From: MAILER-DAEMON@relay.example.net
To: bounces+dlv_06h51xyz@example.com
Subject: failure notice
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary=b1

--b1
Content-Type: text/plain

Sorry.
--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.net

Final-Recipient: rfc822; sol@otra.example
Action: failed
--b1--
`)

func TestParseBounceReadsRFC3464(t *testing.T) {
	b, err := email.ParseBounce(strings.NewReader(permanentDSN))
	if err != nil {
		t.Fatal(err)
	}
	want := []email.BounceRecipient{{Recipient: "ana.lopez@empresa.example", Action: "failed", Status: "5.1.1",
		Diagnostic: "smtp; 550 5.1.1 <ana.lopez@empresa.example>: Recipient address rejected: User unknown"}}
	if !reflect.DeepEqual(b.Recipients, want) || b.MessageID != "dlv_06h51abc@example.com" {
		t.Errorf("permanent: %+v / %q", b.Recipients, b.MessageID)
	}
	if !b.Recipients[0].Permanent() || b.Recipients[0].Transient() {
		t.Errorf("5.1.1 is permanent")
	}
	if id := b.DeliveryID("", "example.com"); id != "dlv_06h51abc" {
		t.Errorf("delivery of the permanent bounce = %q", id)
	}
	if id := b.DeliveryID("", "otro.example"); id != "" {
		t.Errorf("a Message-ID of another domain named delivery %q", id)
	}

	b, err = email.ParseBounce(strings.NewReader(transientDSN))
	if err != nil {
		t.Fatal(err)
	}
	want = []email.BounceRecipient{
		{Recipient: "beto@empresa.example", Action: "delayed", Status: "4.2.2", Diagnostic: "smtp; 452 4.2.2 Mailbox full"},
		{Recipient: "copia@empresa.example", Action: "delivered", Status: "2.0.0"},
	}
	if !reflect.DeepEqual(b.Recipients, want) || b.DeliveryID("", "example.com") != "dlv_06h51def" {
		t.Errorf("transient: %+v / %q", b.Recipients, b.MessageID)
	}
	if r := b.Recipients[0]; !r.Transient() || r.Permanent() {
		t.Errorf("4.2.2 is transient")
	}
	if r := b.Recipients[1]; r.Transient() || r.Permanent() {
		t.Errorf("2.0.0 is neither")
	}

	b, err = email.ParseBounce(strings.NewReader(verpDSN))
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Recipients; len(got) != 1 || got[0].Recipient != "sol@otra.example" || got[0].Status != "" || !got[0].Permanent() {
		t.Errorf("VERP: %+v (failed without a status is permanent)", got)
	}
	if id := b.DeliveryID("bounces@example.com", "example.com"); id != "dlv_06h51xyz" {
		t.Errorf("VERP delivery = %q", id)
	}
	if id := b.DeliveryID("", "example.com"); id != "" {
		t.Errorf("without a bounce address, VERP named %q", id)
	}
	if id := b.DeliveryID("rebotes@example.com", "example.com"); id != "" {
		t.Errorf("another bounce mailbox named %q", id)
	}
}

func TestParseBounceRefusesWhatIsNoDSN(t *testing.T) {
	for name, raw := range map[string]string{
		"plain mail":   crlf("From: a@example.com\nTo: b@example.com\nSubject: hola\n\nNo es un rebote.\n"),
		"not a mail":   "esto no es un correo",
		"no recipient": crlf("From: a@example.com\nContent-Type: multipart/report; report-type=delivery-status; boundary=x\n\n--x\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.com\n--x--\n"),
	} {
		if _, err := email.ParseBounce(strings.NewReader(raw)); !errors.Is(err, email.ErrNotDSN) {
			t.Errorf("%s: err = %v, want ErrNotDSN", name, err)
		}
	}
}

func TestVERPNamesTheDelivery(t *testing.T) {
	for _, c := range []struct{ bounce, id, want string }{
		{"bounces@example.com", "dlv_1", "bounces+dlv_1@example.com"},
		{"rebotes@correo.example.mx", "dlv_06h51", "rebotes+dlv_06h51@correo.example.mx"},
	} {
		if got := email.VERP(c.bounce, c.id); got != c.want {
			t.Errorf("VERP(%q, %q) = %q, want %q", c.bounce, c.id, got, c.want)
		}
	}
}

// With a bounce address, the envelope sender (MAIL FROM) is its VERP form for the
// delivery, so the bounce comes back naming it; the From header stays the configured
// sender. Without one, the envelope sender is the From's address.
func TestEnvelopeSenderIsVERPWithABounceAddress(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{})
	cfg, err := email.ParseURL(srv.URL(""))
	if err != nil {
		t.Fatal(err)
	}
	cfg.From, cfg.CAFile, cfg.Timeout = "Alertas BCP <alertas@bcp.example.com>", srv.CAFile(), 5*time.Second
	plain, err := email.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BounceAddress = "rebotes@bcp.example.com"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	verp, err := email.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := broadcast.Message{DeliveryID: "dlv_0002", Channel: "email", To: "ana@example.com", Language: "es", Title: "Alerta", Text: "Texto."}
	for _, s := range []*email.Sender{plain, verp} {
		if _, err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	mails := srv.Mails()
	if len(mails) != 2 || mails[0].From != "alertas@bcp.example.com" || mails[1].From != "rebotes+dlv_0002@bcp.example.com" {
		t.Fatalf("envelope senders: %+v", mails)
	}
	if got := smtptest.Parse(t, mails[1].Data); !strings.Contains(got.Header.Get("From"), "alertas@bcp.example.com") {
		t.Errorf("From header = %q", got.Header.Get("From"))
	}
	for _, bad := range []string{"rebotes+x@bcp.example.com", "Rebotes <rebotes@bcp.example.com>", "no es correo"} {
		cfg.BounceAddress = bad
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "OPTIMUM_SMTP_BOUNCE") {
			t.Errorf("bounce address %q: %v", bad, err)
		}
	}
}
