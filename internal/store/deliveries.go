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
	"github.com/optimum-bcp/optimum/broadcast"
)

// Deliveries implements broadcast.Queue.
type Deliveries struct{ db *DB }

// Deliveries returns the dispatcher's queue.
func (db *DB) Deliveries() *Deliveries { return &Deliveries{db: db} }

var (
	_ broadcast.Queue         = (*Deliveries)(nil)
	_ broadcast.ProviderQueue = (*Deliveries)(nil)
)

const deliveryColumns = `id, subject, recipient, channel, address, language, title, body, url, topic, ttl_seconds,
	status, attempts, due_at, deadline, actions`

func scanDelivery(row interface{ Scan(...any) error }) (broadcast.Delivery, error) {
	var (
		d             broadcast.Delivery
		ttl           int64
		due, deadline int64
		actions       []byte
	)
	err := row.Scan(&d.DeliveryID, &d.Subject, &d.Recipient, &d.Channel, &d.To, &d.Language, &d.Title, &d.Text, &d.URL, &d.Topic, &ttl,
		&d.Status, &d.Attempts, &due, &deadline, &actions)
	if err != nil {
		return d, err
	}
	d.TTL, d.DueAt, d.Deadline = time.Duration(ttl)*time.Second, fromMillis(due), fromMillis(deadline)
	return d, json.Unmarshal(actions, &d.Actions)
}

// enqueue writes deliveries inside a transaction; they are due at once or at DueAt.
// Each gets its lane (broadcast.LaneOf) and a turn within the lane: the incident's next
// turn there, but not before the lane's head (the lowest turn still queued), so an
// incident that joins a lane where another is halfway through its alert takes turns
// with it instead of waiting for it to finish, or going all before it.
// deliveryColumnsN is how many values enqueue inserts a delivery with; deliveriesPerInsert
// how many deliveries one of its statements inserts at most on PostgreSQL.
const (
	deliveryColumnsN    = 20
	deliveriesPerInsert = 100
)

func enqueue(ctx context.Context, tx *eventTx, ds []broadcast.Delivery, now time.Time) error {
	type key struct {
		subject, channel string
		lane             int
	}
	next := map[key]int64{}
	// Many rows a statement (issue 16.4): an audience batch queues hundreds at once. Fewer
	// on SQLite, whose driver binds a statement's values in time that grows faster than
	// their number (AddRecipients).
	perInsert := deliveriesPerInsert
	if tx.d.name == "sqlite" {
		perInsert = 5
	}
	var rows []any
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		var q strings.Builder
		q.WriteString(`INSERT INTO deliveries (id, subject, recipient, channel, address, language, title, body, url, topic,
			ttl_seconds, status, due_at, deadline, created_at, updated_at, actions, lane, turn, fallback) VALUES `)
		for r := 0; r < len(rows)/deliveryColumnsN; r++ {
			if r > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(" + placeholders(r*deliveryColumnsN+1, deliveryColumnsN) + ")")
		}
		_, err := tx.ExecContext(ctx, q.String(), rows...)
		rows = rows[:0]
		if err != nil {
			return fmt.Errorf("enqueue delivery: %w", err)
		}
		return nil
	}
	for _, d := range ds {
		actions, _ := json.Marshal(d.Actions)
		if d.Actions == nil {
			actions = []byte("[]")
		}
		k := key{d.Subject, d.Channel, broadcast.LaneOf(d.Priority, d.Drill, d.Audience)}
		turn, ok := next[k]
		if !ok {
			var last, head sql.NullInt64
			if err := tx.QueryRowContext(ctx, "SELECT turn FROM delivery_turns WHERE subject = $1 AND channel = $2 AND lane = $3",
				k.subject, k.channel, k.lane).Scan(&last); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("enqueue delivery: %w", err)
			}
			if err := tx.QueryRowContext(ctx, "SELECT min(turn) FROM deliveries WHERE status = 'queued' AND channel = $1 AND lane = $2",
				k.channel, k.lane).Scan(&head); err != nil {
				return fmt.Errorf("enqueue delivery: %w", err)
			}
			turn = 0
			if last.Valid {
				turn = last.Int64 + 1
			}
			if head.Valid && head.Int64 > turn {
				turn = head.Int64
			}
		}
		next[k] = turn + 1
		rows = append(rows, d.DeliveryID, d.Subject, d.Recipient, d.Channel, d.To, d.Language, d.Title, d.Text, d.URL, d.Topic,
			int64(d.TTL/time.Second), broadcast.StatusQueued, millis(d.DueAt), millis(d.Deadline), millis(now), millis(now), string(actions), k.lane, turn, d.Fallback)
		if len(rows) == deliveryColumnsN*perInsert {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	for k, turn := range next {
		if _, err := tx.ExecContext(ctx, `INSERT INTO delivery_turns (subject, channel, lane, turn) VALUES ($1, $2, $3, $4)
			ON CONFLICT (subject, channel, lane) DO UPDATE SET turn = excluded.turn`, k.subject, k.channel, k.lane, turn-1); err != nil {
			return fmt.Errorf("enqueue delivery: %w", err)
		}
	}
	return nil
}

