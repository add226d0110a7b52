package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/optimum-bcp/optimum/canary"
)

// Canary implements canary.Store.
type Canary struct{ db *DB }

// Canary returns the store of the canary runs.
func (db *DB) Canary() *Canary { return &Canary{db: db} }

var _ canary.Store = (*Canary)(nil)

// Claim records a new run for its slot; false when another node has that slot.
func (s *Canary) Claim(ctx context.Context, r canary.Run, owner string) (bool, error) {
	var n int64
	err := s.db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO canary_runs (id, slot, owner, status, started_at, manual) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (slot) DO NOTHING`, r.ID, millis(r.Slot), owner, r.Status, millis(r.StartedAt), boolInt(r.Manual))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("claim canary run: %w", err)
	}
	return n == 1, nil
}

// Started names the run's incident.
func (s *Canary) Started(ctx context.Context, runID, incidentID string) error {
	return s.db.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE canary_runs SET incident_id = $2 WHERE id = $1", runID, incidentID)
		return err
	})
}

// Finish records the outcome of a run still running; false when it was not.
func (s *Canary) Finish(ctx context.Context, r canary.Run) (bool, error) {
	msgs, err := json.Marshal(r.Messages)
	if err != nil {
		return false, err
	}
	var n int64
	err = s.db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE canary_runs SET status = $2, reason = $3, accepted_ms = $4, delivered_ms = $5,
			finished_at = $6, deliveries = $7 WHERE id = $1 AND status = 'running'`,
			r.ID, r.Status, truncate(r.Reason, 1000), secondsMillis(r.Accepted), secondsMillis(r.Delivered), nullMillis(r.FinishedAt), string(msgs))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("finish canary run: %w", err)
	}
	return n == 1, nil
}

// Paged records the alert about a failed run.
func (s *Canary) Paged(ctx context.Context, runID, incidentID string) error {
	return s.db.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE canary_runs SET paged_incident_id = $2 WHERE id = $1", runID, incidentID)
		return err
	})
}

// Messages returns the deliveries of the canary's incident.
func (s *Canary) Messages(ctx context.Context, incidentID string) ([]canary.Message, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT channel, status, error, sent_at, delivered_at FROM deliveries
		WHERE subject = $1 ORDER BY created_at, id`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("canary messages: %w", err)
	}
	defer rows.Close()
	out := []canary.Message{}
	for rows.Next() {
		var m canary.Message
		var sent, delivered sql.NullInt64
		if err := rows.Scan(&m.Channel, &m.Status, &m.Error, &sent, &delivered); err != nil {
			return nil, fmt.Errorf("canary messages: %w", err)
		}
		m.SentAt, m.DeliveredAt = timeOf(sent), timeOf(delivered)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Abandoned returns the runs still running that started before.
func (s *Canary) Abandoned(ctx context.Context, before time.Time) ([]canary.Run, error) {
	return s.runs(ctx, "WHERE status = 'running' AND started_at < $1 ORDER BY started_at", millis(before))
}

// Runs returns the latest runs, newest first.
func (s *Canary) Runs(ctx context.Context, limit int) ([]canary.Run, error) {
	return s.runs(ctx, "ORDER BY started_at DESC, id DESC LIMIT $1", limit)
}

// LastPassed returns the newest run that passed, nil when none did.
func (s *Canary) LastPassed(ctx context.Context) (*canary.Run, error) {
	runs, err := s.runs(ctx, "WHERE status = 'passed' ORDER BY started_at DESC, id DESC LIMIT $1", 1)
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	return &runs[0], nil
}

// Counts returns how many runs finished with each status (passed, failed).
func (s *Canary) Counts(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.read.QueryContext(ctx, "SELECT status, count(*) FROM canary_runs WHERE status <> 'running' GROUP BY status")
	if err != nil {
		return nil, fmt.Errorf("canary counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{canary.StatusPassed: 0, canary.StatusFailed: 0}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}

func (s *Canary) runs(ctx context.Context, tail string, args ...any) ([]canary.Run, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT id, slot, incident_id, status, reason, started_at, accepted_ms, delivered_ms,
		finished_at, paged_incident_id, deliveries, manual FROM canary_runs `+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("canary runs: %w", err)
	}
	defer rows.Close()
	out := []canary.Run{}
	for rows.Next() {
		var (
			r                               canary.Run
			slot, started                   int64
			inc, paged                      sql.NullString
			accepted, delivered, finishedAt sql.NullInt64
			msgs                            string
			manual                          int
		)
		if err := rows.Scan(&r.ID, &slot, &inc, &r.Status, &r.Reason, &started, &accepted, &delivered, &finishedAt, &paged, &msgs, &manual); err != nil {
			return nil, fmt.Errorf("canary runs: %w", err)
		}
		r.Slot, r.StartedAt, r.IncidentID, r.PagedIncidentID = fromMillis(slot), fromMillis(started), inc.String, paged.String
		r.FinishedAt = timeOf(finishedAt)
		r.Accepted, r.Delivered = millisSeconds(accepted), millisSeconds(delivered)
		r.Manual = manual == 1
		if err := json.Unmarshal([]byte(msgs), &r.Messages); err != nil || r.Messages == nil {
			r.Messages = []canary.Message{}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func timeOf(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMillis(v.Int64)
	return &t
}

func secondsMillis(s *canary.Seconds) sql.NullInt64 {
	if s == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: int64(float64(*s)*1000 + 0.5), Valid: true}
}

func millisSeconds(v sql.NullInt64) *canary.Seconds {
	if !v.Valid {
		return nil
	}
	s := canary.Seconds(float64(v.Int64) / 1000)
	return &s
}
