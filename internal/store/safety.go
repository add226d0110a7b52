package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/optimum-bcp/optimum/incident"
)

// SetSafety records a person's latest safety-poll answer and returns the one before.
func (t incidentTx) SetSafety(ctx context.Context, incidentID string, a incident.SafetyAnswer) (string, error) {
	var prev string
	err := t.tx.QueryRowContext(ctx, "SELECT answer FROM safety_answers WHERE incident_id = $1 AND person_id = $2",
		incidentID, a.PersonID).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("safety answer: %w", err)
	}
	if prev == a.Answer {
		return prev, nil // keep the time of the first identical answer
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO safety_answers (incident_id, person_id, answer, channel, at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (incident_id, person_id)
		DO UPDATE SET answer = excluded.answer, channel = excluded.channel, at = excluded.at`,
		incidentID, a.PersonID, a.Answer, a.Channel, millis(a.At))
	if err != nil {
		return "", fmt.Errorf("safety answer: %w", err)
	}
	return prev, nil
}

// SafetyAnswers returns each person's latest answer to the incident's safety poll.
func (s *Incidents) SafetyAnswers(ctx context.Context, incidentID string) (map[string]incident.SafetyAnswer, error) {
	rows, err := s.db.read.QueryContext(ctx, "SELECT person_id, answer, channel, at FROM safety_answers WHERE incident_id = $1", incidentID)
	if err != nil {
		return nil, fmt.Errorf("safety answers: %w", err)
	}
	defer rows.Close()
	out := map[string]incident.SafetyAnswer{}
	for rows.Next() {
		var (
			a  incident.SafetyAnswer
			at int64
		)
		if err := rows.Scan(&a.PersonID, &a.Answer, &a.Channel, &at); err != nil {
			return nil, fmt.Errorf("safety answers: %w", err)
		}
		a.At = fromMillis(at)
		out[a.PersonID] = a
	}
	return out, rows.Err()
}
