package store

import (
	"context"
	"slices"

	"github.com/optimum-bcp/optimum"
)

// AppendEvent appends one event in its own transaction, for the tests of the log.
func AppendEvent(ctx context.Context, db *DB, e optimum.Event) (int64, error) {
	var id int64
	err := db.eventsTx(ctx, func(tx *eventTx) error {
		var err error
		id, err = tx.appendEvent(ctx, e)
		return err
	})
	return id, err
}

// AppendEvents appends the events in one transaction, for benchmarks that need a long log.
func AppendEvents(ctx context.Context, db *DB, es []optimum.Event) error {
	return db.eventsTx(ctx, func(tx *eventTx) error {
		for _, e := range es {
			if _, err := tx.appendEvent(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// Requeue puts every delivery being sent back in the queue, for benchmarks that claim the
// same rows again.
func Requeue(ctx context.Context, db *DB) error {
	_, err := db.write.ExecContext(ctx, "UPDATE deliveries SET status = 'queued', lease_owner = NULL, lease_until = NULL WHERE status = 'sending'")
	return err
}

// Columns lists the columns of every table, by table, in the database's own catalogue.
func Columns(ctx context.Context, db *DB) (map[string][]string, error) {
	query := `SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' ORDER BY m.name, p.name`
	if db.d.name == "postgres" {
		query = `SELECT table_name, column_name FROM information_schema.columns
			WHERE table_schema = current_schema() ORDER BY table_name, column_name`
	}
	rows, err := db.read.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var table, column string
		if err := rows.Scan(&table, &column); err != nil {
			return nil, err
		}
		out[table] = append(out[table], column)
	}
	for _, cols := range out {
		slices.Sort(cols) // one order, whatever the database's collation
	}
	return out, rows.Err()
}

// Setting returns a PostgreSQL session setting as the store's connections have it.
func Setting(ctx context.Context, db *DB, name string) (string, error) {
	var v string
	err := db.write.QueryRowContext(ctx, "SELECT current_setting($1)", name).Scan(&v)
	return v, err
}

// Exec runs a statement on the write connection, for tests that set up rows by hand.
func Exec(ctx context.Context, db *DB, query string, args ...any) error {
	_, err := db.write.ExecContext(ctx, query, args...)
	return err
}

// QueryString reads one text value, for tests that check rows by hand.
func QueryString(ctx context.Context, db *DB, query string, args ...any) (string, error) {
	var s string
	err := db.read.QueryRowContext(ctx, query, args...).Scan(&s)
	return s, err
}

// OnProgressCounted runs fn between PublishProgress's count and its events, until the
// test ends.
func OnProgressCounted(t interface{ Cleanup(func()) }, fn func()) {
	progressCounted = fn
	t.Cleanup(func() { progressCounted = nil })
}
