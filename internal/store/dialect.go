package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// dialect is everything the store does differently on SQLite and PostgreSQL. The queries
// themselves are shared; only these few statements and clauses differ.
type dialect struct {
	// name is the migrations folder: migrations/<name>/NNNN_*.sql.
	name string
	// serialize, run first in every transaction that may append events, makes the whole
	// transaction exclusive among the store's writers. SQLite serializes writers by itself
	// (one write connection, BEGIN IMMEDIATE), so it is empty there. On PostgreSQL it takes
	// a transaction-scoped advisory lock: event ids are then taken and committed in order,
	// so a reader of "id > cursor" never sees id n+1 before id n, and the read-then-write
	// steps of the domain (a folio number, an incident document) keep the isolation they
	// have on SQLite.
	serialize string
	// skipLocked ends a SELECT that claims rows for work (deliveries, a consumer's cursor):
	// on PostgreSQL it locks the rows it returns and skips those another transaction holds,
	// so two nodes never claim the same row and neither waits for the other.
	skipLocked string
	// lockMigrations and unlockMigrations bracket applying migrations on one connection, so
	// nodes that start at once apply each migration once.
	lockMigrations, unlockMigrations string
	// similar ranks incident_search rows against $1 (the terms joined by matchOr), best
	// first, selecting (incidents.doc, score) with a higher score more similar; $2 is an
	// incident to leave out, $3 a status to leave out, $4 the limit. SQLite uses FTS5's
	// bm25; PostgreSQL a weighted 'simple' tsvector (migration 0011).
	similar string
	// quoteTerm quotes one normalized term for the match expression; terms are joined
	// with matchOr.
	quoteTerm func(string) string
	matchOr   string
}

// Advisory lock keys (PostgreSQL): arbitrary constants, the same on every node.
const (
	lockKeyEvents     = 0x6f7074696d756d01 // "optimum" + 1: event appends
	lockKeyMigrations = 0x6f7074696d756d02 // "optimum" + 2: migrations
)

var (
	sqliteDialect = dialect{
		name: "sqlite",
		similar: `SELECT i.doc, -bm25(incident_search, 0.0, 4.0, 1.0, 2.0, 2.0, 1.0) AS score
			FROM incident_search JOIN incidents i ON i.id = incident_search.incident_id
			WHERE incident_search MATCH $1 AND i.id <> $2 AND i.status <> $3
			ORDER BY score DESC, i.created_at DESC LIMIT $4`,
		quoteTerm: func(t string) string { return `"` + strings.ReplaceAll(t, `"`, `""`) + `"` },
		matchOr:   " OR ",
	}

	postgresDialect = dialect{
		name:             "postgres",
		serialize:        fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", int64(lockKeyEvents)),
		skipLocked:       " FOR UPDATE SKIP LOCKED",
		lockMigrations:   fmt.Sprintf("SELECT pg_advisory_lock(%d)", int64(lockKeyMigrations)),
		unlockMigrations: fmt.Sprintf("SELECT pg_advisory_unlock(%d)", int64(lockKeyMigrations)),
		similar: `SELECT i.doc, ts_rank('{0.1, 0.25, 0.5, 1.0}', s.terms, q) AS score
			FROM incident_search s JOIN incidents i ON i.id = s.incident_id, to_tsquery('simple', $1) q
			WHERE s.terms @@ q AND i.id <> $2 AND i.status <> $3
			ORDER BY score DESC, i.created_at DESC LIMIT $4`,
		quoteTerm: func(t string) string { return "'" + strings.ReplaceAll(t, "'", "''") + "'" },
		matchOr:   " | ",
	}
)

// serializeTx makes tx exclusive among event-appending transactions (see dialect.serialize).
func (d dialect) serializeTx(ctx context.Context, tx *sql.Tx) error {
	if d.serialize == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, d.serialize); err != nil {
		return fmt.Errorf("serialize writers: %w", err)
	}
	return nil
}

// execIf runs a dialect statement on conn unless it is empty.
func execIf(ctx context.Context, conn *sql.Conn, stmt string) error {
	if stmt == "" {
		return nil
	}
	_, err := conn.ExecContext(ctx, stmt)
	return err
}
