package escalation

import (
	"context"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
)

// LinkSlot stands, in a queued message, where the person's one-tap link token goes. The
// deliveries table keeps messages until they are sent and long after; a link in it would
// work for whoever reads the table, although ack_links keeps only hashes. So the queued
// message carries this slot, and Links.Prepare puts a fresh token in it when the message
// is sent. It is as long as a token, so the length of a message (its SMS segments) is
// the same before and after.
const LinkSlot = "{one-tap-link}"

// LinkStore keeps the hashes of one-tap link tokens.
type LinkStore interface {
	// CreateAckLink stores the hash of a one-tap acknowledgement token.
	CreateAckLink(ctx context.Context, hash, incidentID, personID string, at, expires time.Time) error
}

// Links mints the one-tap links of messages as they are sent.
type Links struct {
	store LinkStore
	ttl   time.Duration
	now   func() time.Time
}

// NewLinks returns Links whose links work for ttl (default 72 hours); now nil is
// time.Now.
func NewLinks(store LinkStore, ttl time.Duration, now func() time.Time) *Links {
	if ttl <= 0 {
		ttl = DefaultLinkTTL
	}
	if now == nil {
		now = time.Now
	}
	return &Links{store: store, ttl: ttl, now: now}
}

// DefaultLinkTTL is how long a one-tap link works unless configured.
const DefaultLinkTTL = 72 * time.Hour

// Prepare is the dispatcher's hook (broadcast.DispatcherOptions.Prepare): a message
// with a LinkSlot gets a new token of its recipient for its incident, stored hashed. A
// retried delivery gets another token; the earlier one, if it reached the person, still
// works.
func (l *Links) Prepare(ctx context.Context, d *broadcast.Delivery) error {
	if !strings.Contains(d.URL, LinkSlot) && !strings.Contains(d.Text, LinkSlot) && !strings.Contains(d.Title, LinkSlot) {
		return nil
	}
	token := newToken()
	now := l.now()
	if err := l.store.CreateAckLink(ctx, HashToken(token), d.Subject, d.Recipient, now, now.Add(l.ttl)); err != nil {
		return err
	}
	d.URL = strings.ReplaceAll(d.URL, LinkSlot, token)
	d.Text = strings.ReplaceAll(d.Text, LinkSlot, token)
	d.Title = strings.ReplaceAll(d.Title, LinkSlot, token)
	return nil
}