// resentReason is recorded on an attempt whose lease ran out before its outcome was.
const resentReason = "lease expired before an outcome was recorded (process stopped mid-send); sending again"

// Claim leases up to limit due deliveries of one channel: ones whose sending lease ran
// out (their sender died; they are marked as resent) first, then queued ones whose time
// has come, by lane, turn and due time (migration 0032). Each half is one scan of a
// partial index (the statuses are literals so that SQLite can use them), so a claim costs
// the same with 10 or 100,000 rows waiting. On PostgreSQL the
// whole claim is one statement (claimSet).
func (q *Deliveries) Claim(ctx context.Context, owner, channel string, now time.Time, lease time.Duration, limit int) ([]broadcast.Delivery, error) {
	if q.db.d.name == "postgres" {
		return q.claimSet(ctx, owner, channel, now, lease, limit)
	}
	// SQLite has one writer at a time: look on a read connection first, so that polling
	// a channel with nothing due never takes the writer from those with work to record.
	var due int
	if err := q.db.read.QueryRowContext(ctx, `SELECT count(*) FROM (
		SELECT 1 FROM deliveries WHERE status = 'queued' AND channel = $1 AND due_at <= $2
		UNION ALL SELECT 1 FROM deliveries WHERE status = 'sending' AND channel = $1 AND lease_until < $2 LIMIT 1) x`,
		channel, millis(now)).Scan(&due); err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	if due == 0 {
		return nil, nil
	}
	var out []broadcast.Delivery
	// Grouped: the claim shares its commit with the outcomes recorded at the same time.
	err := q.db.grouped(ctx, func(tx *sql.Tx) error {
		out = nil
		scan := func(query string, args ...any) error {
			rows, err := tx.QueryContext(ctx, query, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				d, err := scanDelivery(rows)
				if err != nil {
					return err
				}
				out = append(out, d)
			}
			return rows.Err()
		}
		if err := scan(`SELECT `+deliveryColumns+` FROM deliveries
			WHERE status = 'sending' AND channel = $1 AND lease_until < $2 ORDER BY lease_until LIMIT $3`,
			channel, millis(now), limit); err != nil {
			return err
		}
		if len(out) < limit {
			if err := scan(`SELECT `+deliveryColumns+` FROM deliveries
				WHERE status = 'queued' AND channel = $1 AND due_at <= $2 ORDER BY lane, turn, due_at, id LIMIT $3`,
				channel, millis(now), limit-len(out)); err != nil {
				return err
			}
		}
		for i := range out {
			d := &out[i]
			if d.Status == broadcast.StatusSending {
				d.Resent = true
				if _, err := tx.ExecContext(ctx, `UPDATE delivery_attempts SET outcome = 'resent', ended_at = $3, reason = $4
					WHERE delivery_id = $1 AND attempt = $2`, d.DeliveryID, d.Attempts, millis(now), resentReason); err != nil {
					return err
				}
			}
			d.Attempts++
			if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = $2, attempts = $3, lease_owner = $4, lease_until = $5, updated_at = $6
				WHERE id = $1`, d.DeliveryID, broadcast.StatusSending, d.Attempts, owner, millis(now.Add(lease)), millis(now)); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO delivery_attempts (delivery_id, attempt, started_at, outcome) VALUES ($1, $2, $3, 'sending')`,
				d.DeliveryID, d.Attempts, millis(now)); err != nil {
				return err
			}
			d.Status = broadcast.StatusSending
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return out, nil
}

// claimSet is Claim on PostgreSQL in one statement, whatever the batch: it picks the
// expired leases and the due queued rows with FOR UPDATE SKIP LOCKED (two nodes never
// pick the same row, neither waits for the other), leases them, marks the attempts of
// expired leases resent and opens the new attempts, all in data-modifying CTEs. One
// UPDATE per row took 483 ms per 1,000 (issue 16); docs/deliveries.md has the figures.
func (q *Deliveries) claimSet(ctx context.Context, owner, channel string, now time.Time, lease time.Duration, limit int) ([]broadcast.Delivery, error) {
	cols := strings.Join(strings.Fields(deliveryColumns), " ")
	var dcols, ccols []string
	for _, c := range strings.Split(cols, ",") {
		dcols = append(dcols, "d."+strings.TrimSpace(c))
		ccols = append(ccols, "c."+strings.TrimSpace(c))
	}
	rows, err := q.db.write.QueryContext(ctx, `WITH expired AS (
			SELECT id, 0 AS k, lease_until AS o1, 0 AS o2, 0 AS o3, id AS o4 FROM deliveries
			WHERE status = 'sending' AND channel = $1 AND lease_until < $2
			ORDER BY lease_until LIMIT $3 FOR UPDATE SKIP LOCKED),
		queued AS (
			SELECT id, 1 AS k, lane AS o1, turn AS o2, due_at AS o3, id AS o4 FROM deliveries
			WHERE status = 'queued' AND channel = $1 AND due_at <= $2
			ORDER BY lane, turn, due_at, id LIMIT $3 FOR UPDATE SKIP LOCKED),
		picked AS (
			SELECT id, k, o1, o2, o3, o4 FROM (SELECT * FROM expired UNION ALL SELECT * FROM queued) u
			ORDER BY k, o1, o2, o3, o4 LIMIT $3),
		claimed AS (
			UPDATE deliveries d SET status = 'sending', attempts = d.attempts + 1, lease_owner = $4, lease_until = $5, updated_at = $2
			WHERE d.id = ANY (ARRAY (SELECT id FROM picked))
			RETURNING `+strings.Join(dcols, ", ")+`),
		resent AS (
			UPDATE delivery_attempts a SET outcome = 'resent', ended_at = $2, reason = $6
			FROM claimed c JOIN picked p ON p.id = c.id WHERE p.k = 0 AND a.delivery_id = c.id AND a.attempt = c.attempts - 1),
		opened AS (
			INSERT INTO delivery_attempts (delivery_id, attempt, started_at, outcome)
			SELECT id, attempts, $2, 'sending' FROM claimed)
		SELECT `+strings.Join(ccols, ", ")+`, p.k FROM claimed c JOIN picked p ON p.id = c.id ORDER BY p.k, p.o1, p.o2, p.o3, p.o4`,
		channel, millis(now), limit, owner, millis(now.Add(lease)), resentReason)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	defer rows.Close()
	var out []broadcast.Delivery
	for rows.Next() {
		var (
			d  broadcast.Delivery
			k  int
			sc = scanFunc(func(dest ...any) error { return rows.Scan(append(dest, &k)...) })
		)
		d, err := scanDelivery(sc)
		if err != nil {
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
		d.Resent = k == 0
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return out, nil
}

// scanFunc adapts a function to scanDelivery's row.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// Extend renews the lease of a delivery's current attempt; false when the attempt is no
// longer current (another dispatcher claimed the delivery after the lease ran out) or
// its outcome is already recorded.
func (q *Deliveries) Extend(ctx context.Context, id string, attempt int, until time.Time) (bool, error) {
	var n int64
	err := q.db.grouped(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE deliveries SET lease_until = $3 WHERE id = $1 AND attempts = $2 AND status = $4",
			id, attempt, millis(until), broadcast.StatusSending)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("extend a delivery's lease: %w", err)
	}
	return n == 1, nil
}

// finish records an attempt's outcome, only if the attempt is still the current one (a
// late outcome of a superseded attempt changes nothing). It appends no event (the change
// only marks its incident for the next progress event), so it does not wait for the
// event log's turn among writers.
func (q *Deliveries) finish(ctx context.Context, id string, attempt int, at time.Time, outcome, reason, provider, set string, args ...any) error {
	return q.db.grouped(ctx, func(tx *sql.Tx) error {
		_, err := finishTx(ctx, tx, id, attempt, at, outcome, reason, provider, set, args...)
		return err
	})
}

// finishTx is finish inside tx; it returns whether the attempt was the current one.
// provider names the SMS or voice provider that carried the attempt ("" when the sender
// names none).
func finishTx(ctx context.Context, tx *sql.Tx, id string, attempt int, at time.Time, outcome, reason, provider, set string, args ...any) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE delivery_attempts SET outcome = $3, reason = $4, ended_at = $5, provider = $6
		WHERE delivery_id = $1 AND attempt = $2 AND outcome = 'sending'`, id, attempt, outcome, truncate(reason, 500), millis(at), provider)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	base := []any{id, attempt, millis(at)}
	_, err = tx.ExecContext(ctx, "UPDATE deliveries SET "+set+", lease_owner = NULL, lease_until = NULL, updated_at = $3 WHERE id = $1 AND attempts = $2",
		append(base, args...)...)
	if err != nil || outcome == "retry" {
		return err == nil, err
	}
	return true, markDeliveryProgress(ctx, tx, id, at)
}

// EventDeliveriesProgress tells live boards and the incident page how an incident's
// deliveries stand: counts per channel and status. It is appended at most once a second
// per incident (PublishProgress), not once per status change, so 10,000 recipients make
// a few dozen frames on every board, not 40,000.
const EventDeliveriesProgress = "incident.deliveries_progress"

// markDeliveryProgress marks the incident of a delivery whose status changed, for the
// next progress event.
func markDeliveryProgress(ctx context.Context, tx *sql.Tx, id string, at time.Time) error {
	var subject string
	if err := tx.QueryRowContext(ctx, "SELECT subject FROM deliveries WHERE id = $1", id).Scan(&subject); err != nil {
		return err
	}
	return markProgress(ctx, tx, subject, at)
}

// markProgress notes that the deliveries of subject changed at at.
func markProgress(ctx context.Context, tx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}, subject string, at time.Time) error {
	// A mark being published (PublishProgress) is reset, so the publisher keeps it for the
	// next round; any other mark stays as it is (no write, so outcomes of one incident do
	// not queue on its row on PostgreSQL).
	_, err := tx.ExecContext(ctx, `INSERT INTO delivery_progress (subject, since) VALUES ($1, $2)
		ON CONFLICT (subject) DO UPDATE SET publishing = 0 WHERE delivery_progress.publishing = 1`, subject, millis(at))
	return err
}

// DeliveryCounts are an incident's deliveries by channel and status.
type DeliveryCounts map[string]map[string]int

// PublishProgress appends one incident.deliveries_progress event for each incident
// (up to limit, oldest marks first) whose deliveries changed since its last one, and
// returns how many it appended. Several nodes may call it.
//
// Counting an incident's deliveries (200,000 rows at 100,000 people) happens outside the
// store's writer: a first short transaction marks the incidents as being published, the
// counts are read after it, and a second transaction appends the events and removes the
// marks no change touched meanwhile (a change resets its incident's mark, which then
// waits for the next round). A process stopped between the two leaves its marks, taken
// again by the next round: no change is left unpublished.
func (q *Deliveries) PublishProgress(ctx context.Context, at time.Time, limit int) (int, error) {
	// Most seconds nothing changed: look before taking the writer.
	var marked int
	if err := q.db.read.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM delivery_progress LIMIT 1) x").Scan(&marked); err != nil || marked == 0 {
		return 0, err
	}
	var subjects []string
	err := q.db.backgroundTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT subject FROM delivery_progress ORDER BY since LIMIT $1"+q.db.d.skipLocked, limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return err
			}
			subjects = append(subjects, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, subject := range subjects {
			if _, err := tx.ExecContext(ctx, "UPDATE delivery_progress SET publishing = 1 WHERE subject = $1", subject); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || len(subjects) == 0 {
		if err != nil {
			err = fmt.Errorf("publish delivery progress: %w", err)
		}
		return 0, err
	}
	type progress struct {
		subject string
		data    []byte
	}
	ready := make([]progress, 0, len(subjects))
	for _, subject := range subjects {
		counts, total, err := deliveryCounts(ctx, q.db.read, subject)
		if err != nil {
			return 0, fmt.Errorf("publish delivery progress: %w", err)
		}
		data, _ := json.Marshal(map[string]any{"incident_id": subject, "channels": counts, "total": total})
		ready = append(ready, progress{subject, data})
	}
	if progressCounted != nil {
		progressCounted()
	}
	err = q.db.eventsTx(ctx, func(tx *eventTx) error {
		for _, p := range ready {
			if _, err := tx.appendEvent(ctx, optimum.Event{Type: EventDeliveriesProgress, At: at, IncidentID: p.subject, Actor: &optimum.System, Data: p.data}); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM delivery_progress WHERE subject = $1 AND publishing = 1", p.subject); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("publish delivery progress: %w", err)
	}
	return len(ready), nil
}

// progressCounted, set by tests only, runs between PublishProgress's count and its events.
var progressCounted func()

// deliveryCountsQuery counts an incident's deliveries by channel and status, from the
// deliveries_progress index alone (migration 0087).
const deliveryCountsQuery = "SELECT channel, status, count(*) FROM deliveries WHERE subject = $1 GROUP BY channel, status"

func deliveryCounts(ctx context.Context, q rowQueryer, subject string) (DeliveryCounts, int, error) {
	rows, err := q.QueryContext(ctx, deliveryCountsQuery, subject)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	counts, total := DeliveryCounts{}, 0
	for rows.Next() {
		var (
			channel, status string
			c               int
		)
		if err := rows.Scan(&channel, &status, &c); err != nil {
			return nil, 0, err
		}
		if counts[channel] == nil {
			counts[channel] = map[string]int{}
		}
		counts[channel][status] = c
		total += c
	}
	return counts, total, rows.Err()
}

// Sent records that the provider accepted the delivery.
func (q *Deliveries) Sent(ctx context.Context, id string, attempt int, at time.Time) error {
	return q.SentVia(ctx, id, attempt, at, "")
}

// SentVia is Sent through the named provider (broadcast.ProviderQueue).
func (q *Deliveries) SentVia(ctx context.Context, id string, attempt int, at time.Time, provider string) error {
	// The provider's status callback may arrive before this is recorded (a busy node, a
	// fast network): a delivery it already reported delivered or failed stays so.
	return q.finish(ctx, id, attempt, at, "sent", "", provider,
		"status = CASE WHEN status IN ('delivered', 'undelivered', 'failed') THEN status ELSE $4 END, sent_at = $3, error = CASE WHEN status IN ('undelivered', 'failed') THEN error ELSE '' END",
		broadcast.StatusSent)
}

// Retry puts the delivery back in the queue for next.
func (q *Deliveries) Retry(ctx context.Context, id string, attempt int, at, next time.Time, reason string) error {
	return q.RetryVia(ctx, id, attempt, at, next, reason, "")
}

// RetryVia is Retry of an attempt the named provider failed (broadcast.ProviderQueue).
func (q *Deliveries) RetryVia(ctx context.Context, id string, attempt int, at, next time.Time, reason, provider string) error {
	return q.finish(ctx, id, attempt, at, "retry", reason, provider, "status = $4, due_at = $5, error = $6",
		broadcast.StatusQueued, millis(next), truncate(reason, 500))
}

// Failed records a final failure; when the address is gone (a push subscription that
// answered 404 or 410), the subscription is removed too; when an SMS's recipient opted
// out at the provider (Twilio 21610: they replied STOP to that number), the person is
// recorded as opted out of SMS, as their STOP would have done had it reached us.
func (q *Deliveries) Failed(ctx context.Context, id string, attempt int, at time.Time, reason string, gone bool) error {
	return q.FailedVia(ctx, id, attempt, at, reason, gone, "")
}

// FailedVia is Failed of an attempt the named provider refused (broadcast.ProviderQueue).
func (q *Deliveries) FailedVia(ctx context.Context, id string, attempt int, at time.Time, reason string, gone bool, provider string) error {
	const set = "status = $4, failed_at = $3, error = $5"
	if !gone {
		// The failure and the fallback's copy together (fallback.go).
		return q.db.grouped(ctx, func(tx *sql.Tx) error {
			current, err := finishTx(ctx, tx, id, attempt, at, "failed", reason, provider, set, broadcast.StatusFailed, truncate(reason, 500))
			if err != nil || !current {
				return err
			}
			return queueFallback(ctx, tx, id, at)
		})
	}
	var channel, address, recipient string
	if err := q.db.read.QueryRowContext(ctx, "SELECT channel, address, recipient FROM deliveries WHERE id = $1", id).Scan(&channel, &address, &recipient); err != nil {
		return err
	}
	if channel == broadcast.ChannelSMS {
		// The failure and the opt-out together: one is never recorded without the other.
		return q.db.eventsTx(ctx, func(tx *eventTx) error {
			current, err := finishTx(ctx, tx.Tx, id, attempt, at, "failed", reason, provider, set, broadcast.StatusFailed, truncate(reason, 500))
			if err != nil || !current {
				return err
			}
			return optOutAtProvider(ctx, tx, recipient, address, at)
		})
	}
	if err := q.finish(ctx, id, attempt, at, "failed", reason, provider, set, broadcast.StatusFailed, truncate(reason, 500)); err != nil {
		return err
	}
	if channel == broadcast.ChannelWebPush {
		return q.db.dropPushAddress(ctx, address)
	}
	return nil
}

// optOutAtProvider records that the person with phone opted out of SMS at the provider:
// the same change and event as a STOP reply (person.sms_opted_out), with the reason. A
// person already opted out, or whose phone has changed since, is left alone.
func optOutAtProvider(ctx context.Context, tx *eventTx, personID, phone string, at time.Time) error {
	res, err := tx.ExecContext(ctx, "UPDATE people SET sms_opted_out_at = $2 WHERE id = $1 AND phone = $3 AND sms_opted_out_at IS NULL",
		personID, millis(at), phone)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	data, _ := json.Marshal(map[string]string{"id": personID, "reason": "provider"})
	_, err = tx.appendEvent(ctx, optimum.Event{Type: "person.sms_opted_out", At: at, Actor: &optimum.System, Data: data})
	return err
}

// ProviderUpdate records a provider's status callback for a delivery: the provider id,
// and the status if it moves the delivery forward. It returns the delivery's subject and
// whether anything changed.
func (q *Deliveries) ProviderUpdate(ctx context.Context, id, providerID, status, errText string, at time.Time, later func(old, new string) bool) (subject string, changed bool, err error) {
	err = q.db.tx(ctx, func(tx *sql.Tx) error {
		var old, oldProvider string
		err := tx.QueryRowContext(ctx, "SELECT subject, provider_status, provider_id FROM deliveries WHERE id = $1", id).Scan(&subject, &old, &oldProvider)
		if err != nil {
			return notFound(err, "No delivery has the id %q.", truncate(id, 60))
		}
		if old != "" && !later(old, status) {
			if oldProvider == "" && providerID != "" {
				_, err = tx.ExecContext(ctx, "UPDATE deliveries SET provider_id = $2 WHERE id = $1", id, providerID)
			}
			return err
		}
		changed = true
		set := "provider_status = $2, provider_id = CASE WHEN $3 = '' THEN provider_id ELSE $3 END, updated_at = $4"
		args := []any{id, status, providerID, millis(at)}
		switch status {
		case "delivered", "completed", "answered", "in-progress":
			set += ", status = 'delivered', delivered_at = COALESCE(delivered_at, $4)"
			// The provider saw it reach the person: readiness shows when a message last did.
			if _, err := tx.ExecContext(ctx, `UPDATE people SET last_reached_at = $2
				WHERE id = (SELECT recipient FROM deliveries WHERE id = $1)`, id, millis(at)); err != nil {
				return err
			}
		case "undelivered", "failed", "busy", "no-answer", "canceled":
			set += ", status = $5, error = $6, failed_at = COALESCE(failed_at, $4)"
			st := broadcast.StatusUndelivered
			if status == "failed" {
				st = broadcast.StatusFailed
			}
			args = append(args, st, truncate(errText, 500))
		}
		if _, err = tx.ExecContext(ctx, "UPDATE deliveries SET "+set+" WHERE id = $1", args...); err != nil {
			return err
		}
		switch status {
		case "undelivered", "failed", "busy", "no-answer":
			// The number did not take it: the second phone, if any (fallback.go).
			if err := queueFallback(ctx, tx, id, at); err != nil {
				return err
			}
		}
		return markDeliveryProgress(ctx, tx, id, at)
	})
	return subject, changed, err
}

// SubjectDeliveries returns the deliveries of a subject (an incident), by recipient.
func (q *Deliveries) SubjectDeliveries(ctx context.Context, subject string) ([]DeliveryState, error) {
	rows, err := q.db.read.QueryContext(ctx, `SELECT id, recipient, channel, status, provider_status, attempts, error, updated_at
		FROM deliveries WHERE subject = $1 ORDER BY recipient, channel, created_at`, subject)
	if err != nil {
		return nil, fmt.Errorf("deliveries: %w", err)
	}
	defer rows.Close()
	var out []DeliveryState
	for rows.Next() {
		var (
			d  DeliveryState
			at int64
		)
		if err := rows.Scan(&d.ID, &d.Recipient, &d.Channel, &d.Status, &d.ProviderStatus, &d.Attempts, &d.Error, &at); err != nil {
			return nil, fmt.Errorf("deliveries: %w", err)
		}
		d.UpdatedAt = fromMillis(at)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("deliveries: %w", err)
	}
	return out, q.attemptProviders(ctx, subject, out)
}

// attemptProviders fills in the providers of the attempts of a subject's deliveries
// (only SMS and calls name one).
func (q *Deliveries) attemptProviders(ctx context.Context, subject string, list []DeliveryState) error {
	rows, err := q.db.read.QueryContext(ctx, `SELECT a.delivery_id, a.provider FROM delivery_attempts a
		JOIN deliveries d ON d.id = a.delivery_id
		WHERE d.subject = $1 AND a.provider <> '' ORDER BY a.delivery_id, a.attempt`, subject)
	if err != nil {
		return fmt.Errorf("deliveries: %w", err)
	}
	defer rows.Close()
	byID := map[string][]string{}
	for rows.Next() {
		var id, p string
		if err := rows.Scan(&id, &p); err != nil {
			return fmt.Errorf("deliveries: %w", err)
		}
		byID[id] = append(byID[id], p)
	}
	for i := range list {
		list[i].Providers = byID[list[i].ID]
	}
	return rows.Err()
}

// DeliveryState is what is shown of a delivery on the incident page.
type DeliveryState struct {
	ID             string
	Recipient      string
	Channel        string
	Status         string
	ProviderStatus string
	Attempts       int
	// Providers names the provider of each attempt that went to one, in order
	// (["twilio", "vonage"]: failed through Twilio, then sent through Vonage).
	Providers []string
	Error     string
	UpdatedAt time.Time
}

// Attempts returns the recorded attempts of a delivery, in order: "outcome[ via
// provider][: reason]".
func (q *Deliveries) Attempts(ctx context.Context, id string) ([]string, error) {
	rows, err := q.db.read.QueryContext(ctx, "SELECT outcome, reason, provider FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var o, r, p string
		if err := rows.Scan(&o, &r, &p); err != nil {
			return nil, err
		}
		if p != "" {
			o += " via " + p
		}
		out = append(out, strings.TrimSuffix(o+": "+r, ": "))
	}
	return out, rows.Err()
}

// dropPushAddress removes the push subscription a delivery was addressed to.
func (db *DB) dropPushAddress(ctx context.Context, address string) error {
	var sub struct {
		Endpoint string `json:"endpoint"`
	}
	if err := json.Unmarshal([]byte(address), &sub); err != nil || sub.Endpoint == "" {
		return nil
	}
	_, err := db.Push().DeleteEndpoint(ctx, sub.Endpoint)
	return err
}

// Enqueue queues deliveries on their own (planners queue them inside their transaction).
func (q *Deliveries) Enqueue(ctx context.Context, ds []broadcast.Delivery) error {
	return q.db.eventsTx(ctx, func(tx *eventTx) error { return enqueue(ctx, tx, ds, nowUTC()) })
}

// ClaimWebhook claims the webhook request with Twilio's key, to be processed. first is
// false when it was processed before (status and the answer recorded by FinishWebhook)
// or is being processed now (status 0). A claim older than stale was left by a node
// that died mid-request: it is taken over.
func (q *Deliveries) ClaimWebhook(ctx context.Context, key string, now time.Time, stale time.Duration) (status int, contentType, body string, first bool, err error) {
	err = q.db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "INSERT INTO webhook_calls (call_key, received_at) VALUES ($1, $2) ON CONFLICT (call_key) DO NOTHING", key, millis(now))
		if err != nil {
			return fmt.Errorf("claim webhook: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			first = n == 1
			return err
		}
		var at int64
		if err := tx.QueryRowContext(ctx, "SELECT status, content_type, body, received_at FROM webhook_calls WHERE call_key = $1", key).
			Scan(&status, &contentType, &body, &at); err != nil {
			return fmt.Errorf("claim webhook: %w", err)
		}
		if status == 0 && fromMillis(at).Before(now.Add(-stale)) {
			res, err := tx.ExecContext(ctx, "UPDATE webhook_calls SET received_at = $2 WHERE call_key = $1 AND status = 0 AND received_at = $3", key, millis(now), at)
			if err != nil {
				return fmt.Errorf("claim webhook: %w", err)
			}
			n, err := res.RowsAffected()
			first = n == 1
			return err
		}
		return nil
	})
	return status, contentType, body, first, err
}

// FinishWebhook records the answer to a claimed webhook request.
func (q *Deliveries) FinishWebhook(ctx context.Context, key string, status int, contentType, body string, at time.Time) error {
	_, err := q.db.write.ExecContext(ctx, "UPDATE webhook_calls SET status = $2, content_type = $3, body = $4, done_at = $5 WHERE call_key = $1",
		key, status, contentType, body, millis(at))
	if err != nil {
		return fmt.Errorf("finish webhook: %w", err)
	}
	return nil
}

// ReleaseWebhook forgets a claim whose request failed, so that a retry is processed.
func (q *Deliveries) ReleaseWebhook(ctx context.Context, key string) error {
	_, err := q.db.write.ExecContext(ctx, "DELETE FROM webhook_calls WHERE call_key = $1 AND status = 0", key)
	if err != nil {
		return fmt.Errorf("release webhook: %w", err)
	}
	return nil
}
