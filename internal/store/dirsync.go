package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/optimum-bcp/optimum/internal/dirsync"
)

// DirectorySyncs implements dirsync.Store.
type DirectorySyncs struct{ db *DB }

// DirectorySyncs returns the store of the directory syncs.
func (db *DB) DirectorySyncs() *DirectorySyncs { return &DirectorySyncs{db: db} }

var _ dirsync.Store = (*DirectorySyncs)(nil)

// Claim records a new sync for its slot; false when another node has that slot.
func (s *DirectorySyncs) Claim(ctx context.Context, id string, slot time.Time, owner string, at time.Time) (bool, error) {
	var n int64
	err := s.db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO directory_syncs (id, slot, owner, status, started_at) VALUES ($1, $2, $3, 'running', $4)
			ON CONFLICT (slot) DO NOTHING`, id, millis(slot), owner, millis(at))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("claim directory sync: %w", err)
	}
	return n == 1, nil
}

// Finish records how a claimed sync went.
func (s *DirectorySyncs) Finish(ctx context.Context, id string, r dirsync.Result) error {
	var report sql.NullString
	if r.Report != nil {
		b, err := json.Marshal(r.Report)
		if err != nil {
			return err
		}
		report = sql.NullString{String: string(b), Valid: true}
	}
	return s.db.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE directory_syncs SET status = $2, detail = $3, report = $4, finished_at = $5 WHERE id = $1",
			id, r.Status, truncate(r.Detail, 2000), report, millis(r.At))
		return err
	})
}

// Last returns the newest finished sync, nil before the first.
func (s *DirectorySyncs) Last(ctx context.Context) (*dirsync.Result, error) {
	var r dirsync.Result
	var at int64
	var report sql.NullString
	err := s.db.read.QueryRowContext(ctx, `SELECT status, detail, report, finished_at FROM directory_syncs
		WHERE finished_at IS NOT NULL ORDER BY finished_at DESC, id DESC LIMIT 1`).Scan(&r.Status, &r.Detail, &report, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("last directory sync: %w", err)
	}
	r.At = fromMillis(at)
	if report.Valid {
		if err := json.Unmarshal([]byte(report.String), &r.Report); err != nil {
			return nil, fmt.Errorf("last directory sync: %w", err)
		}
	}
	return &r, nil
}
