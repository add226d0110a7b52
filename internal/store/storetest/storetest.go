// Package storetest opens real, fresh databases for tests: SQLite in a temporary folder,
// and PostgreSQL as a new database with a random name on the server of
// OPTIMUM_TEST_POSTGRES_URL, dropped when the test ends. EachDB runs a test on both, so
// the two backends keep one contract.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver for the admin connection

	"github.com/optimum-bcp/optimum/internal/store"
)

// DefaultPostgresURL is the machine's PostgreSQL, used when OPTIMUM_TEST_POSTGRES_URL is
// not set. Its database is only where new test databases are created from.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// EachDB runs fn as two subtests, "sqlite" and "postgres", each on a fresh database.
func EachDB(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// EachShared runs fn as two subtests, "sqlite" and "postgres", each on a fresh database
// that open opens once more on every call, as separate nodes (processes) would: each
// *store.DB has its own connections. Every one is closed at cleanup.
func EachShared(t *testing.T, fn func(t *testing.T, open func() *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "optimum.db")
		fn(t, func() *store.DB {
			t.Helper()
			db, err := store.OpenSQLite(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		})
	})
	t.Run("postgres", func(t *testing.T) {
		u := PostgresURL(t)
		fn(t, func() *store.DB {
			t.Helper()
			db, err := store.OpenPostgres(context.Background(), u)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		})
	})
}

// Each runs fn as two subtests, "sqlite" and "postgres"; inside them Open opens a fresh
// database of that backend. It suits tests whose helpers open the database deep inside.
func Each(t *testing.T, fn func(t *testing.T)) {
	t.Helper()
	t.Run("sqlite", fn)
	t.Run("postgres", fn)
}

// Open opens a fresh database: PostgreSQL when tb runs inside the "postgres" subtest of
// Each or EachDB, SQLite otherwise.
func Open(tb testing.TB) *store.DB {
	tb.Helper()
	if slices.Contains(strings.Split(tb.Name(), "/"), "postgres") {
		return Postgres(tb)
	}
	return SQLite(tb)
}

// SQLite opens a fresh SQLite database in a temporary folder, closed at cleanup.
func SQLite(tb testing.TB) *store.DB {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "optimum.db")
	db, err := store.OpenSQLite(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	remember(tb, db, "sqlite", "file:"+filepath.ToSlash(path)+"?_pragma=busy_timeout(10000)")
	return db
}

// Postgres opens a fresh, migrated PostgreSQL database, closed and dropped at cleanup.
func Postgres(tb testing.TB) *store.DB {
	tb.Helper()
	u := PostgresURL(tb)
	db, err := store.OpenPostgres(context.Background(), u)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() }) // runs before the DROP registered by PostgresURL
	remember(tb, db, "pgx", u)
	return db
}

// rawDSN holds, for each database opened by SQLite or Postgres, its driver and DSN.
var rawDSN sync.Map // *store.DB -> [2]string

func remember(tb testing.TB, db *store.DB, driver, dsn string) {
	rawDSN.Store(db, [2]string{driver, dsn})
	tb.Cleanup(func() { rawDSN.Delete(db) })
}

// Exec runs one statement on db's database through a connection of its own, behind the
// store's back: for tests of rows the store no longer writes, such as data from before a
// rule was enforced. Placeholders are $1, $2… on both backends. db must come from SQLite,
// Postgres, Open or Each.
func Exec(tb testing.TB, db *store.DB, query string, args ...any) {
	tb.Helper()
	v, ok := rawDSN.Load(db)
	if !ok {
		tb.Fatal("storetest.Exec: the database was not opened by storetest")
	}
	d := v.([2]string)
	raw, err := sql.Open(d[0], d[1])
	if err != nil {
		tb.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(context.Background(), query, args...); err != nil {
		tb.Fatalf("storetest.Exec %q: %v", query, err)
	}
}

// Raw opens a connection pool of its own to db's database, behind the store's back, closed
// at cleanup: for tests that read what the database itself keeps (its statistics, its
// plans). db must come from SQLite, Postgres, Open or Each.
func Raw(tb testing.TB, db *store.DB) *sql.DB {
	tb.Helper()
	v, ok := rawDSN.Load(db)
	if !ok {
		tb.Fatal("storetest.Raw: the database was not opened by storetest")
	}
	d := v.([2]string)
	raw, err := sql.Open(d[0], d[1])
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { raw.Close() })
	return raw
}

// PostgresURL creates an empty database with a random name and returns its URL; the
// database is dropped at cleanup (after the cleanups registered later, which close it).
// When the server can't be reached the test is skipped with the reason, or fails when CI
// is set: CI must never skip it.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	admin, base := adminDB(tb)
	name := "optimum_test_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	// A test needs no durability across a server crash: commits that don't wait for the
	// WAL flush keep the suite fast on a shared disk. Visibility and locking are unchanged.
	if _, err := admin.ExecContext(ctx, "ALTER DATABASE "+name+" SET synchronous_commit = off"); err != nil {
		tb.Fatalf("set up test database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// WITH (FORCE) ends connections the test left open (PostgreSQL 13+).
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	u := *base
	u.Path = "/" + name
	return u.String()
}

// ServerURL is the URL of the test PostgreSQL server's base database:
// OPTIMUM_TEST_POSTGRES_URL, or DefaultPostgresURL.
func ServerURL() string {
	if u := os.Getenv("OPTIMUM_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

var (
	adminOnce sync.Once
	adminPool *sql.DB
	adminURL  *url.URL
	adminErr  error
)

// adminDB is the connection to the server's base database, shared by the package's tests.
func adminDB(tb testing.TB) (*sql.DB, *url.URL) {
	tb.Helper()
	adminOnce.Do(func() {
		raw := ServerURL()
		if adminURL, adminErr = url.Parse(raw); adminErr != nil {
			return
		}
		if adminPool, adminErr = sql.Open("pgx", raw); adminErr != nil {
			return
		}
		adminPool.SetMaxOpenConns(4)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if adminErr = adminPool.PingContext(ctx); adminErr == nil {
			dropAbandoned(ctx, adminPool)
		}
	})
	if adminErr != nil {
		msg := "PostgreSQL is not reachable (set OPTIMUM_TEST_POSTGRES_URL): " + firstLine(adminErr.Error())
		if os.Getenv("CI") != "" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return adminPool, adminURL
}

// dropAbandoned drops the test databases that a killed test run left behind: made by
// this package (the name), over two hours old (the creation time of their folder) and
// with nobody connected. Failures are ignored: it is housekeeping, and without the
// rights to read the folder's time it does nothing.
func dropAbandoned(ctx context.Context, admin *sql.DB) {
	rows, err := admin.QueryContext(ctx, `SELECT datname FROM pg_database d
		WHERE datname LIKE 'optimum\_test\_%'
		AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)
		AND (pg_stat_file('base/' || d.oid || '/PG_VERSION')).modification < now() - interval '2 hours'`)
	if err != nil {
		return
	}
	var names []string
	for rows.Next() {
		var n string
		if rows.Scan(&n) == nil {
			names = append(names, n)
		}
	}
	rows.Close()
	for _, n := range names {
		admin.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+n+`"`) // not WITH (FORCE): if someone connected since, leave it
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
