package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/optimum-bcp/optimum"
)

// IsPostgresURL reports whether a database URL names PostgreSQL.
func IsPostgresURL(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// PostgresName names the database of a URL for logs: postgres://host:port/database,
// without the user, the password or the options.
func PostgresName(url string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return "postgres (invalid URL)"
	}
	return fmt.Sprintf("postgres://%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
}

// OpenPostgres connects to the PostgreSQL database at url (postgres://user@host:port/db?…)
// and applies the embedded migrations. Several nodes may open the same database at once.
// Errors are one line that names the server, without the driver's stack of text.
func OpenPostgres(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL, password included: say only what is wrong.
		return nil, errors.New("database: the PostgreSQL URL is not valid (expected postgres://user:password@host:5432/database)")
	}
	where := fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	// Unless the URL says otherwise: name the sessions in pg_stat_activity, and let the
	// server end a session that sits in a transaction for a minute (a hung node), so the
	// event lock it holds goes to the other nodes.
	for k, v := range map[string]string{"application_name": "optimum", "idle_in_transaction_session_timeout": "60000"} {
		if _, ok := cfg.RuntimeParams[k]; !ok {
			cfg.RuntimeParams[k] = v
		}
	}
	// Two pools, as on SQLite: writers that queue for the advisory lock (see dialect) can
	// never take every connection from a reader, nor a transaction that reads outside
	// itself wait for a connection held by writers queued behind it.
	connector := unavailableConnector{stdlib.GetConnector(*cfg)}
	pool := func(size int) *sql.DB {
		p := sql.OpenDB(connector)
		p.SetMaxOpenConns(size)
		p.SetMaxIdleConns(size / 2)
		p.SetConnMaxLifetime(30 * time.Minute)
		p.SetConnMaxIdleTime(5 * time.Minute)
		return p
	}
	db := &DB{write: pool(12), read: pool(8), d: postgresDialect}

	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.write.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database: cannot connect to PostgreSQL at %s: %s", where, connectReason(err))
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database: PostgreSQL at %s: %w", where, err)
	}
	return db, nil
}

// connectReason is the root cause of a failed connection, in a few words.
func connectReason(err error) string {
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr):
		return pgErr.Message // e.g. database "x" does not exist; password authentication failed
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (is PostgreSQL running and listening there?)"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, syscall.ETIMEDOUT):
		return "no answer within the time limit"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "unknown host " + dnsErr.Name
	}
	// The innermost error is the useful one; the chain above it repeats the address.
	for {
		next := errors.Unwrap(err)
		if next == nil {
			break
		}
		err = next
	}
	return err.Error()
}

// errUnavailable is the application error when the database cannot be reached: requests
// answer 503 and try again later, instead of a bare internal error.
var errUnavailable = optimum.Errorf(optimum.EUNAVAILABLE, "The database cannot be reached right now; try again in a moment.")

// unavailableConnector marks the errors that mean "PostgreSQL is not there" as
// EUNAVAILABLE, keeping the driver's error in the chain for the log: failures to open a
// connection, and queries on a connection the server ended (restart, failover,
// pg_terminate_backend). database/sql drops such connections and opens new ones, so while
// PostgreSQL is down every query fails this way, and once it is back the pool reconnects
// by itself.
type unavailableConnector struct{ driver.Connector }

func (c unavailableConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUnavailable, err)
	}
	return &pgConn{Conn: conn.(*stdlib.Conn)}, nil
}

// pgConn is pgx's database/sql connection with connection-loss errors marked (above).
// A connection the server ended while idle in the pool fails its next statement; when
// that statement starts a transaction or is a query outside one, nothing has happened
// yet, so it answers driver.ErrBadConn and database/sql runs it again on another (or a
// new) connection: after an outage the first requests don't fail on stale connections.
type pgConn struct {
	*stdlib.Conn
	inTx bool
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	res, err := c.Conn.ExecContext(ctx, query, args)
	return res, connectionLost(err)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := c.Conn.QueryContext(ctx, query, args)
	if err != nil && !c.inTx && isConnectionLost(err) {
		return nil, driver.ErrBadConn
	}
	return rows, connectionLost(err)
}

func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.Conn.BeginTx(ctx, opts)
	if err != nil {
		// Nothing has happened yet: a connection found dead here (the server restarted
		// while it sat in the pool, or pgx closed it after a failed round trip, "conn
		// closed") is dropped and database/sql begins again on another or a new one.
		if isConnectionLost(err) {
			return nil, driver.ErrBadConn
		}
		return nil, err
	}
	c.inTx = true
	return pgTx{Tx: tx, c: c}, nil
}

type pgTx struct {
	driver.Tx
	c *pgConn
}

func (tx pgTx) Commit() error {
	tx.c.inTx = false
	return connectionLost(tx.Tx.Commit())
}

func (tx pgTx) Rollback() error {
	tx.c.inTx = false
	return tx.Tx.Rollback()
}

// connectionLost marks err as EUNAVAILABLE when it says the server ended or lost the
// connection. driver.ErrBadConn stays in the chain, so outside a transaction database/sql
// still retries on another connection; inside one (where it does not retry) the caller
// sees a 503, not an internal error.
func connectionLost(err error) error {
	if err == nil || !(isConnectionLost(err) || errors.Is(err, driver.ErrBadConn)) || optimum.ErrorCode(err) == optimum.EUNAVAILABLE {
		return err
	}
	return fmt.Errorf("%w: %w", errUnavailable, err)
}

// isConnectionLost reports whether err says the database server ended, refused or lost the
// connection: SQLSTATE class 08, 57P01-57P03 (shutdown, crash, starting up), a failed
// connect, a broken socket, or a connection pgx already closed ("conn closed"). It is the
// store's one test of "the database is not there"; transient builds on it.
func isConnectionLost(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if optimum.ErrorCode(err) == optimum.EUNAVAILABLE {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	var netErr net.Error
	var connectErr *pgconn.ConnectError
	switch {
	case errors.As(err, &netErr), errors.As(err, &connectErr),
		errors.Is(err, pgconn.ErrConnClosed), // pgx closed it after a failed read (e.g. the server's 57P01)
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	// pgconn says nothing was sent: a closed connection ("conn closed") or a write that
	// failed before any byte left.
	return pgconn.SafeToRetry(err)
}
