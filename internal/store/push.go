package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast/webpush"
	"github.com/optimum-bcp/optimum/contacts"
)

// MaxBrowsersPerPerson bounds a person's subscriptions: subscribing one more browser
// drops the oldest (reinstalled browsers leave dead endpoints behind that nothing else
// would ever prune).
const MaxBrowsersPerPerson = 20

// Push keeps the browsers subscribed to web push, per person. Changes append
// "push.subscribed" and "push.unsubscribed" events (with the person, the subscription id
// and the push service's host; never the endpoint or keys) in the same transaction.
type Push struct{ db *DB }

// Push returns the web push subscription store.
func (db *DB) Push() *Push { return &Push{db: db} }

// pushEvent is the data of push.subscribed and push.unsubscribed.
type pushEvent struct {
	PersonID       string `json:"person_id"`
	SubscriptionID string `json:"subscription_id"`
	EndpointHost   string `json:"endpoint_host"`
	// Reason says why a subscription went: "unsubscribed" (by the person), "gone" (the
	// push service answered 404 or 410) or "replaced" (over MaxBrowsersPerPerson); on
	// push.subscribed, "keys changed" when a known browser sent new keys.
	Reason string `json:"reason,omitempty"`
	// FromPersonID is who the browser was subscribed for before, when it moved.
	FromPersonID string `json:"from_person_id,omitempty"`
}

func (tx *eventTx) appendPushEvent(ctx context.Context, typ string, at time.Time, e pushEvent) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	actor := optimum.System
	if a, ok := optimum.ActorFrom(ctx); ok {
		actor = a
	}
	_, err = tx.appendEvent(ctx, optimum.Event{Type: typ, At: at, Actor: &actor, Data: data})
	return err
}

const browserColumns = "id, person_id, endpoint, p256dh, auth, user_agent, created_at, last_success_at, last_failure_at"

func scanBrowser(row interface{ Scan(...any) error }) (webpush.Browser, error) {
	var (
		b                webpush.Browser
		created          int64
		success, failure sql.NullInt64
	)
	err := row.Scan(&b.ID, &b.PersonID, &b.Endpoint, &b.Keys.P256dh, &b.Keys.Auth, &b.UserAgent, &created, &success, &failure)
	b.CreatedAt, b.LastSuccessAt, b.LastFailureAt = fromMillis(created), timePtr(success), timePtr(failure)
	return b, err
}

