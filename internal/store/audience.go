package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/optimum-bcp/optimum/escalation"
)

// The audience of an incident is paged in batches (issue 16.4, migration 0045): the
// escalation engine records at the declaration that it is to be paged
// (escalationTx.StartAudience), then pages it a batch at a time (Escalation.AudienceBatch),
// each batch in its own transaction that also moves the durable cursor.

// StartAudience records that the incident's audience is to be paged at at on schedule,
// in batches. A second call for the incident changes nothing.
func (t escalationTx) StartAudience(ctx context.Context, incidentID string, schedule []escalation.Reminder, at time.Time) error {
	doc, err := json.Marshal(schedule)
	if err != nil {
		return fmt.Errorf("start audience: %w", err)
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO escalation_audience (incident_id, schedule, paged_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $4) ON CONFLICT (incident_id) DO NOTHING`, incidentID, string(doc), millis(at), millis(nowUTC()))
	if err != nil {
		return fmt.Errorf("start audience: %w", err)
	}
	return nil
}

// AudienceAfter returns up to limit of the incident's active recipients whose person id
// sorts after after, in person id order, with addresses, leaving out anyone who has a
// page for the incident already (paged by a ladder step, or by an earlier batch).
//
// An audience declared by its plan (DeferRecipients) has its recipients written here,
// in the batch's transaction, as far as this batch needs.
func (t escalationTx) AudienceAfter(ctx context.Context, incidentID, after string, limit int) ([]escalation.Contact, error) {
	if err := writePlannedRecipients(ctx, t.tx, incidentID, after, limit); err != nil {
		return nil, fmt.Errorf("audience: %w", err)
	}
	cs, err := t.contacts(ctx, `SELECT `+contactColumns+` FROM incident_recipients r JOIN people p ON p.id = r.person_id
		WHERE r.incident_id = $1 AND r.person_id > $2 AND p.active = 1
		AND NOT EXISTS (SELECT 1 FROM escalation_pages g WHERE g.incident_id = r.incident_id AND g.person_id = r.person_id)
		ORDER BY r.person_id LIMIT $3`, incidentID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("audience: %w", err)
	}
	return cs, nil
}

// PendingAudiences returns the incidents whose audience is still being paged, the oldest
// first.
func (s *Escalation) PendingAudiences(ctx context.Context) ([]string, error) {
	rows, err := s.db.read.QueryContext(ctx, "SELECT incident_id FROM escalation_audience ORDER BY created_at, incident_id")
	if err != nil {
		return nil, fmt.Errorf("pending audiences: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("pending audiences: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// AudienceBatch runs fn in one write transaction with the incident's pending audience,
// locked for it; fn pages a batch and returns the audience with its cursor moved, or Done.
// The cursor moves (or, when done, the row goes) in the same transaction, so a batch is
// committed whole with its cursor or not at all. It returns false, without running fn,
// when the audience is not pending (done already) or, on PostgreSQL, another node is
// paging a batch of it right now.
//
// The transaction does not take the event log's lock (dialect.serialize): a batch
// appends no event, so it never holds back a declaration on PostgreSQL.
func (s *Escalation) AudienceBatch(ctx context.Context, incidentID string, fn func(escalation.Tx, escalation.Audience) (escalation.Audience, error)) (bool, error) {
	found := false
	err := s.db.backgroundTx(ctx, func(tx *sql.Tx) error {
		a := escalation.Audience{IncidentID: incidentID}
		var (
			schedule string
			at       int64
		)
		err := tx.QueryRowContext(ctx, `SELECT schedule, paged_at, after_person, batches FROM escalation_audience
			WHERE incident_id = $1`+s.db.d.skipLocked, incidentID).Scan(&schedule, &at, &a.After, &a.Batches)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(schedule), &a.Schedule); err != nil {
			return fmt.Errorf("schedule: %w", err)
		}
		a.PagedAt = fromMillis(at)
		found = true
		next, err := fn(escalationTx{&eventTx{Tx: tx, d: s.db.d}}, a)
		if err != nil {
			return err
		}
		if next.Done {
			_, err = tx.ExecContext(ctx, "DELETE FROM escalation_audience WHERE incident_id = $1", incidentID)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE escalation_audience SET after_person = $2, batches = batches + 1, updated_at = $3
				WHERE incident_id = $1`, incidentID, next.After, millis(nowUTC()))
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("audience batch: %w", err)
	}
	return found, nil
}
