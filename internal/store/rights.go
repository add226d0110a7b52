package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/optimum-bcp/optimum"
)

// People's data rights (docs/privacy.md): what is held about a person, and erasure.

// PersonHeld is what the store holds about a directory person beyond their directory
// entry: their sign-in account, verifications, push subscriptions, deliveries,
// acknowledgements, safety answers, what they were told as a requester, and the
// incidents they declared.
type PersonHeld struct {
	Users             []HeldUser        `json:"users"`
	Identities        []HeldIdentity    `json:"identities"`
	PhoneVerification *HeldVerification `json:"phone_verification"`
	PushSubscriptions []HeldPush        `json:"push_subscriptions"`
	Deliveries        []HeldDelivery    `json:"deliveries"`
	Acknowledgements  []HeldAnswer      `json:"acknowledgements"`
	SafetyAnswers     []HeldAnswer      `json:"safety_answers"`
	Messages          []HeldMessage     `json:"messages"`
	Declared          []HeldIncident    `json:"declared"`
}

// HeldUser is a sign-in account of the person.
type HeldUser struct {
	ID         string     `json:"id"`
	Email      string     `json:"email"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	CreatedAt  time.Time  `json:"created_at"`
	DisabledAt *time.Time `json:"disabled_at,omitempty"`
}

// HeldIdentity is a single sign-on identity linked to one of the person's accounts.
type HeldIdentity struct {
	Provider  string    `json:"provider"`
	Subject   string    `json:"subject"`
	Email     string    `json:"email"`
	CreatedAt time.Time `json:"created_at"`
	LastAt    time.Time `json:"last_at"`
}

// HeldVerification is a pending phone verification (its code is kept only as a hash).
type HeldVerification struct {
	Phone     string    `json:"phone"`
	ExpiresAt time.Time `json:"expires_at"`
	Attempts  int       `json:"attempts"`
}

// HeldPush is a push subscription: the push service's host, never the capability URL.
type HeldPush struct {
	ID          string     `json:"id"`
	Service     string     `json:"service"`
	UserAgent   string     `json:"user_agent"`
	CreatedAt   time.Time  `json:"created_at"`
	LastSuccess *time.Time `json:"last_success_at,omitempty"`
}

// HeldDelivery is one message sent (or to send) to the person.
type HeldDelivery struct {
	ID         string     `json:"id"`
	IncidentID string     `json:"incident_id"`
	Channel    string     `json:"channel"`
	Address    string     `json:"address"`
	Status     string     `json:"status"`
	Attempts   int        `json:"attempts"`
	CreatedAt  time.Time  `json:"created_at"`
	SentAt     *time.Time `json:"sent_at,omitempty"`
}

// HeldAnswer is an acknowledgement or a safety answer.
type HeldAnswer struct {
	IncidentID string    `json:"incident_id"`
	Answer     string    `json:"answer,omitempty"`
	Channel    string    `json:"channel"`
	At         time.Time `json:"at"`
}

// HeldMessage is something the person was told as the requester of an incident.
type HeldMessage struct {
	IncidentID string    `json:"incident_id"`
	Kind       string    `json:"kind"`
	Text       string    `json:"text"`
	At         time.Time `json:"at"`
}

// HeldIncident is an incident the person declared.
type HeldIncident struct {
	ID        string    `json:"id"`
	Folio     string    `json:"folio"`
	CreatedAt time.Time `json:"created_at"`
}

// PersonHeld returns what is held about the person (ENOTFOUND when there is no such
// person).
func (db *DB) PersonHeld(ctx context.Context, personID string) (PersonHeld, error) {
	h := PersonHeld{Users: []HeldUser{}, Identities: []HeldIdentity{}, PushSubscriptions: []HeldPush{}, Deliveries: []HeldDelivery{}, Acknowledgements: []HeldAnswer{},
		SafetyAnswers: []HeldAnswer{}, Messages: []HeldMessage{}, Declared: []HeldIncident{}}
	var n int
	if err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM people WHERE id = $1", personID).Scan(&n); err != nil || n == 0 {
		if err == nil {
			err = optimum.Errorf(optimum.ENOTFOUND, "No person has the id %q.", personID)
		}
		return h, err
	}
	q := func(query string, scan func(*sql.Rows) error) error {
		rows, err := db.read.QueryContext(ctx, query, personID)
		if err != nil {
			return fmt.Errorf("data held: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return fmt.Errorf("data held: %w", err)
			}
		}
		return rows.Err()
	}
	steps := []func() error{
		func() error {
			return q(`SELECT u.id, u.email, u.name, u.role, u.created_at, u.disabled_at FROM users u WHERE `+userPerson("u")+` = $1 ORDER BY u.created_at`, func(r *sql.Rows) error {
				var (
					u        HeldUser
					created  int64
					disabled sql.NullInt64
				)
				if err := r.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &created, &disabled); err != nil {
					return err
				}
				u.CreatedAt, u.DisabledAt = fromMillis(created), timeOrNil(disabled)
				h.Users = append(h.Users, u)
				return nil
			})
		},
		func() error {
			return q(`SELECT i.provider, i.subject, i.email, i.created_at, i.last_at FROM user_identities i JOIN users u ON u.id = i.user_id
				WHERE `+userPerson("u")+` = $1 ORDER BY i.created_at`, func(r *sql.Rows) error {
				var (
					id            HeldIdentity
					created, last int64
				)
				if err := r.Scan(&id.Provider, &id.Subject, &id.Email, &created, &last); err != nil {
					return err
				}
				id.CreatedAt, id.LastAt = fromMillis(created), fromMillis(last)
				h.Identities = append(h.Identities, id)
				return nil
			})
		},
		func() error {
			return q(`SELECT phone, expires_at, attempts FROM phone_verifications WHERE person_id = $1`, func(r *sql.Rows) error {
				var (
					v       HeldVerification
					expires int64
				)
				if err := r.Scan(&v.Phone, &expires, &v.Attempts); err != nil {
					return err
				}
				v.ExpiresAt = fromMillis(expires)
				h.PhoneVerification = &v
				return nil
			})
		},
		func() error {
			return q(`SELECT id, endpoint, user_agent, created_at, last_success_at FROM push_subscriptions WHERE person_id = $1 ORDER BY created_at`, func(r *sql.Rows) error {
				var (
					p        HeldPush
					endpoint string
					created  int64
					success  sql.NullInt64
				)
				if err := r.Scan(&p.ID, &endpoint, &p.UserAgent, &created, &success); err != nil {
					return err
				}
				if u, err := url.Parse(endpoint); err == nil {
					p.Service = u.Host
				}
				p.CreatedAt, p.LastSuccess = fromMillis(created), timeOrNil(success)
				h.PushSubscriptions = append(h.PushSubscriptions, p)
				return nil
			})
		},
		func() error {
			return q(`SELECT id, subject, channel, address, status, attempts, created_at, sent_at FROM deliveries WHERE recipient = $1 ORDER BY created_at, id`, func(r *sql.Rows) error {
				var (
					d       HeldDelivery
					created int64
					sent    sql.NullInt64
				)
				if err := r.Scan(&d.ID, &d.IncidentID, &d.Channel, &d.Address, &d.Status, &d.Attempts, &created, &sent); err != nil {
					return err
				}
				if d.Channel == "webpush" {
					d.Address = "push subscription" // the subscription's keys are capabilities, not the person's data
				}
				d.CreatedAt, d.SentAt = fromMillis(created), timeOrNil(sent)
				h.Deliveries = append(h.Deliveries, d)
				return nil
			})
		},
		func() error {
			return q(`SELECT incident_id, channel, at FROM incident_acks WHERE person_id = $1 ORDER BY at`, func(r *sql.Rows) error {
				var (
					a  HeldAnswer
					at int64
				)
				if err := r.Scan(&a.IncidentID, &a.Channel, &at); err != nil {
					return err
				}
				a.At = fromMillis(at)
				h.Acknowledgements = append(h.Acknowledgements, a)
				return nil
			})
		},
		func() error {
			return q(`SELECT incident_id, answer, channel, at FROM safety_answers WHERE person_id = $1 ORDER BY at`, func(r *sql.Rows) error {
				var (
					a  HeldAnswer
					at int64
				)
				if err := r.Scan(&a.IncidentID, &a.Answer, &a.Channel, &at); err != nil {
					return err
				}
				a.At = fromMillis(at)
				h.SafetyAnswers = append(h.SafetyAnswers, a)
				return nil
			})
		},
		func() error {
			return q(`SELECT m.incident_id, m.kind, m.text, m.at FROM incident_messages m
				WHERE m.person_id = $1 OR m.person_id IN (SELECT u.id FROM users u WHERE `+userPerson("u")+` = $1) ORDER BY m.at`, func(r *sql.Rows) error {
				var (
					m  HeldMessage
					at int64
				)
				if err := r.Scan(&m.IncidentID, &m.Kind, &m.Text, &at); err != nil {
					return err
				}
				m.At = fromMillis(at)
				h.Messages = append(h.Messages, m)
				return nil
			})
		},
		func() error {
			return q(`SELECT i.id, i.folio, i.created_at FROM incidents i
				WHERE i.reporter_id = $1 OR i.reporter_id IN (SELECT u.id FROM users u WHERE `+userPerson("u")+` = $1) ORDER BY i.created_at`, func(r *sql.Rows) error {
				var (
					inc     HeldIncident
					created int64
				)
				if err := r.Scan(&inc.ID, &inc.Folio, &created); err != nil {
					return err
				}
				inc.CreatedAt = fromMillis(created)
				h.Declared = append(h.Declared, inc)
				return nil
			})
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return h, err
		}
	}
	return h, nil
}

func timeOrNil(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMillis(v.Int64)
	return &t
}

// EventPersonErased records an erasure: who, by whom, why; never the erased values.
const EventPersonErased = "person.erased"

// Erasure is what an erasure changed.
type Erasure struct {
	PersonID       string `json:"person_id"`
	Name           string `json:"name"` // the anonymous name the person has now
	Users          int    `json:"users"`
	Deliveries     int64  `json:"deliveries"`
	Cancelled      int64  `json:"cancelled"`
	PushRemoved    int64  `json:"push_subscriptions_removed"`
	IncidentsNamed int    `json:"incidents_renamed"`
}

// ErasedName is the anonymous name of an erased person: distinct per person, so that
// reports still count them apart.
func ErasedName(personID string) string {
	suffix := personID
	if len(suffix) > 6 {
		suffix = suffix[len(suffix)-6:]
	}
	return "Persona borrada " + suffix
}

// ErasePerson anonymises a person in one transaction that appends person.erased: their
// name, email, phone and external id are replaced, their push subscriptions, pending
// verification and team memberships removed, their sign-in accounts disabled and
// anonymised, the addresses and texts of their deliveries blanked (still queued ones
// fail, never sent), and the incidents, recipients and acknowledgements that name them
// renamed to the anonymous name. Old events are never edited (docs/privacy.md): counts
// and the hash chain stay as they were. ECONFLICT when the person was erased before.
func (db *DB) ErasePerson(ctx context.Context, personID, reason string, actor optimum.Actor, at time.Time) (Erasure, error) {
	e := Erasure{PersonID: personID, Name: ErasedName(personID)}
	err := db.eventsTx(ctx, func(tx *eventTx) error {
		var email string
		if err := tx.QueryRowContext(ctx, "SELECT email FROM people WHERE id = $1", personID).Scan(&email); err != nil {
			return notFound(err, "No person has the id %q.", personID)
		}
		erasedEmail := "erased-" + personID + "@erased.invalid"
		if email == erasedEmail {
			return optimum.Errorf(optimum.ECONFLICT, "Person %s was already erased.", personID)
		}
		// The accounts first: they find the person by the email about to change.
		var users []string
		rows, err := tx.QueryContext(ctx, `SELECT u.id FROM users u WHERE `+userPerson("u")+` = $1`, personID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			users = append(users, id)
		}
		rows.Close()
		now := millis(at)
		exec := func(q string, args ...any) (int64, error) {
			res, err := tx.ExecContext(ctx, q, args...)
			if err != nil {
				return 0, fmt.Errorf("erase person: %w", err)
			}
			return res.RowsAffected()
		}
		for _, u := range users {
			steps := []struct {
				q    string
				args []any
			}{
				{`UPDATE users SET email = $2, name = $3, password_hash = NULL, person_id = $4, updated_at = $5,
					disabled_at = COALESCE(disabled_at, $5) WHERE id = $1`, []any{u, "erased-" + u + "@erased.invalid", e.Name, personID, now}},
				{"DELETE FROM user_sessions WHERE user_id = $1", []any{u}},
				// Single sign-on: the links to providers hold the email and the subject.
				{"DELETE FROM user_identities WHERE user_id = $1", []any{u}},
				{"UPDATE incident_messages SET person_name = $2 WHERE person_id = $1", []any{u, e.Name}},
			}
			for _, s := range steps {
				if _, err := exec(s.q, s.args...); err != nil {
					return err
				}
			}
		}
		e.Users = len(users)
		if _, err := exec(`UPDATE people SET name = $2, email = $3, phone = '', external_id = '', time_zone = '', active = 0,
			phone_verified_at = NULL, sms_opted_out_at = NULL, last_reached_at = NULL, manager_id = NULL, updated_at = $4,
			phone2 = '', phone2_verified_at = NULL, contact_email = '', channel_order = '' WHERE id = $1`,
			personID, e.Name, erasedEmail, now); err != nil {
			return err
		}
		if _, err := exec("UPDATE people SET manager_id = NULL WHERE manager_id = $1", personID); err != nil {
			return err
		}
		for _, q := range []string{"DELETE FROM phone_verifications WHERE person_id = $1", "DELETE FROM team_members WHERE person_id = $1",
			"DELETE FROM non_alert_sms WHERE person_id = $1",
			// sites: where they worked, and links asking them to reconfirm a phone (docs/sites.md)
			"DELETE FROM person_sites WHERE person_id = $1", "DELETE FROM phone_confirm_links WHERE person_id = $1"} {
			if _, err := exec(q, personID); err != nil {
				return err
			}
		}
		if e.PushRemoved, err = exec("DELETE FROM push_subscriptions WHERE person_id = $1", personID); err != nil {
			return err
		}
		if e.Cancelled, err = exec(`UPDATE deliveries SET status = 'failed', error = 'the person was erased', failed_at = $2, updated_at = $2,
			lease_owner = NULL, lease_until = NULL WHERE recipient = $1 AND status IN ('queued', 'sending')`, personID, now); err != nil {
			return err
		}
		if e.Deliveries, err = exec(`UPDATE deliveries SET address = '', title = '', body = '', url = '' WHERE recipient = $1`, personID); err != nil {
			return err
		}
		for _, q := range []string{"UPDATE incident_recipients SET name = $2 WHERE person_id = $1", "UPDATE incident_acks SET name = $2 WHERE person_id = $1",
			"UPDATE incident_messages SET person_name = $2 WHERE person_id = $1"} {
			if _, err := exec(q, personID, e.Name); err != nil {
				return err
			}
		}
		// The incidents they declared keep an anonymous reporter.
		reporters := append([]string{personID}, users...)
		for _, id := range reporters {
			n, err := renameReporter(ctx, tx, id, e.Name)
			if err != nil {
				return err
			}
			e.IncidentsNamed += n
		}
		data, err := json.Marshal(map[string]any{"person_id": personID, "name": e.Name, "reason": reason, "users": users,
			"deliveries": e.Deliveries, "cancelled": e.Cancelled, "push_subscriptions_removed": e.PushRemoved})
		if err != nil {
			return err
		}
		_, err = tx.appendEvent(ctx, optimum.Event{Type: EventPersonErased, At: at, Actor: &actor, Data: data})
		return err
	})
	return e, err
}

// renameReporter puts the anonymous name on the incidents the actor declared.
func renameReporter(ctx context.Context, tx *eventTx, reporterID, name string) (int, error) {
	rows, err := tx.QueryContext(ctx, "SELECT id, doc FROM incidents WHERE reporter_id = $1", reporterID)
	if err != nil {
		return 0, fmt.Errorf("erase person: %w", err)
	}
	type doc struct{ id, doc string }
	var docs []doc
	for rows.Next() {
		var d doc
		if err := rows.Scan(&d.id, &d.doc); err != nil {
			rows.Close()
			return 0, err
		}
		docs = append(docs, d)
	}
	rows.Close()
	for _, d := range docs {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(d.doc), &m); err != nil {
			return 0, fmt.Errorf("erase person: incident %s: %w", d.id, err)
		}
		var rep map[string]any
		if err := json.Unmarshal(m["reporter"], &rep); err != nil || rep == nil {
			continue
		}
		rep["name"] = name
		if m["reporter"], err = json.Marshal(rep); err != nil {
			return 0, err
		}
		b, err := json.Marshal(m)
		if err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE incidents SET doc = $2 WHERE id = $1", d.id, string(b)); err != nil {
			return 0, fmt.Errorf("erase person: %w", err)
		}
	}
	return len(docs), nil
}

// Retention is how long delivery attempts and webhook records are kept; 0 keeps them.
type Retention struct {
	DeliveryAttempts time.Duration
	WebhookCalls     time.Duration
}

// EventRetentionApplied records a retention run and what it deleted.
const EventRetentionApplied = "retention.applied"

// ApplyRetention deletes the delivery attempts and webhook records older than the
// retention, in one transaction that appends retention.applied with the counts (when
// anything was deleted).
func (db *DB) ApplyRetention(ctx context.Context, r Retention, now time.Time) (attempts, webhooks int64, err error) {
	err = db.eventsTx(ctx, func(tx *eventTx) error {
		if r.DeliveryAttempts > 0 {
			// The attempts of alerts and of chat and webhook posts alike.
			for _, q := range []string{"DELETE FROM delivery_attempts WHERE started_at < $1", "DELETE FROM chat_post_attempts WHERE started_at < $1"} {
				res, err := tx.ExecContext(ctx, q, millis(now.Add(-r.DeliveryAttempts)))
				if err != nil {
					return fmt.Errorf("retention: %w", err)
				}
				n, _ := res.RowsAffected()
				attempts += n
			}
		}
		if r.WebhookCalls > 0 {
			res, err := tx.ExecContext(ctx, "DELETE FROM webhook_calls WHERE received_at < $1", millis(now.Add(-r.WebhookCalls)))
			if err != nil {
				return fmt.Errorf("retention: %w", err)
			}
			webhooks, _ = res.RowsAffected()
		}
		if attempts == 0 && webhooks == 0 {
			return nil
		}
		data, _ := json.Marshal(map[string]any{"delivery_attempts": attempts, "webhook_calls": webhooks,
			"delivery_attempts_before": now.Add(-r.DeliveryAttempts).UTC(), "webhook_calls_before": now.Add(-r.WebhookCalls).UTC()})
		_, err := tx.appendEvent(ctx, optimum.Event{Type: EventRetentionApplied, At: now, Actor: &optimum.System, Data: data})
		return err
	})
	return attempts, webhooks, err
}
