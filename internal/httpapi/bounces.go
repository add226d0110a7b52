package httpapi

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast/email"
	"github.com/optimum-bcp/optimum/broadcast/twilio"
)

// Asynchronous email bounces (issue 17, docs/channels.md): the mail server that receives
// the bounces (the OPTIMUM_SMTP_BOUNCE mailbox, or the From's) pipes each delivery status
// notification (RFC 3464), raw, to POST /api/v1/email/bounces with an integration token.

// BounceStore keeps bounces (internal/store.Deliveries).
type BounceStore interface {
	RecordBounce(ctx context.Context, b email.BounceRecord) (personID string, first bool, err error)
	BouncedEmails(ctx context.Context) ([]email.Bounced, error)
}

// bounceStore is the deliveries' store when it keeps bounces.
func (s *Server) bounceStore() (BounceStore, bool) {
	b, ok := s.Webhooks.(BounceStore)
	return b, ok && s.Config.Email.URL != ""
}

// maxBounce bounds a bounce message (a DSN returns the original message: an alert email
// is a few kilobytes).
const maxBounce = 4 << 20

type bounceLine struct {
	Recipient  string `json:"recipient"`
	Status     string `json:"status"`
	Action     string `json:"action"`
	Diagnostic string `json:"diagnostic,omitempty"`
	// Outcome is "failed" (permanent: the delivery failed), "delayed" (transient:
	// recorded) or "ignored" (a delivered or relayed notice).
	Outcome string `json:"outcome"`
	// Repeated is true when the same bounce was recorded before (the MTA sent it twice).
	Repeated bool `json:"repeated"`
}

// emailBounce handles POST /api/v1/email/bounces: the body is the bounce message
// (message/rfc822). A permanent failure (5.x.x) fails its delivery with the code and the
// diagnostic, and flags the person's address on readiness; a transient one (4.x.x) is
// recorded. 200 with what was read; a message that is no DSN, or names no delivery of
// this server, is refused (422) and changes nothing.
func (s *Server) emailBounce(w http.ResponseWriter, r *http.Request) error {
	store, ok := s.bounceStore()
	if !ok {
		return optimum.Errorf(optimum.ENOTFOUND, "Email is not enabled on this server.")
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "message/rfc822" {
		return optimum.Errorf(optimum.EINVALID, "Send the bounce message as is, with Content-Type: message/rfc822.")
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBounce))
	if err != nil {
		return badRequest("The body could not be read.")
	}
	b, err := email.ParseBounce(strings.NewReader(string(raw)))
	if errors.Is(err, email.ErrNotDSN) {
		return optimum.Errorf(optimum.EINVALID, "The message is not a delivery status notification (RFC 3464): no message/delivery-status part with a recipient.")
	} else if err != nil {
		return err
	}
	domain := ""
	if from, err := mail.ParseAddress(s.Config.Email.From); err == nil {
		domain = from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	}
	id := b.DeliveryID(s.Config.Email.BounceAddress, domain)
	if id == "" {
		return optimum.Errorf(optimum.EINVALID, "The bounce names no delivery of this server: neither its address (VERP) nor the returned Message-ID is ours.")
	}
	now := time.Now().UTC()
	out := struct {
		DeliveryID string       `json:"delivery_id"`
		Recipients []bounceLine `json:"recipients"`
	}{DeliveryID: id, Recipients: []bounceLine{}}
	for _, rc := range b.Recipients {
		line := bounceLine{Recipient: rc.Recipient, Status: rc.Status, Action: rc.Action, Diagnostic: rc.Diagnostic, Outcome: "ignored"}
		switch {
		case rc.Permanent():
			line.Outcome = "failed"
		case rc.Transient():
			line.Outcome = "delayed"
		}
		if line.Outcome != "ignored" {
			status := rc.Status
			if status == "" {
				status = rc.Action
			}
			_, first, err := store.RecordBounce(r.Context(), email.BounceRecord{DeliveryID: id, Recipient: rc.Recipient, Status: status,
				Action: rc.Action, Diagnostic: rc.Diagnostic, Permanent: line.Outcome == "failed", At: now})
			if err != nil {
				return err
			}
			line.Repeated = !first
			if line.Outcome == "failed" {
				why := "bounced: " + status
				if rc.Diagnostic != "" {
					why += " (" + rc.Diagnostic + ")"
				}
				if _, _, err := s.Webhooks.ProviderUpdate(r.Context(), id, "", "failed", why, now, twilio.Later); err != nil {
					return err
				}
			}
		}
		out.Recipients = append(out.Recipients, line)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// bouncedEmails lists, for readiness, the people whose address bounced ([] when email
// is off).
func (s *Server) bouncedEmails(ctx context.Context) ([]email.Bounced, error) {
	store, ok := s.bounceStore()
	if !ok {
		return []email.Bounced{}, nil
	}
	return store.BouncedEmails(ctx)
}
