package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/chat"
	"github.com/optimum-bcp/optimum/incident"
)

// Events of chat subscriptions (their data never holds a URL, token or secret).
const (
	EventChatCreated = "chat.subscription_created"
	EventChatDeleted = "chat.subscription_deleted"
	EventChatResumed = "chat.subscription_resumed"
	EventChatBroken  = "chat.subscription_broken"
)

// Chat keeps team chat channels and webhook subscriptions, the event-log consumer's
// posts (incident.ChatStore), and is the chat dispatcher's queue (broadcast.Queue) and
// the senders' lookup of credentials (chat.Targets).
type Chat struct {
	db *DB
	// RetryFor is how long a post is retried (429, 5xx, timeouts) before it is given up.
	RetryFor time.Duration
}

// Chat returns the chat store.
func (db *DB) Chat() *Chat { return &Chat{db: db, RetryFor: 24 * time.Hour} }

var (
	_ incident.ChatStore = (*Chat)(nil)
	_ broadcast.Queue    = (*Chat)(nil)
	_ chat.Targets       = (*Chat)(nil)
)

const chatSubscriptionColumns = `id, kind, name, team_id, url, channel, events, language, created_at, created_by, broken_at, broken_reason`

func scanSubscription(row interface{ Scan(...any) error }) (chat.Subscription, error) {
	var (
		s         chat.Subscription
		rawURL    string
		events    string
		at        int64
		brokenAt  sql.NullInt64
		createdBy string
	)
	if err := row.Scan(&s.ID, &s.Kind, &s.Name, &s.Team, &rawURL, &s.Channel, &events, &s.Language, &at, &createdBy, &brokenAt, &s.BrokenReason); err != nil {
		return s, err
	}
	if u, err := url.Parse(rawURL); err == nil {
		s.Host = u.Hostname()
	}
	s.Events = strings.Fields(events)
	s.CreatedAt, s.CreatedBy = fromMillis(at), createdBy
	if brokenAt.Valid {
		t := fromMillis(brokenAt.Int64)
		s.BrokenAt = &t
	}
	return s, nil
}

