package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/internal/testenv"
)

// PostgreSQL restarts under a store whose pools hold idle connections to the old server:
// while it is down every transaction and query fails as EUNAVAILABLE (a 503), never as an
// internal error, and once it is back the very next transactions and queries succeed on
// fresh connections, without reopening the store.
func TestPostgresRestartHealsThePools(t *testing.T) {
	pg := testenv.StartPrivatePostgres(t)
	ctx := context.Background()
	db, err := OpenPostgres(ctx, pg.CreateDB("optimum_restart"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.write.ExecContext(ctx, "CREATE TABLE restart_probe (n integer)"); err != nil {
		t.Fatal(err)
	}
	// Leave idle connections in both pools: they die with the server.
	fill := func(p *sql.DB, n int) {
		var conns []*sql.Conn
		for range n {
			c, err := p.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.ExecContext(ctx, "SELECT 1"); err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		for _, c := range conns {
			c.Close()
		}
	}
	insert := func(n int) error {
		return db.tx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO restart_probe (n) VALUES ($1)", n)
			return err
		})
	}
	count := func() (int, error) {
		var n int
		err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM restart_probe").Scan(&n)
		return n, err
	}

	// A restart of under a second: pgx checks a reused connection with a ping only when
	// it sat idle for more than a second, so the next transactions meet the dead ones.
	fill(db.write, 6)
	fill(db.read, 4)
	pg.Stop()
	pg.Start()
	// More attempts than stale connections in either pool: each must succeed.
	for i := 1; i <= 8; i++ {
		if err := insert(i); err != nil {
			t.Fatalf("transaction %d after PostgreSQL is back: %v", i, err)
		}
	}
	for i := 1; i <= 6; i++ {
		if n, err := count(); err != nil || n != 8 {
			t.Fatalf("query %d after PostgreSQL is back = %d, %v; want 8 rows", i, n, err)
		}
	}

	pg.Stop()
	if err := insert(0); optimum.ErrorCode(err) != optimum.EUNAVAILABLE {
		t.Errorf("transaction while PostgreSQL is down: code %q (%v), want %q", optimum.ErrorCode(err), err, optimum.EUNAVAILABLE)
	}
	if _, err := count(); optimum.ErrorCode(err) != optimum.EUNAVAILABLE {
		t.Errorf("query while PostgreSQL is down: code %q (%v), want %q", optimum.ErrorCode(err), err, optimum.EUNAVAILABLE)
	}
	pg.Start()
	if err := insert(9); err != nil {
		t.Errorf("transaction after the second restart: %v", err)
	}
	if n, err := count(); err != nil || n != 9 {
		t.Errorf("query after the second restart = %d, %v; want 9 rows", n, err)
	}
}

// Which errors mean "the database is not there" (a 503, retried on a fresh connection where
// nothing happened yet), written out by hand.
func TestConnectionLostErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"admin shutdown 57P01", &pgconn.PgError{Code: "57P01"}, true},
		{"crash shutdown 57P02", &pgconn.PgError{Code: "57P02"}, true},
		{"cannot connect now 57P03", &pgconn.PgError{Code: "57P03"}, true},
		{"connection failure 08006", &pgconn.PgError{Code: "08006"}, true},
		{"pgx closed the connection", fmt.Errorf("begin: %w", pgconn.ErrConnClosed), true},
		{"unexpected EOF", fmt.Errorf("failed to receive message: %w", io.ErrUnexpectedEOF), true},
		{"EOF", io.EOF, true},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{"connection reset", syscall.ECONNRESET, true},
		{"already marked", errUnavailable, true},
		{"unique violation 23505", &pgconn.PgError{Code: "23505"}, false},
		{"serialization failure 40001", &pgconn.PgError{Code: "40001"}, false},
		{"query canceled 57014", &pgconn.PgError{Code: "57014"}, false},
		{"no rows", sql.ErrNoRows, false},
		{"context canceled", context.Canceled, false},
		{"plain error", errors.New("boom"), false},
		{"nil", nil, false},
	} {
		if got := isConnectionLost(c.err); got != c.want {
			t.Errorf("isConnectionLost(%s) = %v, want %v", c.name, got, c.want)
		}
	}
	// A lost connection is transient for the log consumers too (the same test, not a copy),
	// and so are failures that are not about the connection.
	for _, err := range []error{pgconn.ErrConnClosed, &pgconn.PgError{Code: "57P01"}, &pgconn.PgError{Code: "40001"}, driver.ErrBadConn, context.DeadlineExceeded} {
		if !transient(err) {
			t.Errorf("transient(%v) = false, want true", err)
		}
	}
	for _, err := range []error{&pgconn.PgError{Code: "23505"}, errors.New("boom")} {
		if transient(err) {
			t.Errorf("transient(%v) = true, want false", err)
		}
	}
	// Marked errors answer 503 and keep the driver's error for the log; ErrBadConn stays
	// visible so database/sql still retries outside a transaction.
	if err := connectionLost(driver.ErrBadConn); optimum.ErrorCode(err) != optimum.EUNAVAILABLE || !errors.Is(err, driver.ErrBadConn) {
		t.Errorf("connectionLost(ErrBadConn) = %v, want EUNAVAILABLE wrapping driver.ErrBadConn", err)
	}
	if err := connectionLost(&pgconn.PgError{Code: "23505"}); optimum.ErrorCode(err) == optimum.EUNAVAILABLE {
		t.Errorf("connectionLost(unique violation) = %v, want it unchanged", err)
	}
}
