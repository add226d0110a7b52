package store_test

import (
	"context"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// Every SQLite migration has its PostgreSQL port under the same name: a migration added
// for SQLite only fails here, by name, rather than as a missing table somewhere else.
func TestEveryMigrationHasBothDialects(t *testing.T) {
	names := func(dir string) []string {
		entries, err := fs.ReadDir(os.DirFS("migrations"), dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".sql") {
				out = append(out, e.Name())
			}
		}
		return out
	}
	sqlite, postgres := names("sqlite"), names("postgres")
	for _, n := range sqlite {
		if !slices.Contains(postgres, n) {
			t.Errorf("migrations/sqlite/%s has no PostgreSQL port: add migrations/postgres/%s", n, n)
		}
	}
	for _, n := range postgres {
		if !slices.Contains(sqlite, n) {
			t.Errorf("migrations/postgres/%s has no SQLite twin", n)
		}
	}
}

// Both dialects' migrations make the same tables with the same columns, so one set of
// queries works on both. The search index's internals differ by design: SQLite's FTS5
// shadow tables, and PostgreSQL's tsvector column.
func TestBothDialectsHaveTheSameTablesAndColumns(t *testing.T) {
	ctx := context.Background()
	lite, err := store.Columns(ctx, storetest.SQLite(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("postgres", func(t *testing.T) {
		pg, err := store.Columns(ctx, storetest.Postgres(t))
		if err != nil {
			t.Fatal(err)
		}
		for table := range lite {
			if table == "sqlite_sequence" || strings.HasPrefix(table, "incident_search_") {
				delete(lite, table)
			}
		}
		pg["incident_search"] = slices.DeleteFunc(pg["incident_search"], func(c string) bool { return c == "document" })
		for table, cols := range lite {
			if !slices.Equal(cols, pg[table]) {
				t.Errorf("%s: SQLite has %v, PostgreSQL %v", table, cols, pg[table])
			}
		}
		for table := range pg {
			if _, ok := lite[table]; !ok {
				t.Errorf("%s: only in PostgreSQL", table)
			}
		}
	})
}

// The store's PostgreSQL sessions are named, and a session stuck in a transaction (a
// hung node holding the event lock) is ended by the server after a minute.
func TestPostgresSessionsAreNamedAndCannotHoldTheLockForever(t *testing.T) {
	db := storetest.Postgres(t)
	for name, want := range map[string]string{"application_name": "optimum", "idle_in_transaction_session_timeout": "1min"} {
		if got, err := store.Setting(context.Background(), db, name); err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
}
