package store

import (
	"context"
	"database/sql"
	"fmt"
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
}

// Advisory lock keys (PostgreSQL): arbitrary constants, the same on every node.
const (
	lockKeyEvents     = 0x6f7074696d756d01 // "optimum" + 1: event appends
	lockKeyMigrations = 0x6f7074696d756d02 // "optimum" + 2: migrations
)

var (
	sqliteDialect = dialect{name: "sqlite"}

	postgresDialect = dialect{
		name:             "postgres",
		serialize:        fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", int64(lockKeyEvents)),
		skipLocked:       " FOR UPDATE SKIP LOCKED",
		lockMigrations:   fmt.Sprintf("SELECT pg_advisory_lock(%d)", int64(lockKeyMigrations)),
		unlockMigrations: fmt.Sprintf("SELECT pg_advisory_unlock(%d)", int64(lockKeyMigrations)),
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
