package store

import (
	"context"
	"time"
)

// DatabaseTime is the database server's clock, read now. Nodes that share a PostgreSQL
// database schedule by it (not each by its own clock), so a node whose clock is ahead
// neither fires a ladder step early nor takes over another node's lease before it has
// expired. ok is false on SQLite: one node, whose clock is the only one.
func (db *DB) DatabaseTime(ctx context.Context) (t time.Time, ok bool, err error) {
	if db.d.name != "postgres" {
		return time.Time{}, false, nil
	}
	var ms int64
	if err := db.read.QueryRowContext(ctx, "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint").Scan(&ms); err != nil {
		return time.Time{}, true, err
	}
	return fromMillis(ms), true, nil
}
