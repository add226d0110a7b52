package store

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
)

// SQLite parses every statement it runs: modernc.org/sqlite prepares a statement for each
// Exec and Query and finalizes it after. A profile of a 10,000-person alert put 14 % of the
// process's CPU in SQLite's parser: the same few dozen statements (claim a batch, record an
// outcome, insert a one-tap link…) parsed again for every delivery. stmtCacheConnector
// wraps the driver so that each connection keeps its most recently used statements
// prepared and runs them again with new arguments. PostgreSQL needs none of this: pgx
// caches its prepared statements itself.

// stmtCacheSize is how many prepared statements each connection keeps. The store has a
// few hundred distinct statements, and the hot paths use a few dozen; statements built with
// a variable number of placeholders come in a few sizes each.
const stmtCacheSize = 256

// stmtCacheConnector opens the inner connector's connections wrapped in a statement cache.
type stmtCacheConnector struct {
	inner driver.Connector
	stats *stmtCacheStats
}

// stmtCacheStats count, over a database's connections, statements found prepared (hits)
// and prepared anew (misses), for the tests and the benchmark's account.
type stmtCacheStats struct {
	hits, misses atomic.Int64
}

func (c stmtCacheConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	inner, ok := conn.(cacheableConn)
	if !ok {
		// Not the driver this was written for: use it as it is.
		return conn, nil
	}
	return &stmtCacheConn{cacheableConn: inner, stats: c.stats, byQuery: map[string]*list.Element{}, lru: list.New()}, nil
}

func (c stmtCacheConnector) Driver() driver.Driver { return c.inner.Driver() }

// cacheableConn is what the wrapped connection must do; modernc.org/sqlite's does all of it.
type cacheableConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// cachedStmt is one prepared statement of a connection. A statement whose rows are open is
// busy: a second use of the same text meanwhile (a query run while iterating another's
// rows) is prepared on its own, as without the cache.
type cachedStmt struct {
	query   string
	stmt    driver.Stmt
	busy    bool
	evicted bool // dropped from the cache while busy: closed when its rows close
}

type stmtCacheConn struct {
	cacheableConn
	stats *stmtCacheStats

	// database/sql uses a connection from one goroutine at a time, rows' Close included;
	// the lock makes the cache safe whatever the caller does.
	mu      sync.Mutex
	byQuery map[string]*list.Element // of *cachedStmt
	lru     *list.List               // most recently used first
}

// take returns the connection's prepared statement for query, marked busy, or nil when it is
// busy or cannot be prepared (the caller then runs the query uncached, which reports any
// error the way the driver always has).
func (c *stmtCacheConn) take(ctx context.Context, query string) *cachedStmt {
	if isScript(query) {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byQuery[query]; ok {
		cs := el.Value.(*cachedStmt)
		if cs.busy {
			return nil
		}
		c.lru.MoveToFront(el)
		cs.busy = true
		c.stats.hits.Add(1)
		return cs
	}
	st, err := c.cacheableConn.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.stats.misses.Add(1)
	cs := &cachedStmt{query: query, stmt: st, busy: true}
	c.byQuery[query] = c.lru.PushFront(cs)
	for c.lru.Len() > stmtCacheSize {
		old := c.lru.Back()
		c.lru.Remove(old)
		ocs := old.Value.(*cachedStmt)
		delete(c.byQuery, ocs.query)
		if ocs.busy {
			ocs.evicted = true
		} else {
			_ = ocs.stmt.Close()
		}
	}
	return cs
}

// isScript reports whether query holds several statements (a migration): the driver parses
// those one by one as it runs them, so there is nothing to keep.
func isScript(query string) bool {
	i := strings.IndexByte(query, ';')
	return i >= 0 && strings.TrimSpace(query[i+1:]) != ""
}

// release marks cs free again, or closes it if it left the cache while busy.
func (c *stmtCacheConn) release(cs *cachedStmt) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs.busy = false
	if cs.evicted {
		_ = cs.stmt.Close()
	}
}

func (c *stmtCacheConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs := c.take(ctx, query)
	if cs == nil {
		return c.cacheableConn.ExecContext(ctx, query, args)
	}
	defer c.release(cs)
	return cs.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *stmtCacheConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs := c.take(ctx, query)
	if cs == nil {
		return c.cacheableConn.QueryContext(ctx, query, args)
	}
	rows, err := cs.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		c.release(cs)
		return nil, err
	}
	return &cachedRows{Rows: rows, release: func() { c.release(cs) }}, nil
}

// Close finalizes the cached statements, then closes the connection.
func (c *stmtCacheConn) Close() error {
	c.mu.Lock()
	var errs []error
	for el := c.lru.Front(); el != nil; el = el.Next() {
		errs = append(errs, el.Value.(*cachedStmt).stmt.Close())
	}
	c.lru.Init()
	clear(c.byQuery)
	c.mu.Unlock()
	return errors.Join(append(errs, c.cacheableConn.Close())...)
}

// cachedRows frees its statement for the next use once closed. It passes on the column
// type methods that database/sql's ColumnTypes looks for.
type cachedRows struct {
	driver.Rows
	once    sync.Once
	release func()
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.once.Do(r.release)
	return err
}

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *cachedRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}
