package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
)

// Notices implements incident.NoticeStore: the requester's messages and stakeholder
// updates, queued as deliveries.
type Notices struct {
	db *DB
	// RetryFor is how long a notice is retried; PushTTL how long a push service may hold it.
	RetryFor, PushTTL time.Duration
}

// Notices returns the store of the incident notices consumer.
func (db *DB) Notices() *Notices { return &Notices{db: db, RetryFor: time.Hour, PushTTL: time.Hour} }

var _ incident.NoticeStore = (*Notices)(nil)

// Consume runs fn for the events after the consumer's cursor, with the cursor.
func (s *Notices) Consume(ctx context.Context, consumer string, limit int, fn func(incident.NoticeTx, optimum.Event) error) (int, error) {
	return s.db.consume(ctx, consumer, limit, func(tx *eventTx, e optimum.Event) error { return fn(noticeTx{tx, s}, e) })
}

type noticeTx struct {
	tx *eventTx
	s  *Notices
}

// Audience returns the incident's active recipients with their phones and browsers (the
// same people the first alert went to).
func (t noticeTx) Audience(ctx context.Context, incidentID string) ([]incident.Contact, error) {
	targets, err := escalationTx{t.tx}.Targets(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	out := make([]incident.Contact, len(targets))
	for i, tg := range targets {
		// Notices inform: they go to the number alerts go to first (the proved one,
		// escalation.Contact.Phones), with no fallback.
		phone, _ := tg.Phones()
		out[i] = incident.Contact{PersonID: tg.PersonID, Name: tg.Name, Language: tg.Language, Phone: phone, SMSOptedOut: tg.SMSOptedOut, Push: tg.Push, Email: tg.Email}
	}
	return out, nil
}

// Contact finds the active directory person behind an actor id: a person id, or a user
// linked to a person.
func (t noticeTx) Contact(ctx context.Context, actorID string) (incident.Contact, bool, error) {
	var (
		c  incident.Contact
		ph escalation.Contact
	)
	err := t.tx.QueryRowContext(ctx, `SELECT p.id, p.name, p.language, p.phone, p.sms_opted_out_at IS NOT NULL, `+alertEmail+`,
		p.phone_verified_at IS NOT NULL, p.phone2, p.phone2_verified_at IS NOT NULL FROM people p
		WHERE p.active = 1 AND (p.id = $1 OR p.id = (SELECT `+userPerson("u")+` FROM users u WHERE u.id = $2))
		LIMIT 1`, actorID, actorID).Scan(&c.PersonID, &c.Name, &c.Language, &ph.Phone, &c.SMSOptedOut, &c.Email,
		&ph.PhoneVerified, &ph.Phone2, &ph.Phone2Verified)
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, nil
	} else if err != nil {
		return c, false, fmt.Errorf("requester contact: %w", err)
	}
	c.Phone, _ = ph.Phones() // the number alerts go to first (docs/sites.md)
	rows, err := t.tx.QueryContext(ctx, `SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE person_id = $1 ORDER BY created_at`, c.PersonID)
	if err != nil {
		return c, false, fmt.Errorf("requester push: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var endpoint, p256dh, auth string
		if err := rows.Scan(&endpoint, &p256dh, &auth); err != nil {
			return c, false, err
		}
		sub, _ := json.Marshal(map[string]any{"endpoint": endpoint, "keys": map[string]string{"p256dh": p256dh, "auth": auth}})
		c.Push = append(c.Push, string(sub))
	}
	return c, true, rows.Err()
}

// Message returns a message to a requester.
func (t noticeTx) Message(ctx context.Context, id string) (incident.Message, error) {
	var (
		m  incident.Message
		at int64
	)
	err := t.tx.QueryRowContext(ctx, `SELECT id, incident_id, kind, person_id, person_name, language, text, url, at
		FROM incident_messages WHERE id = $1`, id).Scan(&m.ID, &m.IncidentID, &m.Kind, &m.To.ID, &m.To.Name, &m.Language, &m.Text, &m.URL, &at)
	if err != nil {
		return m, fmt.Errorf("message %s: %w", id, err)
	}
	m.At = fromMillis(at)
	return m, nil
}

// Send queues the notices as deliveries, in the lane of their incident (its priority,
// drill or not; an update to everyone as the general audience).
func (t noticeTx) Send(ctx context.Context, ns []incident.Notice) error {
	type class struct {
		priority string
		drill    bool
	}
	classes := map[string]class{}
	ds := make([]broadcast.Delivery, len(ns))
	for i, n := range ns {
		c, ok := classes[n.IncidentID]
		if !ok {
			var drill int
			err := t.tx.QueryRowContext(ctx, "SELECT priority, drill FROM incidents WHERE id = $1", n.IncidentID).Scan(&c.priority, &drill)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("notice lane: %w", err)
			}
			c.drill = drill == 1
			classes[n.IncidentID] = c
		}
		topic := n.IncidentID + "/" + n.Kind
		ds[i] = broadcast.Delivery{
			Message: broadcast.Message{DeliveryID: optimum.NewID("dlv"), Channel: n.Channel, To: n.To, Language: n.Language,
				Title: n.Title, Text: n.Text, URL: n.URL, Topic: topic, TTL: t.s.PushTTL},
			Subject: n.IncidentID, Recipient: n.PersonID, DueAt: n.At, Deadline: n.At.Add(t.s.RetryFor),
			Priority: c.priority, Drill: c.drill, Audience: n.Kind == "update" || n.Kind == "bridge", // bridge: the bridge notice goes to everyone
		}
	}
	return enqueue(ctx, t.tx, ds, nowUTC())
}
