package email

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"time"
)

// Asynchronous bounces: a mail server that accepted a message (250 after DATA) and could
// not deliver it later sends a delivery status notification (RFC 3464) to the envelope
// sender: a multipart/report (RFC 6522) whose report-type is delivery-status, with a
// human part, a message/delivery-status part (per-message fields, then one group of
// fields per recipient) and the original message or its headers. ParseBounce reads one,
// with the standard library only.

// Bounce is what a delivery status notification says.
type Bounce struct {
	// Recipients are the per-recipient groups, in order.
	Recipients []BounceRecipient
	// MessageID is the Message-ID of the original message (its returned headers), without
	// the angle brackets; "" when the notification does not return them.
	MessageID string
	// Addressed are the addresses the notification itself was sent to (To,
	// Delivered-To, X-Original-To, Envelope-To, Return-Path of the notification): with a
	// VERP envelope sender, one of them names the delivery.
	Addressed []string
}

// BounceRecipient is one recipient's fields of a delivery status notification.
type BounceRecipient struct {
	Recipient  string // the address of Final-Recipient (or Original-Recipient)
	Action     string // failed, delayed, delivered, relayed, expanded (lower case)
	Status     string // the enhanced status code, e.g. 5.1.1
	Diagnostic string // Diagnostic-Code, e.g. "smtp; 550 5.1.1 user unknown"
}

// Permanent reports whether the recipient's failure is permanent: a 5.x.x status, or
// the action "failed" when no status is given.
func (r BounceRecipient) Permanent() bool {
	if r.Status != "" {
		return r.Status[0] == '5'
	}
	return r.Action == "failed"
}

// Transient reports whether it is a passing failure: a 4.x.x status, or "delayed".
func (r BounceRecipient) Transient() bool {
	if r.Status != "" {
		return r.Status[0] == '4'
	}
	return r.Action == "delayed"
}

// BounceRecord is one recipient's bounce of an email delivery, as it is kept.
type BounceRecord struct {
	DeliveryID string
	Recipient  string
	Status     string // the enhanced status code, or the action when none was given
	Action     string
	Diagnostic string
	Permanent  bool
	At         time.Time
}

// Bounced is a person whose current address bounced permanently (readiness).
type Bounced struct {
	PersonID   string    `json:"person_id"`
	Name       string    `json:"name"`
	Email      string    `json:"email"`
	Status     string    `json:"status"`
	Diagnostic string    `json:"diagnostic,omitempty"`
	At         time.Time `json:"at"`
}

// ErrNotDSN is returned for a message that is not a delivery status notification.
var ErrNotDSN = errors.New("the message is not a delivery status notification (multipart/report with a message/delivery-status part)")

var statusCode = regexp.MustCompile(`^[245]\.\d{1,3}\.\d{1,3}$`)

// maxParts bounds how many MIME parts of a notification are read.
const maxParts = 20

// ParseBounce reads a delivery status notification (the raw message, as an MTA pipes it).
func ParseBounce(r io.Reader) (Bounce, error) {
	var b Bounce
	msg, err := mail.ReadMessage(bufio.NewReader(io.LimitReader(r, 4<<20)))
	if err != nil {
		return b, fmt.Errorf("%w: %v", ErrNotDSN, err)
	}
	for _, h := range []string{"To", "Delivered-To", "X-Original-To", "Envelope-To", "Return-Path"} {
		for _, v := range msg.Header[textproto.CanonicalMIMEHeaderKey(h)] {
			if list, err := mail.ParseAddressList(v); err == nil {
				for _, a := range list {
					b.Addressed = append(b.Addressed, a.Address)
				}
			} else if a := strings.Trim(strings.TrimSpace(v), "<>"); a != "" {
				b.Addressed = append(b.Addressed, a)
			}
		}
	}
	found, err := b.walk(msg.Header.Get("Content-Type"), msg.Body, 0)
	if err != nil {
		return b, err
	}
	if !found || len(b.Recipients) == 0 {
		return b, ErrNotDSN
	}
	return b, nil
}

