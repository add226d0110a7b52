package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/escalation"
)

// Escalation implements escalation.Store.
type Escalation struct{ db *DB }

// Escalation returns the escalation engine's store.
func (db *DB) Escalation() *Escalation { return &Escalation{db: db} }

var _ escalation.Store = (*Escalation)(nil)

// Consume runs fn for the events after the consumer's cursor, with the cursor.
func (s *Escalation) Consume(ctx context.Context, consumer string, limit int, fn func(escalation.Tx, optimum.Event) error) (int, error) {
	return s.db.consume(ctx, consumer, limit, func(tx *eventTx, e optimum.Event) error { return fn(escalationTx{tx}, e) })
}

type escalationTx struct{ tx *eventTx }

// Targets returns the incident's active recipients with their phone, email and browsers.
func (t escalationTx) Targets(ctx context.Context, incidentID string) ([]escalation.Contact, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT r.person_id, p.name, p.language, p.phone, p.sms_opted_out_at IS NOT NULL, `+alertEmail+`,
		p.phone_verified_at IS NOT NULL, p.phone2, p.phone2_verified_at IS NOT NULL
		FROM incident_recipients r JOIN people p ON p.id = r.person_id
		WHERE r.incident_id = $1 AND p.active = 1 ORDER BY p.name, p.id`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("targets: %w", err)
	}
	var out []escalation.Contact
	pos := map[string]int{}
	for rows.Next() {
		var tg escalation.Contact
		if err := rows.Scan(&tg.PersonID, &tg.Name, &tg.Language, &tg.Phone, &tg.SMSOptedOut, &tg.Email,
			&tg.PhoneVerified, &tg.Phone2, &tg.Phone2Verified); err != nil {
			rows.Close()
			return nil, fmt.Errorf("targets: %w", err)
		}
		pos[tg.PersonID] = len(out)
		out = append(out, tg)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	subs, err := t.tx.QueryContext(ctx, `SELECT s.person_id, s.endpoint, s.p256dh, s.auth FROM push_subscriptions s
		JOIN incident_recipients r ON r.person_id = s.person_id AND r.incident_id = $1 ORDER BY s.created_at`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("push subscriptions: %w", err)
	}
	defer subs.Close()
	for subs.Next() {
		var pid, endpoint, p256dh, auth string
		if err := subs.Scan(&pid, &endpoint, &p256dh, &auth); err != nil {
			return nil, fmt.Errorf("push subscriptions: %w", err)
		}
		sub, _ := json.Marshal(map[string]any{"endpoint": endpoint, "keys": map[string]string{"p256dh": p256dh, "auth": auth}})
		if i, ok := pos[pid]; ok {
			out[i].Push = append(out[i].Push, string(sub))
		}
	}
	return out, subs.Err()
}

// CreateAckLink stores the hash of a one-tap link token, made as its message is sent.
func (s *Escalation) CreateAckLink(ctx context.Context, hash, incidentID, personID string, at, expires time.Time) error {
	// Grouped: made right before each send, so many at once share one commit.
	err := s.db.grouped(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO ack_links (hash, incident_id, person_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			hash, incidentID, personID, millis(at), millis(expires))
		return err
	})
	if err != nil {
		return fmt.Errorf("create ack link: %w", err)
	}
	return nil
}

func (t escalationTx) Enqueue(ctx context.Context, ds []broadcast.Delivery) error {
	return enqueue(ctx, t.tx, ds, nowUTC())
}

// PersonByPhone returns the one active person with the phone (as their first or second
// phone, docs/sites.md): ENOTFOUND when nobody
// has it, ECONFLICT when several have it (a number shared before numbers were made
// one person's), since a reply from it cannot be told to be one person's.
func (s *Escalation) PersonByPhone(ctx context.Context, phone string) (escalation.Sender, error) {
	rows, err := s.db.read.QueryContext(ctx, "SELECT id, name, language FROM people WHERE (phone = $1 OR phone2 = $1) AND active = 1 ORDER BY created_at, id LIMIT 2", phone)
	if err != nil {
		return escalation.Sender{}, fmt.Errorf("person by phone: %w", err)
	}
	defer rows.Close()
	var found []escalation.Sender
	for rows.Next() {
		var p escalation.Sender
		if err := rows.Scan(&p.PersonID, &p.Name, &p.Language); err != nil {
			return escalation.Sender{}, fmt.Errorf("person by phone: %w", err)
		}
		found = append(found, p)
	}
	if err := rows.Err(); err != nil {
		return escalation.Sender{}, fmt.Errorf("person by phone: %w", err)
	}
	switch len(found) {
	case 0:
		return escalation.Sender{}, optimum.Errorf(optimum.ENOTFOUND, "Nobody has the phone %s.", phone)
	case 1:
		return found[0], nil
	}
	return escalation.Sender{}, optimum.Errorf(optimum.ECONFLICT, "The phone %s belongs to more than one active person.", phone)
}

// SetSMSOptOut records a STOP (at) or a START (nil) for the person.
func (s *Escalation) SetSMSOptOut(ctx context.Context, personID string, at *time.Time) error {
	return s.db.eventsTx(ctx, func(tx *eventTx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE people SET sms_opted_out_at = $2 WHERE id = $1", personID, nullMillis(at)); err != nil {
			return err
		}
		typ := "person.sms_opted_in"
		if at != nil {
			typ = "person.sms_opted_out"
		}
		data, _ := json.Marshal(map[string]string{"id": personID})
		_, err := tx.appendEvent(ctx, optimum.Event{Type: typ, At: nowUTC(), Actor: &optimum.System, Data: data})
		return err
	})
}

// OpenAlerts returns the open incidents the person was alerted of and has not
// acknowledged, and the open ones asking a safety poll, newest first.
func (s *Escalation) OpenAlerts(ctx context.Context, personID string) ([]escalation.OpenAlert, error) {
	// Acknowledged incidents come too, and are kept only when they ask a safety poll: a
	// person may answer (or change their answer) after acknowledging in the app. A
	// person may be in the audience or paged by the ladder (a director at step 3).
	rows, err := s.db.read.QueryContext(ctx, `SELECT i.id, i.folio, i.priority, i.doc,
		EXISTS (SELECT 1 FROM incident_acks a WHERE a.incident_id = i.id AND a.person_id = $1)
		FROM incidents i
		WHERE i.status IN ('declared', 'acknowledged', 'investigating', 'reopened')
		AND (EXISTS (SELECT 1 FROM incident_recipients r WHERE r.incident_id = i.id AND r.person_id = $1)
			OR EXISTS (SELECT 1 FROM escalation_pages g WHERE g.incident_id = i.id AND g.person_id = $1))
		ORDER BY i.created_at DESC LIMIT 200`, personID)
	if err != nil {
		return nil, fmt.Errorf("open alerts: %w", err)
	}
	defer rows.Close()
	var out []escalation.OpenAlert
	for rows.Next() {
		var (
			a   escalation.OpenAlert
			doc []byte
		)
		if err := rows.Scan(&a.IncidentID, &a.Folio, &a.Priority, &doc, &a.Acknowledged); err != nil {
			return nil, err
		}
		var inc struct {
			Title      string
			SafetyPoll bool `json:"safety_poll"`
		}
		_ = json.Unmarshal(doc, &inc)
		a.Title, a.SafetyPoll = inc.Title, inc.SafetyPoll
		if (!a.Acknowledged || a.SafetyPoll) && len(out) < 20 {
			out = append(out, a)
		}
	}
	return out, rows.Err()
}

// DeliveryTarget returns the incident and the person a delivery went to. When the
// number the delivery went to is now shared by another active person, it answers
// ECONFLICT: the key pressed may be theirs.
func (s *Escalation) DeliveryTarget(ctx context.Context, deliveryID string) (string, escalation.Sender, error) {
	var (
		incID, phone string
		p            escalation.Sender
	)
	err := s.db.read.QueryRowContext(ctx, `SELECT d.subject, p.id, p.name, p.language, p.phone FROM deliveries d JOIN people p ON p.id = d.recipient
		WHERE d.id = $1`, deliveryID).Scan(&incID, &p.PersonID, &p.Name, &p.Language, &phone)
	if err != nil {
		return incID, p, notFound(err, "No delivery has the id %q.", truncate(deliveryID, 60))
	}
	if phone != "" {
		var others int
		if err := s.db.read.QueryRowContext(ctx, "SELECT count(*) FROM people WHERE (phone = $1 OR phone2 = $1) AND active = 1 AND id <> $2", phone, p.PersonID).Scan(&others); err != nil {
			return incID, p, fmt.Errorf("delivery target: %w", err)
		}
		if others > 0 {
			return incID, p, optimum.Errorf(optimum.ECONFLICT, "The phone %s belongs to more than one active person.", phone)
		}
	}
	return incID, p, nil
}
