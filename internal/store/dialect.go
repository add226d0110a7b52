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
	// so two nodes never claim the same row and neither waits for the other. A new kind
	// of leased work claims the same way: SELECT … ORDER BY … LIMIT n + skipLocked, then
	// UPDATE the rows it got, in db.tx; or, when the work appends events, in the claim
	// step of claimEventsTx (before serialize, so a node that finds the work taken returns
	// at once instead of queueing for the event lock).
	skipLocked string
	// lockMigrations and unlockMigrations bracket applying migrations on one connection, so
	// nodes that start at once apply each migration once.
	lockMigrations, unlockMigrations string
	// search is the similar-incident search: SQLite's FTS5 or PostgreSQL's tsvector.
	search fullText
	// nextEvent returns the id the next event gets and the hash of the newest one (NULL
	// when the log is empty or its newest event predates the chain), in a transaction
	// that appends events (serialized, so nobody takes the id meanwhile).
	nextEvent string
}

// fullText is a full-text dialect. similar returns (doc, rank) rows, best (lowest rank)
// first, for $1 = anyOf(terms), $2 = an incident id to leave out, $3 = a status to leave
// out, $4 = the limit. The terms are already normalized (incident.Terms: letters and
// digits, lower case).
type fullText struct {
	similar string
	anyOf   func(terms []string) string
}

// quoteEach quotes every term with q (doubling q inside) and joins them with sep.
func quoteEach(terms []string, q, sep string) string {
	quoted := make([]string, len(terms))
	for i, t := range terms {
		quoted[i] = q + strings.ReplaceAll(t, q, q+q) + q
	}
	return strings.Join(quoted, sep)
}

// Advisory lock keys (PostgreSQL): arbitrary constants, the same on every node.
const (
	lockKeyEvents     = 0x6f7074696d756d01 // "optimum" + 1: event appends
	lockKeyMigrations = 0x6f7074696d756d02 // "optimum" + 2: migrations
)

var (
	sqliteDialect = dialect{
		name: "sqlite",
		// AUTOINCREMENT's counter: never reused, even after the newest rows are deleted.
		nextEvent: `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0) + 1,
			(SELECT hash FROM events ORDER BY id DESC LIMIT 1)`,
		// bm25 weights per column: incident_id 0, title 4, body 1, services 2, causes 2,
		// solution 1. bm25 is negative, better matches lower.
		search: fullText{
			similar: `SELECT i.doc, bm25(incident_search, 0.0, 4.0, 1.0, 2.0, 2.0, 1.0) AS rank
				FROM incident_search JOIN incidents i ON i.id = incident_search.incident_id
				WHERE incident_search MATCH $1 AND i.id <> $2 AND i.status <> $3
				ORDER BY rank, i.created_at DESC LIMIT $4`,
			anyOf: func(terms []string) string { return quoteEach(terms, `"`, " OR ") },
		},
	}

	postgresDialect = dialect{
		name:      "postgres",
		serialize: fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", int64(lockKeyEvents)),
		nextEvent: `SELECT nextval(pg_get_serial_sequence('events', 'id')),
			(SELECT hash FROM events ORDER BY id DESC LIMIT 1)`,
		skipLocked:       " FOR UPDATE SKIP LOCKED",
		lockMigrations:   fmt.Sprintf("SELECT pg_advisory_lock(%d)", int64(lockKeyMigrations)),
		unlockMigrations: fmt.Sprintf("SELECT pg_advisory_unlock(%d)", int64(lockKeyMigrations)),
		// ts_rank with the weights of the bm25 columns (D unused, C 1, B 2, A 4, scaled to
		// 1), negated so that better matches are lower, as on SQLite.
		search: fullText{
			similar: `SELECT i.doc, -ts_rank('{0, 0.25, 0.5, 1.0}', s.document, to_tsquery('simple', $1)) AS rank
				FROM incident_search s JOIN incidents i ON i.id = s.incident_id
				WHERE s.document @@ to_tsquery('simple', $1) AND i.id <> $2 AND i.status <> $3
				ORDER BY rank, i.created_at DESC LIMIT $4`,
			anyOf: func(terms []string) string { return quoteEach(terms, "'", " | ") },
		},
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