// Save subscribes a browser for the person, keyed by its endpoint: a new endpoint is
// added (dropping the person's oldest beyond MaxBrowsersPerPerson), a known one gets the
// keys and user agent sent now and, if it belonged to someone else, moves to this person
// (a shared computer that another person signed in on). created reports whether the
// subscription is new to the person. Saving the same subscription again changes nothing
// and appends no event, so a web app may re-send it on every visit.
func (s *Push) Save(ctx context.Context, personID string, sub webpush.Subscription, userAgent string) (b webpush.Browser, created bool, err error) {
	userAgent = truncate(strings.TrimSpace(userAgent), 300)
	now := nowUTC().Truncate(time.Millisecond)
	err = s.db.eventsTx(ctx, func(tx *eventTx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM people WHERE id = $1", personID).Scan(&n); err != nil {
			return fmt.Errorf("save push subscription: %w", err)
		}
		if n == 0 {
			return optimum.Errorf(optimum.ENOTFOUND, "Nobody in the directory has the id %q.", truncate(personID, 60))
		}
		old, err := scanBrowser(tx.QueryRowContext(ctx, "SELECT "+browserColumns+" FROM push_subscriptions WHERE endpoint = $1", sub.Endpoint))
		e := pushEvent{PersonID: personID, EndpointHost: sub.Host()}
		switch {
		case errors.Is(err, sql.ErrNoRows):
			b = webpush.Browser{ID: optimum.NewID("psb"), PersonID: personID, Subscription: sub, UserAgent: userAgent, CreatedAt: now}
			_, err = tx.ExecContext(ctx, `INSERT INTO push_subscriptions (id, person_id, endpoint, p256dh, auth, user_agent, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, b.ID, personID, sub.Endpoint, sub.Keys.P256dh, sub.Keys.Auth, userAgent, millis(now))
			created = true
		case err != nil:
		case old.PersonID == personID && old.Keys == sub.Keys:
			// The same browser sending its subscription again: nothing to record.
			b = old
			if userAgent != "" && userAgent != old.UserAgent {
				b.UserAgent = userAgent
				_, err = tx.ExecContext(ctx, "UPDATE push_subscriptions SET user_agent = $2 WHERE id = $1", old.ID, userAgent)
			}
			return err
		case old.PersonID != personID:
			// An endpoint is a capability: whoever sends one that is another person's
			// either shares their browser or copied it. Moving it silently would take that
			// person's alerts away from them; they (or their browser) must let it go first,
			// and a browser can always subscribe anew, getting a new endpoint.
			return optimum.Errorf(optimum.ECONFLICT, "This browser's notifications are registered to another person; they must turn them off first, or subscribe this browser again.")
		default:
			b = old
			b.Subscription, b.UserAgent, b.LastFailureAt = sub, userAgent, nil
			e.Reason = "keys changed"
			_, err = tx.ExecContext(ctx, `UPDATE push_subscriptions SET person_id = $2, p256dh = $3, auth = $4, user_agent = $5,
				created_at = $6, last_success_at = $7, last_failure_at = NULL WHERE id = $1`,
				b.ID, b.PersonID, sub.Keys.P256dh, sub.Keys.Auth, userAgent, millis(b.CreatedAt), nullMillis(b.LastSuccessAt))
		}
		if err != nil {
			return fmt.Errorf("save push subscription: %w", err)
		}
		e.SubscriptionID = b.ID
		if err := tx.appendPushEvent(ctx, "push.subscribed", now, e); err != nil {
			return err
		}
		if !created {
			return nil
		}
		return dropOldest(ctx, tx, personID, now)
	})
	if err != nil {
		return webpush.Browser{}, false, err
	}
	return b, created, nil
}

// dropOldest removes the person's oldest subscriptions beyond MaxBrowsersPerPerson.
func dropOldest(ctx context.Context, tx *eventTx, personID string, now time.Time) error {
	rows, err := tx.QueryContext(ctx, "SELECT id, endpoint FROM push_subscriptions WHERE person_id = $1 ORDER BY created_at DESC, id DESC", personID)
	if err != nil {
		return fmt.Errorf("drop old push subscriptions: %w", err)
	}
	var drop [][2]string
	for i := 0; rows.Next(); i++ {
		var id, endpoint string
		if err := rows.Scan(&id, &endpoint); err != nil {
			rows.Close()
			return err
		}
		if i >= MaxBrowsersPerPerson {
			drop = append(drop, [2]string{id, endpoint})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, d := range drop {
		if _, err := tx.ExecContext(ctx, "DELETE FROM push_subscriptions WHERE id = $1", d[0]); err != nil {
			return fmt.Errorf("drop old push subscriptions: %w", err)
		}
		e := pushEvent{PersonID: personID, SubscriptionID: d[0], EndpointHost: webpush.EndpointHost(d[1]), Reason: "replaced"}
		if err := tx.appendPushEvent(ctx, "push.unsubscribed", now, e); err != nil {
			return err
		}
	}
	return nil
}

// Delete unsubscribes the person's browser with the endpoint. It reports whether there
// was one: an endpoint of someone else's is left alone.
func (s *Push) Delete(ctx context.Context, personID, endpoint string) (bool, error) {
	return s.delete(ctx, "person_id = $2 AND endpoint = $1", "unsubscribed", endpoint, personID)
}

// DeleteID unsubscribes the person's browser with the subscription id, reporting
// whether there was one.
func (s *Push) DeleteID(ctx context.Context, personID, id string) (bool, error) {
	return s.delete(ctx, "person_id = $2 AND id = $1", "unsubscribed", id, personID)
}

// DeleteEndpoint removes the subscription with the endpoint, whoever it belongs to: for
// a push service's 404 or 410. It reports whether there was one.
func (s *Push) DeleteEndpoint(ctx context.Context, endpoint string) (bool, error) {
	return s.delete(ctx, "endpoint = $1", "gone", endpoint)
}

func (s *Push) delete(ctx context.Context, where, reason string, args ...any) (bool, error) {
	var found bool
	err := s.db.eventsTx(ctx, func(tx *eventTx) error {
		var id, person, endpoint string
		err := tx.QueryRowContext(ctx, "DELETE FROM push_subscriptions WHERE "+where+" RETURNING id, person_id, endpoint", args...).Scan(&id, &person, &endpoint)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("delete push subscription: %w", err)
		}
		found = true
		e := pushEvent{PersonID: person, SubscriptionID: id, EndpointHost: webpush.EndpointHost(endpoint), Reason: reason}
		return tx.appendPushEvent(ctx, "push.unsubscribed", nowUTC(), e)
	})
	return found, err
}

// ForPerson returns the person's browsers, oldest first.
func (s *Push) ForPerson(ctx context.Context, personID string) ([]webpush.Browser, error) {
	rows, err := s.db.read.QueryContext(ctx, "SELECT "+browserColumns+" FROM push_subscriptions WHERE person_id = $1 ORDER BY created_at, id", personID)
	if err != nil {
		return nil, fmt.Errorf("push subscriptions: %w", err)
	}
	defer rows.Close()
	out := []webpush.Browser{}
	for rows.Next() {
		b, err := scanBrowser(rows)
		if err != nil {
			return nil, fmt.Errorf("push subscriptions: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// MarkSent records that the push service accepted a message for the endpoint.
func (s *Push) MarkSent(ctx context.Context, endpoint string, at time.Time) error {
	_, err := s.db.write.ExecContext(ctx, "UPDATE push_subscriptions SET last_success_at = $2 WHERE endpoint = $1", endpoint, millis(at))
	return err
}

// MarkFailed records that a send to the endpoint failed (and the subscription stays).
func (s *Push) MarkFailed(ctx context.Context, endpoint string, at time.Time) error {
	_, err := s.db.write.ExecContext(ctx, "UPDATE push_subscriptions SET last_failure_at = $2 WHERE endpoint = $1", endpoint, millis(at))
	return err
}

// CountByPerson returns how many browsers each person has subscribed (people without
// any are absent).
func (s *Push) CountByPerson(ctx context.Context) (map[string]int, error) {
	return pushCounts(ctx, s.db.read, nil)
}

func pushCounts(ctx context.Context, q rowQueryer, ids []string) (map[string]int, error) {
	query := "SELECT person_id, count(*) FROM push_subscriptions GROUP BY person_id"
	var args []any
	if len(ids) > 0 && len(ids) <= 500 {
		ph := make([]string, len(ids))
		for i, id := range ids {
			args = append(args, id)
			ph[i] = fmt.Sprintf("$%d", i+1)
		}
		query = "SELECT person_id, count(*) FROM push_subscriptions WHERE person_id IN (" + strings.Join(ph, ", ") + ") GROUP BY person_id"
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("push subscription counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("push subscription counts: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}

// withPushCounts fills Channels.PushSubscriptions of people loaded with q, passing an
// earlier error through; loadPeople in contacts.go ends with
// "return withPushCounts(ctx, q, people, mrows.Err())".
func withPushCounts(ctx context.Context, q rowQueryer, people []contacts.Person, err error) ([]contacts.Person, error) {
	if err != nil || len(people) == 0 {
		return people, err
	}
	ids := make([]string, len(people))
	for i, p := range people {
		ids[i] = p.ID
	}
	counts, err := pushCounts(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	for i := range people {
		people[i].Channels.PushSubscriptions = counts[people[i].ID]
	}
	return people, nil
}
