package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
)

// fallbackSuffix makes the id of a delivery's copy to its fallback address from the
// delivery's own, so that queueing it twice (a provider's "undelivered" then "failed",
// a callback replayed) queues it once.
const fallbackSuffix = "_fb"

// queueFallback queues, inside tx, the message of the delivery id to its fallback
// address (broadcast.Delivery.Fallback: a person's second phone) after the delivery
// failed for good at at. Nothing is queued when the delivery names no fallback, when
// the copy exists already, when the recipient acknowledged the subject meanwhile, or
// when the subject (an incident) is no longer open. The copy keeps the lane and turn of
// the delivery it replaces, so it goes before the alerts queued since, is due at once,
// is retried as long as the first was, and names no fallback of its own.
func queueFallback(ctx context.Context, tx *sql.Tx, id string, at time.Time) error {
	var (
		fallback          string
		created, deadline int64
	)
	err := tx.QueryRowContext(ctx, `SELECT d.fallback, d.created_at, d.deadline FROM deliveries d
		WHERE d.id = $1 AND d.fallback <> '' AND d.fallback <> d.address
		AND NOT EXISTS (SELECT 1 FROM incident_acks a WHERE a.incident_id = d.subject AND a.person_id = d.recipient)
		AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = d.subject AND i.status IN ('resolved', 'verified', 'closed', 'cancelled'))`,
		id).Scan(&fallback, &created, &deadline)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return fmt.Errorf("fallback of a delivery: %w", err)
	}
	retryFor := max(deadline-created, int64(time.Minute/time.Millisecond))
	_, err = tx.ExecContext(ctx, `INSERT INTO deliveries (id, subject, recipient, channel, address, language, title, body, url, topic,
			ttl_seconds, status, due_at, deadline, created_at, updated_at, actions, lane, turn, fallback)
		SELECT $2, subject, recipient, channel, $3, language, title, body, url, topic,
			ttl_seconds, $4, $5, $6, $5, $5, actions, lane, turn, ''
		FROM deliveries WHERE id = $1
		ON CONFLICT (id) DO NOTHING`,
		id, id+fallbackSuffix, fallback, broadcast.StatusQueued, millis(at), millis(at)+retryFor)
	if err != nil {
		return fmt.Errorf("fallback of a delivery: %w", err)
	}
	return nil
}

// FailedPhones returns the numbers on which an SMS or call of the person about the
// incident failed for good (escalation.Tx).
func (t escalationTx) FailedPhones(ctx context.Context, incidentID, personID string) ([]string, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT DISTINCT address FROM deliveries
		WHERE subject = $1 AND recipient = $2 AND channel IN ('sms', 'voice')
		AND (status = 'failed' OR (status = 'undelivered' AND channel = 'sms'))`, incidentID, personID)
	if err != nil {
		return nil, fmt.Errorf("failed phones: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("failed phones: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