// CreateSubscription stores a new subscription with its credentials. A team chat's team
// must be an active team of the directory.
func (c *Chat) CreateSubscription(ctx context.Context, s chat.Subscription, cred chat.Credentials, actor optimum.Actor, at time.Time) (chat.Subscription, error) {
	s.ID, s.CreatedAt, s.CreatedBy = optimum.NewID("chs"), at.UTC().Truncate(time.Millisecond), actor.Name
	err := c.db.eventsTx(ctx, func(tx *eventTx) error {
		if s.Kind != chat.ChannelWebhook {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM teams WHERE id = $1 AND active = 1", s.Team).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return optimum.Invalid("The chat channel has errors.", []optimum.FieldError{{Field: "team", Message: fmt.Sprintf("%q is not a team", s.Team)}})
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO chat_subscriptions (id, kind, name, team_id, url, token, channel, secret, events, language, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			s.ID, s.Kind, s.Name, s.Team, cred.URL, cred.Token, s.Channel, cred.Secret, strings.Join(s.Events, " "), s.Language, millis(s.CreatedAt), s.CreatedBy); err != nil {
			return fmt.Errorf("create chat subscription: %w", err)
		}
		return c.event(ctx, tx, EventChatCreated, s, actor, at, "")
	})
	if err != nil {
		return chat.Subscription{}, err
	}
	if u, err := url.Parse(cred.URL); err == nil {
		s.Host = u.Hostname()
	}
	return s, nil
}

func (c *Chat) event(ctx context.Context, tx *eventTx, typ string, s chat.Subscription, actor optimum.Actor, at time.Time, reason string) error {
	d := map[string]any{"id": s.ID, "kind": s.Kind, "name": s.Name}
	if s.Team != "" {
		d["team"] = s.Team
	}
	if len(s.Events) > 0 {
		d["events"] = s.Events
	}
	if reason != "" {
		d["reason"] = reason
	}
	data, _ := json.Marshal(d)
	_, err := tx.appendEvent(ctx, optimum.Event{Type: typ, At: at, Actor: &actor, Data: data})
	return err
}

// Subscriptions returns the subscriptions not deleted, of one kind group: webhooks, or
// team chats (teams and slack), oldest first.
func (c *Chat) Subscriptions(ctx context.Context, webhooks bool) ([]chat.Subscription, error) {
	cond := "kind <> 'webhook'"
	if webhooks {
		cond = "kind = 'webhook'"
	}
	rows, err := c.db.read.QueryContext(ctx, `SELECT `+chatSubscriptionColumns+` FROM chat_subscriptions
		WHERE deleted_at IS NULL AND `+cond+` ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("chat subscriptions: %w", err)
	}
	defer rows.Close()
	out := []chat.Subscription{}
	for rows.Next() {
		s, err := scanSubscription(rows)
		if err != nil {
			return nil, fmt.Errorf("chat subscriptions: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Broken returns the subscriptions marked broken, for readiness.
func (c *Chat) Broken(ctx context.Context) ([]chat.Subscription, error) {
	rows, err := c.db.read.QueryContext(ctx, `SELECT `+chatSubscriptionColumns+` FROM chat_subscriptions
		WHERE deleted_at IS NULL AND broken_at IS NOT NULL ORDER BY broken_at, id`)
	if err != nil {
		return nil, fmt.Errorf("broken chat subscriptions: %w", err)
	}
	defer rows.Close()
	out := []chat.Subscription{}
	for rows.Next() {
		s, err := scanSubscription(rows)
		if err != nil {
			return nil, fmt.Errorf("broken chat subscriptions: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Subscription returns one subscription not deleted, of the kind group; ENOTFOUND if none.
func (c *Chat) Subscription(ctx context.Context, id string, webhooks bool) (chat.Subscription, error) {
	s, err := scanSubscription(c.db.read.QueryRowContext(ctx, `SELECT `+chatSubscriptionColumns+` FROM chat_subscriptions
		WHERE id = $1 AND deleted_at IS NULL`, id))
	if err == nil && (s.Kind == chat.ChannelWebhook) != webhooks {
		err = sql.ErrNoRows
	}
	if err != nil {
		return s, notFound(err, "There is no chat channel or webhook %s.", id)
	}
	return s, nil
}

// DeleteSubscription deletes a subscription: its queued posts are cancelled.
func (c *Chat) DeleteSubscription(ctx context.Context, id string, webhooks bool, actor optimum.Actor, at time.Time) error {
	s, err := c.Subscription(ctx, id, webhooks)
	if err != nil {
		return err
	}
	return c.db.eventsTx(ctx, func(tx *eventTx) error {
		res, err := tx.ExecContext(ctx, "UPDATE chat_subscriptions SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL", id, millis(at))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return optimum.Errorf(optimum.ENOTFOUND, "There is no chat channel or webhook %s.", id)
		}
		if err := cancelPosts(ctx, tx, id, at, "the subscription was deleted"); err != nil {
			return err
		}
		return c.event(ctx, tx, EventChatDeleted, s, actor, at, "")
	})
}

// ResumeSubscription clears a subscription's broken mark: it gets the posts of events
// from now on (those of the time it was broken were not queued).
func (c *Chat) ResumeSubscription(ctx context.Context, id string, webhooks bool, actor optimum.Actor, at time.Time) (chat.Subscription, error) {
	s, err := c.Subscription(ctx, id, webhooks)
	if err != nil {
		return s, err
	}
	if s.BrokenAt == nil {
		return s, nil
	}
	err = c.db.eventsTx(ctx, func(tx *eventTx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE chat_subscriptions SET broken_at = NULL, broken_reason = '' WHERE id = $1", id); err != nil {
			return err
		}
		return c.event(ctx, tx, EventChatResumed, s, actor, at, "")
	})
	s.BrokenAt, s.BrokenReason = nil, ""
	return s, err
}

func cancelPosts(ctx context.Context, tx *eventTx, subscription string, at time.Time, reason string) error {
	_, err := tx.ExecContext(ctx, `UPDATE chat_posts SET status = 'cancelled', error = $3, failed_at = $2, updated_at = $2
		WHERE subscription_id = $1 AND status = 'queued'`, subscription, millis(at), reason)
	return err
}

// Target returns a subscription's credentials for a send.
func (c *Chat) Target(ctx context.Context, id string) (chat.Target, error) {
	var (
		t        chat.Target
		broken   sql.NullInt64
		deleted  sql.NullInt64
		readConn = c.db.read
	)
	err := readConn.QueryRowContext(ctx, `SELECT id, kind, url, token, channel, secret, broken_at, deleted_at
		FROM chat_subscriptions WHERE id = $1`, id).Scan(&t.ID, &t.Kind, &t.URL, &t.Token, &t.Channel, &t.Secret, &broken, &deleted)
	if errors.Is(err, sql.ErrNoRows) || deleted.Valid {
		return t, fmt.Errorf("%w: %s", chat.ErrNoTarget, id)
	}
	if err != nil {
		return t, fmt.Errorf("chat target: %w", err)
	}
	t.Broken = broken.Valid
	return t, nil
}

// Posts returns a subscription's latest posts, newest first, with their attempts.
func (c *Chat) Posts(ctx context.Context, subscription string, limit int) ([]chat.PostState, error) {
	return c.posts(ctx, "p.subscription_id = $1", subscription, limit)
}

// IncidentPosts returns the posts about an incident, to every subscription, newest
// first, with their attempts and the subscription's name and kind.
func (c *Chat) IncidentPosts(ctx context.Context, incidentID string, limit int) ([]chat.PostState, error) {
	return c.posts(ctx, "p.incident_id = $1", incidentID, limit)
}

func (c *Chat) posts(ctx context.Context, where, arg string, limit int) ([]chat.PostState, error) {
	rows, err := c.db.read.QueryContext(ctx, `SELECT p.id, p.event_id, p.incident_id, p.title, p.status, p.error, p.created_at, p.sent_at,
			s.id, s.kind, s.name, s.team_id
		FROM chat_posts p JOIN chat_subscriptions s ON s.id = p.subscription_id
		WHERE `+where+` ORDER BY p.created_at DESC, p.event_id DESC, p.id LIMIT $2`, arg, limit)
	if err != nil {
		return nil, fmt.Errorf("chat posts: %w", err)
	}
	out := []chat.PostState{}
	var ids []any
	pos := map[string]int{}
	for rows.Next() {
		var (
			p       chat.PostState
			inc     sql.NullString
			created int64
			sent    sql.NullInt64
		)
		if err := rows.Scan(&p.ID, &p.EventID, &inc, &p.Title, &p.Status, &p.Error, &created, &sent, &p.Subscription, &p.Kind, &p.Name, &p.Team); err != nil {
			rows.Close()
			return nil, fmt.Errorf("chat posts: %w", err)
		}
		p.IncidentID, p.CreatedAt, p.Attempts = inc.String, fromMillis(created), []chat.Attempt{}
		if sent.Valid {
			t := fromMillis(sent.Int64)
			p.SentAt = &t
		}
		pos[p.ID] = len(out)
		ids = append(ids, p.ID)
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	marks := make([]string, len(ids))
	for i := range ids {
		marks[i] = fmt.Sprintf("$%d", i+1)
	}
	att, err := c.db.read.QueryContext(ctx, `SELECT post_id, attempt, started_at, ended_at, outcome, reason
		FROM chat_post_attempts WHERE post_id IN (`+strings.Join(marks, ", ")+`) ORDER BY post_id, attempt`, ids...)
	if err != nil {
		return nil, fmt.Errorf("chat post attempts: %w", err)
	}
	defer att.Close()
	for att.Next() {
		var (
			id      string
			a       chat.Attempt
			started int64
			ended   sql.NullInt64
		)
		if err := att.Scan(&id, &a.Attempt, &started, &ended, &a.Outcome, &a.Reason); err != nil {
			return nil, fmt.Errorf("chat post attempts: %w", err)
		}
		a.StartedAt = fromMillis(started)
		if ended.Valid {
			t := fromMillis(ended.Int64)
			a.EndedAt = &t
		}
		if i, ok := pos[id]; ok {
			out[i].Attempts = append(out[i].Attempts, a)
		}
	}
	return out, att.Err()
}

// Consume runs fn for the events after the consumer's cursor, with the cursor.
func (c *Chat) Consume(ctx context.Context, consumer string, limit int, fn func(incident.ChatTx, optimum.Event) error) (int, error) {
	return c.db.consume(ctx, consumer, limit, func(tx *eventTx, e optimum.Event) error { return fn(chatTx{tx, c}, e) })
}

type chatTx struct {
	tx *eventTx
	c  *Chat
}

// Subscriptions returns the subscriptions that are neither deleted nor broken.
func (t chatTx) Subscriptions(ctx context.Context) ([]incident.ChatSubscription, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT id, kind, team_id, language, events FROM chat_subscriptions
		WHERE deleted_at IS NULL AND broken_at IS NULL ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("chat subscriptions: %w", err)
	}
	defer rows.Close()
	var out []incident.ChatSubscription
	for rows.Next() {
		var (
			s      incident.ChatSubscription
			events string
		)
		if err := rows.Scan(&s.ID, &s.Kind, &s.Team, &s.Language, &events); err != nil {
			return nil, fmt.Errorf("chat subscriptions: %w", err)
		}
		s.Events = strings.Fields(events)
		out = append(out, s)
	}
	return out, rows.Err()
}

// Post queues the posts; a post of an event already queued for the subscription is
// left as it is.
func (t chatTx) Post(ctx context.Context, ps []incident.ChatPost) error {
	now := nowUTC()
	for _, p := range ps {
		cp := chat.Post{Title: p.Title, Text: p.Text, Button: p.Button, URL: p.URL, Drill: p.Drill, Body: p.Body}
		for _, f := range p.Facts {
			cp.Facts = append(cp.Facts, chat.Fact{Name: f[0], Value: f[1]})
		}
		body, err := json.Marshal(cp)
		if err != nil {
			return fmt.Errorf("chat post: %w", err)
		}
		at := p.At
		if at.IsZero() {
			at = now
		}
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO chat_posts (id, subscription_id, event_id, incident_id, channel, title, body, status,
				due_at, deadline, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8, $9, $8, $8) ON CONFLICT (subscription_id, event_id) DO NOTHING`,
			optimum.NewID("msg"), p.SubscriptionID, p.EventID, nullString(p.IncidentID), p.Kind, truncate(p.Title, 300), string(body),
			millis(now), millis(at.Add(t.c.RetryFor))); err != nil {
			return fmt.Errorf("queue chat post: %w", err)
		}
	}
	return nil
}

