// Package escalation decides who is alerted, when, and on which channel, until someone
// owns the incident. Its first step, here, is the alert itself: when an incident is
// declared, every person of its audience is sent a message on each channel they have,
// each with a one-tap acknowledgement link of their own.
package escalation

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/incident"
)

// Target is a person an incident's alert goes to, with their addresses now.
type Target struct {
	PersonID    string
	Name        string
	Language    string
	Phone       string // E.164, "" if none
	SMSOptedOut bool
	// Push holds the person's browser push subscriptions (PushSubscription JSON).
	Push []string
}

// Store is what the notifier needs of the database.
type Store interface {
	// Consume runs fn for up to limit events after the consumer's cursor, in order, in
	// one transaction that also advances the cursor.
	Consume(ctx context.Context, consumer string, limit int, fn func(Tx, optimum.Event) error) (int, error)
}

// Tx is the work done with one event, atomically with the consumer's progress.
type Tx interface {
	// Targets returns the active recipients of an incident with their addresses.
	Targets(ctx context.Context, incidentID string) ([]Target, error)
	// CreateAckLink stores the hash of a one-tap acknowledgement token.
	CreateAckLink(ctx context.Context, hash, incidentID, personID string, at, expires time.Time) error
	Enqueue(ctx context.Context, ds []broadcast.Delivery) error
}

// Options configure a Notifier.
type Options struct {
	// PublicURL is the base of the acknowledgement links people receive.
	PublicURL string
	// Channels are the channels with a configured sender; others are not planned.
	Channels []string
	// LinkTTL is how long an acknowledgement link works; default 7 days.
	LinkTTL time.Duration
	// RetryFor is how long a delivery is retried before giving up; default 1 hour.
	RetryFor time.Duration
	// PushTTL is how long a push service may hold an alert; default 1 hour.
	PushTTL time.Duration
	// Wake is called after deliveries were queued (the dispatcher's Wake).
	Wake   func()
	Poll   time.Duration // default 1 s
	Logger *slog.Logger
	Now    func() time.Time
}

// Notifier consumes the event log and queues the alert of each declared incident.
type Notifier struct {
	store     Store
	templates *Templates
	opt       Options
	ids       <-chan int64
}

// ConsumerName is the notifier's cursor in the event log.
const ConsumerName = "escalation.notifier"

// NewNotifier returns a notifier; ids (a bus subscription) wakes it when events arrive.
func NewNotifier(store Store, templates *Templates, ids <-chan int64, opt Options) *Notifier {
	if opt.LinkTTL <= 0 {
		opt.LinkTTL = 7 * 24 * time.Hour
	}
	if opt.RetryFor <= 0 {
		opt.RetryFor = time.Hour
	}
	if opt.PushTTL <= 0 {
		opt.PushTTL = time.Hour
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Wake == nil {
		opt.Wake = func() {}
	}
	return &Notifier{store: store, templates: templates, opt: opt, ids: ids}
}

// Run processes the log until ctx is done.
func (n *Notifier) Run(ctx context.Context) error {
	poll := time.NewTicker(n.opt.Poll)
	defer poll.Stop()
	for {
		for {
			done, err := n.Step(ctx)
			if err != nil && ctx.Err() == nil {
				n.opt.Logger.Error("notifier: processing the event log", "err", err)
			}
			if done == 0 || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-n.ids:
		case <-poll.C:
		}
	}
}

// Step processes the next batch of events and returns how many it processed.
func (n *Notifier) Step(ctx context.Context) (int, error) {
	queued := 0
	done, err := n.store.Consume(ctx, ConsumerName, 100, func(tx Tx, e optimum.Event) error {
		if e.Type != incident.EventDeclared {
			return nil
		}
		c, err := n.alert(ctx, tx, e)
		queued += c
		return err
	})
	if queued > 0 {
		n.opt.Wake()
	}
	return done, err
}

// alert queues one delivery per recipient and channel for a declared incident.
func (n *Notifier) alert(ctx context.Context, tx Tx, e optimum.Event) (int, error) {
	var inc incident.Incident
	if err := json.Unmarshal(e.Incident, &inc); err != nil {
		return 0, fmt.Errorf("decode incident: %w", err)
	}
	targets, err := tx.Targets(ctx, inc.ID)
	if err != nil {
		return 0, err
	}
	now := n.opt.Now().UTC().Truncate(time.Millisecond)
	var ds []broadcast.Delivery
	for _, t := range targets {
		token := newToken()
		if err := tx.CreateAckLink(ctx, HashToken(token), inc.ID, t.PersonID, now, now.Add(n.opt.LinkTTL)); err != nil {
			return 0, err
		}
		link := n.opt.PublicURL + "/a/" + token
		for _, ch := range n.opt.Channels {
			var addrs []string
			switch ch {
			case broadcast.ChannelWebPush:
				addrs = t.Push
			case broadcast.ChannelSMS:
				if t.Phone != "" && !t.SMSOptedOut {
					addrs = []string{t.Phone}
				}
			}
			for _, addr := range addrs {
				msg, err := n.templates.Render(ch, t.Language, inc, link)
				if err != nil {
					return 0, err
				}
				msg.DeliveryID, msg.Channel, msg.To = optimum.NewID("dlv"), ch, addr
				msg.Topic, msg.TTL = inc.ID, n.opt.PushTTL
				ds = append(ds, broadcast.Delivery{Message: msg, Subject: inc.ID, Recipient: t.PersonID, DueAt: now, Deadline: now.Add(n.opt.RetryFor)})
			}
		}
	}
	return len(ds), tx.Enqueue(ctx, ds)
}

const tokenAlphabet = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"

// newToken returns a short unguessable token for a link in an SMS: 14 characters from a
// 56-letter alphabet without look-alikes, about 81 bits.
func newToken() string {
	b := make([]byte, 14)
	max := big.NewInt(int64(len(tokenAlphabet)))
	for i := range b {
		v, _ := rand.Int(rand.Reader, max)
		b[i] = tokenAlphabet[v.Int64()]
	}
	return string(b)
}

// HashToken is how a link token is stored: only its SHA-256.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
