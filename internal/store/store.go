// Package store keeps every feature's state in SQLite (the embedded default) or
// PostgreSQL (several nodes sharing one database), behind one set of queries written where the two dialects agree ($N
// placeholders, RETURNING, ON CONFLICT, times as UTC unix milliseconds). It owns the event
// log: events are appended inside the transaction of the change they record, and after a
// commit the store tells its notifier the newest id, so the fan-out wakes up.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/optimum-bcp/optimum"
	"modernc.org/sqlite"
)

//go:embed migrations
var migrations embed.FS

// DB is the database. On SQLite, writes go through one connection (SQLite serializes
// writers anyway, and a single writer avoids SQLITE_BUSY on lock upgrades) and reads use a
// small pool; on PostgreSQL both are pools (postgres.go).
type DB struct {
	write *sql.DB
	read  *sql.DB
	d     dialect

	writes writeCounters   // what write transactions cost (WriteStats)
	stmts  *stmtCacheStats // SQLite's prepared statements reused (stmtcache.go); nil on PostgreSQL
	group  grouper         // small writes sharing one commit on SQLite (group.go)
	// gate lets background writes begin only while no foreground write waits (txOf).
	gate sync.RWMutex

	mu     sync.RWMutex
	notify func(lastID int64)
	poison PoisonPolicy // how log consumers treat an event they fail on (consumers.go)
}

// SQLiteSynchronous is the synchronous setting of every SQLite connection: FULL, so a
// commit is on disk before the client is answered (see docs/operations.md, "Durability").
const SQLiteSynchronous = "FULL"

// OpenSQLite opens (creating if needed) the SQLite database at path and applies the
// embedded migrations.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	dsn := func(extra string) string {
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "foreign_keys(1)")
		// FULL, not NORMAL: in WAL mode NORMAL syncs only at checkpoints, so a power cut
		// can lose the last commits, and a declaration, an acknowledgement or a safety
		// answer the client was told is saved (201, 200) would be gone. FULL syncs the
		// WAL before every commit returns. Set on every connection, readers included, so
		// no pooled connection runs with the weaker setting (TestSQLiteSyncsEveryCommit).
		q.Add("_pragma", "synchronous("+SQLiteSynchronous+")")
		q.Set("_txlock", "immediate")
		if extra != "" {
			q.Add("_pragma", extra)
		}
		return "file:" + filepath.ToSlash(path) + "?" + q.Encode()
	}
	stmts := &stmtCacheStats{}
	w, err := openSQLiteCached(dsn(""), stmts)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db := &DB{write: w, d: sqliteDialect, stmts: stmts}
	if err := db.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	r, err := openSQLiteCached(dsn("query_only(1)"), stmts)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	db.read = r
	return db, nil
}

// openSQLiteCached opens dsn on modernc.org/sqlite with each connection keeping its
// statements prepared (stmtcache.go).
func openSQLiteCached(dsn string, stats *stmtCacheStats) (*sql.DB, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(stmtCacheConnector{inner: c, stats: stats}), nil
}