// Claim leases up to limit due posts of one channel: queued ones whose time has come and
// ones whose sending lease ran out (their sender died; they are sent again, with the
// same webhook-id, and the old attempt is marked resent); at most one at a time of each
// subscription, in event order.
func (c *Chat) Claim(ctx context.Context, owner, channel string, now time.Time, lease time.Duration, limit int) ([]broadcast.Delivery, error) {
	if !slices.Contains(chat.Channels, channel) {
		return nil, nil
	}
	// A channel reads its posts in the order of the events: a post waits while an earlier
	// one of its subscription is still queued or being sent (a retry holds the ones after
	// it), so "Resuelto" never lands before the update that preceded it.
	const due = `FROM chat_posts WHERE channel = $1 AND ((status = 'queued' AND due_at <= $2) OR (status = 'sending' AND lease_until < $2))
		AND NOT EXISTS (SELECT 1 FROM chat_posts e WHERE e.subscription_id = chat_posts.subscription_id
			AND e.event_id < chat_posts.event_id AND e.status IN ('queued', 'sending'))`
	var n int
	if err := c.db.read.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 "+due+" LIMIT 1) x", channel, millis(now)).Scan(&n); err != nil {
		return nil, fmt.Errorf("claim chat posts: %w", err)
	}
	if n == 0 {
		return nil, nil // looked on a read connection: polling never takes the writer
	}
	var out []broadcast.Delivery
	err := c.db.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, subscription_id, channel, title, body, status, attempts, due_at, deadline, incident_id
			`+due+` ORDER BY due_at, id LIMIT $3`+c.db.d.skipLocked, channel, millis(now), limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			var (
				d             broadcast.Delivery
				dueAt, dl     int64
				inc           sql.NullString
				title, status string
			)
			if err := rows.Scan(&d.DeliveryID, &d.To, &d.Channel, &title, &d.Text, &status, &d.Attempts, &dueAt, &dl, &inc); err != nil {
				rows.Close()
				return err
			}
			d.Title, d.Status, d.DueAt, d.Deadline, d.Subject, d.Recipient = title, status, fromMillis(dueAt), fromMillis(dl), inc.String, d.To
			out = append(out, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range out {
			d := &out[i]
			if d.Status == broadcast.StatusSending {
				d.Resent = true
				if _, err := tx.ExecContext(ctx, `UPDATE chat_post_attempts SET outcome = 'resent', ended_at = $3, reason = $4
					WHERE post_id = $1 AND attempt = $2`, d.DeliveryID, d.Attempts, millis(now), resentReason); err != nil {
					return err
				}
			}
			d.Attempts++
			if _, err := tx.ExecContext(ctx, `UPDATE chat_posts SET status = 'sending', attempts = $2, lease_owner = $3, lease_until = $4, updated_at = $5
				WHERE id = $1`, d.DeliveryID, d.Attempts, owner, millis(now.Add(lease)), millis(now)); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO chat_post_attempts (post_id, attempt, started_at, outcome) VALUES ($1, $2, $3, 'sending')`,
				d.DeliveryID, d.Attempts, millis(now)); err != nil {
				return err
			}
			d.Status = broadcast.StatusSending
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim chat posts: %w", err)
	}
	return out, nil
}

