package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func openCachedForTest(t *testing.T) (*sql.DB, *stmtCacheStats) {
	t.Helper()
	stats := &stmtCacheStats{}
	db, err := openSQLiteCached("file:"+filepath.ToSlash(filepath.Join(t.TempDir(), "c.db"))+"?_pragma=journal_mode(WAL)", stats)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		if _, err := db.Exec(`INSERT INTO t (id, name) VALUES ($1, $2)`, i, fmt.Sprintf("n%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	return db, stats
}

func namesOf(t *testing.T, db interface {
	Query(string, ...any) (*sql.Rows, error)
}, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAStatementRunAgainIsNotParsedAgain(t *testing.T) {
	db, stats := openCachedForTest(t)
	before := stats.misses.Load()
	for i := 1; i <= 5; i++ {
		got := namesOf(t, db, `SELECT name FROM t WHERE id = $1`, i)
		if len(got) != 1 || got[0] != fmt.Sprintf("n%d", i) {
			t.Fatalf("id %d: got %v", i, got)
		}
	}
	if _, err := db.Exec(`UPDATE t SET name = $1 WHERE id = $2`, "x", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE t SET name = $1 WHERE id = $2`, "y", 2); err != nil {
		t.Fatal(err)
	}
	if got := stats.misses.Load() - before; got != 2 {
		t.Errorf("two statements run seven times were prepared %d times, want 2", got)
	}
	if got := namesOf(t, db, `SELECT name FROM t WHERE id IN ($1, $2) ORDER BY id`, 1, 2); strings.Join(got, ",") != "x,y" {
		t.Errorf("after the updates: %v, want x,y", got)
	}
}

func TestTheSameQueryRunWhileItsRowsAreOpenGivesBothAnswers(t *testing.T) {
	db, _ := openCachedForTest(t)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	const q = `SELECT name FROM t WHERE id >= $1 ORDER BY id`
	outer, err := tx.Query(q, 4)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for outer.Next() {
		var s string
		if err := outer.Scan(&s); err != nil {
			t.Fatal(err)
		}
		inner := namesOf(t, tx, q, 2)
		got = append(got, s+":"+strings.Join(inner, "+"))
	}
	if err := outer.Close(); err != nil {
		t.Fatal(err)
	}
	want := "n4:n2+n3+n4+n5,n5:n2+n3+n4+n5"
	if strings.Join(got, ",") != want {
		t.Errorf("got %v, want %s", got, want)
	}
}

func TestAStatementEvictedWhileItsRowsAreOpenStillReadsThemAll(t *testing.T) {
	db, _ := openCachedForTest(t)
	const q = `SELECT name FROM t ORDER BY id`
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	open, err := conn.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for open.Next() {
		var s string
		if err := open.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
		if len(got) == 1 {
			// Push q out of the cache while its rows are open.
			for i := 0; i <= stmtCacheSize; i++ {
				var n int
				if err := conn.QueryRowContext(context.Background(), fmt.Sprintf(`SELECT %d + count(*) FROM t`, i)).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != i+5 {
					t.Fatalf("query %d: %d", i, n)
				}
			}
		}
	}
	if err := open.Close(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "n1,n2,n3,n4,n5" {
		t.Errorf("got %v", got)
	}
	conn.Close() // the pool has one connection
	if again := namesOf(t, db, q); len(again) != 5 {
		t.Errorf("run again after eviction: %v", again)
	}
}

func TestBadSQLAndScriptsBehaveAsWithoutTheCache(t *testing.T) {
	db, _ := openCachedForTest(t)
	for i := 0; i < 2; i++ {
		if _, err := db.Exec(`SELEC name FROM t`); err == nil || !strings.Contains(err.Error(), "syntax error") {
			t.Fatalf("run %d: a syntax error gave %v", i, err)
		}
	}
	if _, err := db.Exec(`INSERT INTO t (id, name) VALUES (6, 'a'); INSERT INTO t (id, name) VALUES (7, 'b');`); err != nil {
		t.Fatal(err)
	}
	if got := namesOf(t, db, `SELECT name FROM t WHERE id > $1 ORDER BY id`, 5); strings.Join(got, ",") != "a,b" {
		t.Errorf("a script ran as %v, want both of its inserts", got)
	}
	if _, err := db.Exec(`INSERT INTO t (id, name) VALUES ($1, $2)`, 1, "dup"); err == nil {
		t.Error("a duplicate key was accepted")
	}
	if _, err := db.Exec(`INSERT INTO t (id, name) VALUES ($1, $2)`, 8, "ok"); err != nil {
		t.Errorf("the statement that failed once does not run again: %v", err)
	}
}

func TestACachedStatementSeesTheSchemaChange(t *testing.T) {
	db, _ := openCachedForTest(t)
	cols := func() []string {
		rows, err := db.Query(`SELECT * FROM t WHERE id = $1`, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		c, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if got := cols(); len(got) != 2 {
		t.Fatalf("columns before: %v", got)
	}
	if _, err := db.Exec(`ALTER TABLE t ADD COLUMN city TEXT NOT NULL DEFAULT 'cdmx'`); err != nil {
		t.Fatal(err)
	}
	if got := cols(); strings.Join(got, ",") != "id,name,city" {
		t.Errorf("columns after ALTER TABLE: %v", got)
	}
}
