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
func (db *DB) consume(ctx context.Context, consumer string, limit int, fn func(tx *eventTx, e optimum.Event) error) (int, error) {
	n := 0
	err := db.eventsTx(ctx, func(tx *eventTx) error {
		// Several nodes run the same consumers on one database: the cursor row is locked
		// for the whole transaction, so a second node waits and then reads the advanced
		// cursor instead of processing the same events again. An UPDATE takes the row lock
		// in PostgreSQL (and re-reads the row once the other transaction commits) and is
		// the same SQL in SQLite, whose writers are serialized anyway.
		if _, err := tx.ExecContext(ctx, `INSERT INTO consumer_cursors (consumer, cursor, updated_at) VALUES ($1, 0, $2)
			ON CONFLICT (consumer) DO NOTHING`, consumer, millis(nowUTC())); err != nil {
			return err
		}
		var cursor int64
		err := tx.QueryRowContext(ctx, "UPDATE consumer_cursors SET cursor = cursor WHERE consumer = $1 RETURNING cursor", consumer).Scan(&cursor)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: cursor row missing", consumer)
		} else if err != nil {
			return err
		}
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
