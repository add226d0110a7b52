package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// A commit the client was told about must survive a power cut: every SQLite connection,
// the writer and each pooled reader, runs in WAL mode with synchronous=FULL (2), so
// the WAL is synced before a commit returns. NORMAL (1) would sync only at checkpoints.
func TestSQLiteSyncsEveryCommit(t *testing.T) {
	ctx := context.Background()
	db, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "optimum.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, pool := range []struct {
		name string
		db   *sql.DB
	}{{"writer", db.write}, {"reader", db.read}} {
		// Hold as many connections as the pool allows at once, so each is a distinct one.
		n := pool.db.Stats().MaxOpenConnections
		if n < 1 {
			t.Fatalf("%s pool has no connection limit", pool.name)
		}
		conns := make([]*sql.Conn, n)
		for i := range conns {
			c, err := pool.db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			conns[i] = c
		}
		if open := pool.db.Stats().OpenConnections; open != n {
			t.Fatalf("%s pool: %d connections open, want %d", pool.name, open, n)
		}
		for i, c := range conns {
			var sync int
			var mode string
			if err := c.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
				t.Fatal(err)
			}
			if err := c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
				t.Fatal(err)
			}
			if sync != 2 || mode != "wal" {
				t.Errorf("%s connection %d: synchronous=%d journal_mode=%s, want 2 (FULL) and wal", pool.name, i, sync, mode)
			}
		}
	}
}
