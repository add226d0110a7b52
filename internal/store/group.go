package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Group commit (issue 16.4). With synchronous=FULL every SQLite commit waits for the
// WAL's fsync (about 4 ms on the benchmark machine's disk), and SQLite has one writer:
// one commit per delivery outcome, per one-tap link and per claim capped an alert at a
// couple of hundred pushes a second, whatever the CPU. Small writes that do not append
// events go through DB.grouped instead: one goroutine takes every such write waiting at
// that moment and runs them in one transaction, each in its own savepoint (one that
// fails is rolled back alone and only its caller sees the error), with one commit, and
// answers each caller after the commit: as durable as before, a fraction of the syncs.
// On PostgreSQL, whose pool commits in parallel (and groups WAL flushes itself), grouped
// is DB.tx.

// groupMax is the most writes one grouped transaction takes.
const groupMax = 256

type groupWrite struct {
	ctx  context.Context
	fn   func(*sql.Tx) error
	done chan error
}

type grouper struct {
	once    sync.Once
	writes  chan groupWrite
	stop    chan struct{}
	stopped chan struct{}
	closing sync.Once
}

var errStoreClosed = errors.New("store: the database is closed")

// grouped runs fn in a write transaction shared with the other grouped writes waiting at
// the same time, in a savepoint of its own, and returns fn's error, or the commit's. fn
// must not append events, and must not wait for another write of this DB.
func (db *DB) grouped(ctx context.Context, fn func(*sql.Tx) error) error {
	if db.d.name != "sqlite" {
		return db.tx(ctx, fn)
	}
	g := &db.group
	g.once.Do(func() {
		g.writes, g.stop, g.stopped = make(chan groupWrite), make(chan struct{}), make(chan struct{})
		go db.commitGroups()
	})
	if g.writes == nil {
		return errStoreClosed // closed before any grouped write
	}
	w := groupWrite{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case g.writes <- w:
	case <-g.stop:
		return errStoreClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once taken, the write is answered after its transaction ends, whatever ctx does: the
	// caller must not think undone what may be committed.
	return <-w.done
}

// commitGroups is the goroutine behind grouped.
func (db *DB) commitGroups() {
	g := &db.group
	defer close(g.stopped)
	for {
		var batch []groupWrite
		select {
		case w := <-g.writes:
			batch = append(batch, w)
		case <-g.stop:
			return
		}
	more:
		for len(batch) < groupMax {
			select {
			case w := <-g.writes:
				batch = append(batch, w)
			default:
				break more
			}
		}
		db.commitGroup(batch)
	}
}

func (db *DB) commitGroup(batch []groupWrite) {
	errs := make([]error, len(batch))
	err := db.backgroundTx(context.Background(), func(tx *sql.Tx) error {
		for i, w := range batch {
			if err := w.ctx.Err(); err != nil {
				errs[i] = err
				continue
			}
			if _, err := tx.ExecContext(context.Background(), "SAVEPOINT grouped"); err != nil {
				return err
			}
			if errs[i] = w.fn(tx); errs[i] != nil {
				if _, err := tx.ExecContext(context.Background(), "ROLLBACK TO grouped"); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(context.Background(), "RELEASE grouped"); err != nil {
				return err
			}
		}
		return nil
	})
	db.writes.groups.Add(1)
	db.writes.grouped.Add(int64(len(batch)))
	for i, w := range batch {
		if err != nil && errs[i] == nil {
			errs[i] = fmt.Errorf("grouped commit: %w", err)
		}
		w.done <- errs[i]
	}
}

// stopGroups ends the goroutine behind grouped (at Close), after the group it is
// committing, if any.
func (db *DB) stopGroups() {
	g := &db.group
	g.once.Do(func() {}) // never started: nothing to stop
	if g.stop == nil {
		return
	}
	g.closing.Do(func() {
		close(g.stop)
		select {
		case <-g.stopped:
		case <-time.After(30 * time.Second):
		}
	})
}