// walk reads one MIME entity; found is true once a delivery-status part was read.
func (b *Bounce) walk(contentType string, body io.Reader, depth int) (found bool, err error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false, nil
	}
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		if depth > 3 || params["boundary"] == "" {
			return false, nil
		}
		mr := multipart.NewReader(body, params["boundary"])
		for i := 0; i < maxParts; i++ {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return found, fmt.Errorf("%w: %v", ErrNotDSN, err)
			}
			ct := p.Header.Get("Content-Type")
			if ct == "" {
				ct = "text/plain"
			}
			f, err := b.walk(ct, p, depth+1)
			if err != nil {
				return found, err
			}
			found = found || f
		}
		return found, nil
	case mt == "message/delivery-status" || mt == "message/global-delivery-status":
		return true, b.readStatus(body)
	case mt == "message/rfc822" || mt == "text/rfc822-headers" || mt == "message/global" || mt == "message/global-headers":
		if b.MessageID == "" {
			if h, err := textproto.NewReader(bufio.NewReader(body)).ReadMIMEHeader(); err == nil || len(h) > 0 {
				b.MessageID = strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>")
			}
		}
	}
	return false, nil
}

// readStatus reads a delivery-status body: groups of fields separated by blank lines,
// the first for the message, each other for one recipient.
func (b *Bounce) readStatus(body io.Reader) error {
	tp := textproto.NewReader(bufio.NewReader(io.LimitReader(body, 1<<20)))
	first := true
	for i := 0; i < 200; i++ {
		h, err := tp.ReadMIMEHeader()
		if len(h) > 0 {
			if first {
				first = false
			} else if rc := recipientOf(h); rc.Recipient != "" {
				b.Recipients = append(b.Recipients, rc)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: the delivery status: %v", ErrNotDSN, err)
		}
	}
	return nil
}

// recipientOf reads one recipient's group. Address fields are "type; address" (RFC 3464
// §2.3.2: rfc822 for email addresses).
func recipientOf(h textproto.MIMEHeader) BounceRecipient {
	addr := func(v string) string {
		if _, a, ok := strings.Cut(v, ";"); ok {
			v = a
		}
		return strings.Trim(strings.TrimSpace(v), "<>")
	}
	rc := BounceRecipient{
		Recipient:  addr(h.Get("Final-Recipient")),
		Action:     strings.ToLower(strings.TrimSpace(h.Get("Action"))),
		Diagnostic: strings.Join(strings.Fields(h.Get("Diagnostic-Code")), " "),
	}
	if rc.Recipient == "" {
		rc.Recipient = addr(h.Get("Original-Recipient"))
	}
	// The status may carry a comment: "5.1.1 (bad destination mailbox address)".
	if st := strings.Fields(h.Get("Status")); len(st) > 0 && statusCode.MatchString(st[0]) {
		rc.Status = st[0]
	}
	return rc
}

// DeliveryID is the delivery a bounce is about: from a VERP address (bounceAddress's
// local part, "+", the delivery id, at its domain) the notification was sent to, else
// from the original message's Message-ID (<delivery id@domain>, as Send sets it). "" when
// neither names one.
func (b Bounce) DeliveryID(bounceAddress, domain string) string {
	if local, dom, ok := strings.Cut(bounceAddress, "@"); ok && local != "" {
		prefix := strings.ToLower(local) + "+"
		for _, a := range b.Addressed {
			l, d, ok := strings.Cut(a, "@")
			if ok && strings.EqualFold(d, dom) && strings.HasPrefix(strings.ToLower(l), prefix) && len(l) > len(prefix) {
				return l[len(prefix):]
			}
		}
	}
	if id, d, ok := strings.Cut(b.MessageID, "@"); ok && id != "" && strings.EqualFold(d, domain) {
		return id
	}
	return ""
}

// VERP is the envelope sender of delivery id's message when bounces go to bounceAddress
// (local+id@domain), so that the bounce names the delivery even when the returned
// message is cut.
func VERP(bounceAddress, id string) string {
	local, dom, ok := strings.Cut(bounceAddress, "@")
	if !ok || id == "" {
		return bounceAddress
	}
	return local + "+" + id + "@" + dom
}
