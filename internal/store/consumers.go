package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/optimum-bcp/optimum"
)

// consume runs fn for up to limit events after the consumer's cursor, in id order, in
// one write transaction that also advances the cursor: an event's effects and the
// consumer's progress commit together, so after a crash the consumer continues exactly
// where it was, processing each event once.
//
// The cursor row is the consumer's lease: it is locked for the transaction, and on
// PostgreSQL a node that finds it locked by another node returns 0 at once (that node is
// processing the same events, and whatever it leaves is taken on the next wake-up).
func (db *DB) consume(ctx context.Context, consumer string, limit int, fn func(tx *eventTx, e optimum.Event) error) (int, error) {
	n := 0
	var cursor int64
	claim := func(tx *sql.Tx) (bool, error) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO consumer_cursors (consumer, cursor, updated_at) VALUES ($1, 0, $2)
			ON CONFLICT (consumer) DO NOTHING`, consumer, millis(nowUTC())); err != nil {
			return false, err
		}
		err := tx.QueryRowContext(ctx, "SELECT cursor FROM consumer_cursors WHERE consumer = $1"+db.d.skipLocked, consumer).Scan(&cursor)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil // another node holds it
		}
		return err == nil, err
	}
	err := db.claimEventsTx(ctx, claim, func(tx *eventTx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, type, at, incident_id, actor, incident, data
			FROM events WHERE id > $1 ORDER BY id LIMIT $2`, cursor, limit)
		if err != nil {
			return err
		}
		events, err := scanEvents(rows)
		if err != nil || len(events) == 0 {
			return err
		}
		for _, e := range events {
			if err := fn(tx, e); err != nil {
				return fmt.Errorf("%s: event %d (%s): %w", consumer, e.ID, e.Type, err)
			}
			cursor = e.ID
			n++
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO consumer_cursors (consumer, cursor, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (consumer) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`,
			consumer, cursor, millis(nowUTC()))
		return err
	})
	return n, err
}

// ConsumerLag returns, per consumer, how many events it has yet to process.
func (db *DB) ConsumerLag(ctx context.Context) (map[string]int64, error) {
	rows, err := db.read.QueryContext(ctx, "SELECT consumer, (SELECT coalesce(max(id), 0) FROM events) - cursor FROM consumer_cursors")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var c string
		var lag int64
		if err := rows.Scan(&c, &lag); err != nil {
			return nil, err
		}
		out[c] = lag
	}
	return out, rows.Err()
}