// Extend renews the lease of a post's current attempt.
func (c *Chat) Extend(ctx context.Context, id string, attempt int, until time.Time) (bool, error) {
	var n int64
	err := c.db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE chat_posts SET lease_until = $3 WHERE id = $1 AND attempts = $2 AND status = 'sending'",
			id, attempt, millis(until))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("extend a chat post's lease: %w", err)
	}
	return n == 1, nil
}

// finishChat records an attempt's outcome if it is still the current one.
func finishChat(ctx context.Context, tx *sql.Tx, id string, attempt int, at time.Time, outcome, reason, set string, args ...any) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE chat_post_attempts SET outcome = $3, reason = $4, ended_at = $5
		WHERE post_id = $1 AND attempt = $2 AND outcome = 'sending'`, id, attempt, outcome, truncate(reason, 500), millis(at))
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	_, err = tx.ExecContext(ctx, "UPDATE chat_posts SET "+set+", lease_owner = NULL, lease_until = NULL, updated_at = $3 WHERE id = $1 AND attempts = $2",
		append([]any{id, attempt, millis(at)}, args...)...)
	return err == nil, err
}

// Sent records that the endpoint accepted the post.
func (c *Chat) Sent(ctx context.Context, id string, attempt int, at time.Time) error {
	return c.db.tx(ctx, func(tx *sql.Tx) error {
		_, err := finishChat(ctx, tx, id, attempt, at, "sent", "", "status = 'sent', sent_at = $3, error = ''")
		return err
	})
}

// SentVia records that the service accepted the post, with what it answered as the
// attempt's reason ("the endpoint answered 202 Accepted", "slack answered ok …"): the
// chat senders are broadcast.ProviderSenders whose "provider" is that answer.
func (c *Chat) SentVia(ctx context.Context, id string, attempt int, at time.Time, answer string) error {
	return c.db.tx(ctx, func(tx *sql.Tx) error {
		_, err := finishChat(ctx, tx, id, attempt, at, "sent", answer, "status = 'sent', sent_at = $3, error = ''")
		return err
	})
}

// RetryVia is Retry: a refused post's reason already says what the service answered.
func (c *Chat) RetryVia(ctx context.Context, id string, attempt int, at, next time.Time, reason, _ string) error {
	return c.Retry(ctx, id, attempt, at, next, reason)
}

// FailedVia is Failed: a refused post's reason already says what the service answered.
func (c *Chat) FailedVia(ctx context.Context, id string, attempt int, at time.Time, reason string, gone bool, _ string) error {
	return c.Failed(ctx, id, attempt, at, reason, gone)
}

// Retry puts the post back for a later attempt.
func (c *Chat) Retry(ctx context.Context, id string, attempt int, at, next time.Time, reason string) error {
	return c.db.tx(ctx, func(tx *sql.Tx) error {
		_, err := finishChat(ctx, tx, id, attempt, at, "retry", reason, "status = 'queued', due_at = $4, error = $5", millis(next), truncate(reason, 500))
		return err
	})
}

// Failed records a final failure. gone says the endpoint no longer exists (404, 410, an
// address the guard refuses): the subscription is marked broken, with an event, its
// queued posts are cancelled, and it gets no more posts until it is resumed.
func (c *Chat) Failed(ctx context.Context, id string, attempt int, at time.Time, reason string, gone bool) error {
	return c.db.eventsTx(ctx, func(tx *eventTx) error {
		current, err := finishChat(ctx, tx.Tx, id, attempt, at, "failed", reason, "status = 'failed', failed_at = $3, error = $4", truncate(reason, 500))
		if err != nil || !current || !gone {
			return err
		}
		var sub string
		if err := tx.QueryRowContext(ctx, "SELECT subscription_id FROM chat_posts WHERE id = $1", id).Scan(&sub); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE chat_subscriptions SET broken_at = $2, broken_reason = $3
			WHERE id = $1 AND broken_at IS NULL AND deleted_at IS NULL`, sub, millis(at), truncate(reason, 500))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		if err := cancelPosts(ctx, tx, sub, at, "the subscription is broken: "+truncate(reason, 400)); err != nil {
			return err
		}
		s, err := scanSubscription(tx.QueryRowContext(ctx, `SELECT `+chatSubscriptionColumns+` FROM chat_subscriptions WHERE id = $1`, sub))
		if err != nil {
			return err
		}
		return c.event(ctx, tx, EventChatBroken, s, optimum.System, at, reason)
	})
}