// Close closes the database. Call it last, after everything that uses it has stopped.
func (db *DB) Close() error {
	db.stopGroups()
	return errors.Join(db.read.Close(), db.write.Close())
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// SetNotifier sets the function told the newest event id after every commit that appended
// events. It must not block.
func (db *DB) SetNotifier(fn func(lastID int64)) {
	db.mu.Lock()
	db.notify = fn
	db.mu.Unlock()
}

func (db *DB) notified(id int64) {
	db.mu.RLock()
	fn := db.notify
	db.mu.RUnlock()
	if fn != nil && id > 0 {
		fn(id)
	}
}

// migrate applies, in order, the embedded migrations of the dialect not yet recorded. It
// works on one connection holding the dialect's migration lock, so several nodes starting
// at once apply each migration once: the others wait, then find it recorded.
func (db *DB) migrate(ctx context.Context) (err error) {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if err := execIf(ctx, conn, db.d.lockMigrations); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer func() {
		// A session lock outlives errors: release it even when the context is done.
		if uerr := execIf(context.WithoutCancel(ctx), conn, db.d.unlockMigrations); uerr != nil && err == nil {
			err = fmt.Errorf("migrate: unlock: %w", uerr)
		}
	}()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	dir := "migrations/" + db.d.name
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, name := range names {
		version := strings.TrimSuffix(name, ".sql")
		body, err := fs.ReadFile(migrations, dir+"/"+name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if err := applyMigration(ctx, conn, name, version, string(body)); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return nil
}

// applyMigration runs one migration and records it, in one transaction, unless recorded.
func applyMigration(ctx context.Context, conn *sql.Conn, name, version, body string) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = $1", version).Scan(&n); err != nil || n > 0 {
		return err
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", version, time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}

// tx runs fn in a write transaction and commits it when fn returns nil.
func (db *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	return db.txOf(ctx, false, fn)
}

// backgroundTx is tx for bulk work that may wait (grouped delivery writes, an audience's
// batches): on SQLite it starts only when no other write is waiting to begin, so a
// declaration, an acknowledgement or any other request that writes waits for at most
// the transactions already running or queued, never for a stream of background ones
// (issue 16.4: boards stay live during a 100,000-person alert).
func (db *DB) backgroundTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return db.txOf(ctx, true, fn)
}

func (db *DB) txOf(ctx context.Context, background bool, fn func(*sql.Tx) error) error {
	asked := time.Now()
	if db.d.name == "sqlite" {
		if background {
			// Wait at the gate until no foreground write is waiting to begin.
			db.gate.Lock()
			db.gate.Unlock() //nolint:staticcheck // an empty critical section: a gate, not a lock
		} else {
			db.gate.RLock()
		}
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if db.d.name == "sqlite" && !background {
		db.gate.RUnlock()
	}
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	begun := time.Now()
	defer func() { db.writes.held.Add(int64(time.Since(begun))) }()
	db.writes.begin.Add(int64(begun.Sub(asked)))
	db.writes.txs.Add(1)
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	committing := time.Now()
	err = tx.Commit()
	db.writes.commit.Add(int64(time.Since(committing)))
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// writeCounters add up, since the database was opened, what its write transactions
// (those through DB.tx: every event append, claim and outcome) cost.
type writeCounters struct {
	txs, begin, held, commit atomic.Int64
	groups, grouped          atomic.Int64
}

// WriteStats is what the database's write transactions have cost since it was opened:
// how many, how long they waited to begin (on SQLite: for the one writer connection, the
// writer's queue), how long they held the writer from begin to the end of commit, and
// how long their commits took (on SQLite with synchronous=FULL, mostly the WAL fsync).
// Held divided by the wall time is the writer's utilisation: near 1, the writer bounds
// whatever waits for it. A benchmark compares two readings.
type WriteStats struct {
	Transactions int64
	BeginWait    time.Duration
	Held         time.Duration
	Commit       time.Duration
	// PoolWaits and PoolWait are database/sql's count and total time of waits for a
	// connection of the write pool, including writes outside DB.tx.
	PoolWaits int64
	PoolWait  time.Duration
	// Groups are the transactions that committed grouped writes (group.go), Grouped the
	// writes they carried.
	Groups, Grouped int64
}

// WriteStats returns the write transactions' costs so far.
func (db *DB) WriteStats() WriteStats {
	ps := db.write.Stats()
	return WriteStats{Transactions: db.writes.txs.Load(), BeginWait: time.Duration(db.writes.begin.Load()),
		Held: time.Duration(db.writes.held.Load()), Commit: time.Duration(db.writes.commit.Load()),
		PoolWaits: ps.WaitCount, PoolWait: ps.WaitDuration, Groups: db.writes.groups.Load(), Grouped: db.writes.grouped.Load()}
}

// eventTx is a write transaction that may append events; after commit it notifies.
type eventTx struct {
	*sql.Tx
	d         dialect
	lastEvent int64
	lastHash  string // the hash of lastEvent
}

// eventsTx runs fn in a write transaction that may append to the event log.
func (db *DB) eventsTx(ctx context.Context, fn func(*eventTx) error) error {
	return db.claimEventsTx(ctx, nil, fn)
}

// claimEventsTx is eventsTx with a first step, claim, run before the transaction waits
// for its turn among writers (dialect.serialize): a claim that finds its work taken by
// another node answers false and the transaction ends at once, without waiting.
func (db *DB) claimEventsTx(ctx context.Context, claim func(*sql.Tx) (bool, error), fn func(*eventTx) error) error {
	var last int64
	err := db.tx(ctx, func(tx *sql.Tx) error {
		if claim != nil {
			if ok, err := claim(tx); err != nil || !ok {
				return err
			}
		}
		if err := db.d.serializeTx(ctx, tx); err != nil {
			return err
		}
		et := &eventTx{Tx: tx, d: db.d}
		if err := fn(et); err != nil {
			return err
		}
		last = et.lastEvent
		return nil
	})
	if err == nil {
		db.notified(last)
	}
	return err
}

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func nullMillis(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// notFound reports sql.ErrNoRows as ENOTFOUND with the message.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return optimum.Errorf(optimum.ENOTFOUND, format, args...)
	}
	return err
}
