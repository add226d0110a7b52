package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/optimum-bcp/optimum"
)

// EventParked is appended (on the incident's timeline when the event had one) when a log
// consumer gives up on an event: data has consumer, event_id, event_type, reason and
// attempts.
const EventParked = "consumer.event_parked"

// PoisonPolicy is how a consumer of the event log treats an event it fails on: it tries
// again after Backoff, doubled after each failure (at most a minute), and after Attempts
// failures parks the event with its reason and goes on with the next one. Failures of the
// database itself (a lost connection, a server restarting, a lock timeout) are not
// counted: they say nothing about the event.
type PoisonPolicy struct {
	Attempts int           // default 5
	Backoff  time.Duration // default 1 s
	// Now is the clock of the backoff; nil is time.Now.
	Now func() time.Time
}

const maxPoisonBackoff = time.Minute

// SetPoisonPolicy sets how the log consumers treat an event they fail on.
func (db *DB) SetPoisonPolicy(p PoisonPolicy) {
	db.mu.Lock()
	db.poison = p
	db.mu.Unlock()
}

func (db *DB) poisonPolicy() PoisonPolicy {
	db.mu.RLock()
	p := db.poison
	db.mu.RUnlock()
	if p.Attempts <= 0 {
		p.Attempts = 5
	}
	if p.Backoff <= 0 {
		p.Backoff = time.Second
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return p
}

// badEvent is the event a batch stopped on: its place in the batch and why.
type badEvent struct {
	index int
	event optimum.Event
	err   error
}

// consume runs fn for up to limit events after the consumer's cursor, in id order, in
// one write transaction that also advances the cursor: an event's effects and the
// consumer's progress commit together, so after a crash the consumer continues exactly
// where it was, processing each event once.
//
// The cursor row is the consumer's lease: it is locked for the transaction, and on
// PostgreSQL a node that finds it locked by another node returns 0 at once (that node is
// processing the same events, and whatever it leaves is taken on the next wake-up).
//
// An event fn fails on (or whose stored JSON is corrupt) rolls back only itself: the
// events before it are committed, the failure is counted on the cursor row, and the
// consumer waits for the backoff before trying it again, on any node. After the policy's
// attempts the event is parked (parked_events, an EventParked event) and the consumer goes
// on, so one bad event cannot hold back every later alert.
func (db *DB) consume(ctx context.Context, consumer string, limit int, fn func(tx *eventTx, e optimum.Event) error) (int, error) {
	n, bad, err := db.consumeOnce(ctx, consumer, limit, fn)
	if bad == nil || ctx.Err() != nil {
		return n, err
	}
	if bad.index > 0 && n == 0 {
		// fn failed inside the batch and rolled it back: commit the events before it.
		m, again, err2 := db.consumeOnce(ctx, consumer, bad.index, fn)
		if again != nil || err2 != nil || m != bad.index {
			return m, err2
		}
		n = m
	}
	if transient(bad.err) || db.write.PingContext(ctx) != nil {
		return n, err
	}
	parked, rerr := db.eventFailed(ctx, consumer, bad.event, bad.err)
	if rerr != nil {
		return n, errors.Join(err, rerr)
	}
	if parked {
		return n + 1, nil
	}
	return n, err
}

// consumeOnce is one batch. When an event fails, it returns it: if it was corrupt in the
// log, the events before it are committed (n of them); if fn failed, nothing is (n is 0).
func (db *DB) consumeOnce(ctx context.Context, consumer string, limit int, fn func(tx *eventTx, e optimum.Event) error) (int, *badEvent, error) {
	n := 0
	var bad *badEvent
	var cursor int64
	now := db.poisonPolicy().Now()
	claim := func(tx *sql.Tx) (bool, error) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO consumer_cursors (consumer, cursor, updated_at) VALUES ($1, 0, $2)
			ON CONFLICT (consumer) DO NOTHING`, consumer, millis(nowUTC())); err != nil {
			return false, err
		}
		var failing, retryAt sql.NullInt64
		err := tx.QueryRowContext(ctx, "SELECT cursor, failing_event, retry_at FROM consumer_cursors WHERE consumer = $1"+db.d.skipLocked,
			consumer).Scan(&cursor, &failing, &retryAt)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil // another node holds it
		}
		if err == nil && failing.Valid && failing.Int64 > cursor && retryAt.Valid && retryAt.Int64 > millis(now) {
			return false, nil // the next event failed: wait for its backoff
		}
		return err == nil, err
	}
	err := db.claimEventsTx(ctx, claim, func(tx *eventTx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, type, at, incident_id, actor, incident, data
			FROM events WHERE id > $1 ORDER BY id LIMIT $2`, cursor, limit)
		if err != nil {
			return err
		}
		var events []optimum.Event
		for rows.Next() {
			e, err := scanEvent(rows)
			if errors.Is(err, errCorruptEvent) {
				bad = &badEvent{index: len(events), event: e, err: err}
				break
			}
			if err != nil {
				rows.Close()
				return err
			}
			events = append(events, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(events) == 0 {
			return nil
		}
		for i, e := range events {
			if err := fn(tx, e); err != nil {
				bad = &badEvent{index: i, event: e, err: err}
				return fmt.Errorf("%s: event %d (%s): %w", consumer, e.ID, e.Type, err)
			}
			cursor = e.ID
			n++
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO consumer_cursors (consumer, cursor, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (consumer) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at,
				failing_event = NULL, attempts = 0, retry_at = NULL, last_error = NULL`,
			consumer, cursor, millis(nowUTC()))
		return err
	})
	if err != nil {
		return 0, bad, err
	}
	if bad != nil {
		return n, bad, fmt.Errorf("%s: event %d (%s): %w", consumer, bad.event.ID, bad.event.Type, bad.err)
	}
	return n, nil, nil
}

// eventFailed counts a failure of the consumer on e, the next event after its cursor, and
// parks e once the policy's attempts are spent. It reports whether e was parked.
func (db *DB) eventFailed(ctx context.Context, consumer string, e optimum.Event, cause error) (bool, error) {
	pol := db.poisonPolicy()
	now := pol.Now().UTC()
	reason := cause.Error()
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	var cursor int64
	var failing sql.NullInt64
	var attempts int
	claim := func(tx *sql.Tx) (bool, error) {
		err := tx.QueryRowContext(ctx, "SELECT cursor, failing_event, attempts FROM consumer_cursors WHERE consumer = $1"+db.d.skipLocked,
			consumer).Scan(&cursor, &failing, &attempts)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		return err == nil && cursor < e.ID, err
	}
	parked := false
	err := db.claimEventsTx(ctx, claim, func(tx *eventTx) error {
		// Only the very next event is counted: parking moves the cursor to it, which must
		// not skip an event before it.
		var next sql.NullInt64
		if err := tx.QueryRowContext(ctx, "SELECT min(id) FROM events WHERE id > $1", cursor).Scan(&next); err != nil {
			return err
		}
		if next.Int64 != e.ID {
			return nil
		}
		if failing.Valid && failing.Int64 == e.ID {
			attempts++
		} else {
			attempts = 1
		}
		if attempts < pol.Attempts {
			wait := pol.Backoff << (attempts - 1)
			if wait > maxPoisonBackoff || wait <= 0 {
				wait = maxPoisonBackoff
			}
			_, err := tx.ExecContext(ctx, `UPDATE consumer_cursors SET failing_event = $2, attempts = $3, retry_at = $4, last_error = $5
				WHERE consumer = $1`, consumer, e.ID, attempts, millis(now.Add(wait)), reason)
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO parked_events (consumer, event_id, event_type, incident_id, reason, attempts, parked_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (consumer, event_id) DO NOTHING`,
			consumer, e.ID, e.Type, nullString(e.IncidentID), reason, attempts, millis(now)); err != nil {
			return fmt.Errorf("park event: %w", err)
		}
		data, _ := json.Marshal(map[string]any{"consumer": consumer, "event_id": e.ID, "event_type": e.Type, "reason": reason, "attempts": attempts})
		actor := optimum.System
		if _, err := tx.appendEvent(ctx, optimum.Event{Type: EventParked, At: now, IncidentID: e.IncidentID, Actor: &actor, Data: data}); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE consumer_cursors SET cursor = $2, updated_at = $3,
			failing_event = NULL, attempts = 0, retry_at = NULL, last_error = NULL WHERE consumer = $1`,
			consumer, e.ID, millis(nowUTC())); err != nil {
			return err
		}
		parked = true
		return nil
	})
	return parked, err
}

// transient reports whether err is the database or the network failing rather than the
// event: such a failure is retried without counting against the event.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, sql.ErrTxDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if pg, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch {
		case len(pg.Code) >= 2 && (pg.Code[:2] == "08" || pg.Code[:2] == "53" || pg.Code[:2] == "57" || pg.Code[:2] == "40"):
			return true // connection, resources, operator intervention, rollback (serialization, deadlock)
		}
		return false
	}
	if pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return true
	}
	// SQLite: SQLITE_BUSY (5), SQLITE_LOCKED (6), SQLITE_IOERR (10), SQLITE_FULL (13).
	if c, ok := errors.AsType[interface {
		error
		Code() int
	}](err); ok {
		switch c.Code() & 0xff {
		case 5, 6, 10, 13:
			return true
		}
	}
	return false
}

// ParkedEvent is an event a log consumer gave up on.
type ParkedEvent struct {
	Consumer   string    `json:"consumer"`
	EventID    int64     `json:"event_id"`
	EventType  string    `json:"event_type"`
	IncidentID string    `json:"incident_id,omitempty"`
	Reason     string    `json:"reason"`
	Attempts   int       `json:"attempts"`
	ParkedAt   time.Time `json:"parked_at"`
}

// ParkedEvents returns the parked events an operator has not dismissed, oldest first.
func (db *DB) ParkedEvents(ctx context.Context) ([]ParkedEvent, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT consumer, event_id, event_type, incident_id, reason, attempts, parked_at
		FROM parked_events WHERE dismissed_at IS NULL ORDER BY parked_at, consumer, event_id`)
	if err != nil {
		return nil, fmt.Errorf("parked events: %w", err)
	}
	defer rows.Close()
	var out []ParkedEvent
	for rows.Next() {
		var p ParkedEvent
		var inc sql.NullString
		var at int64
		if err := rows.Scan(&p.Consumer, &p.EventID, &p.EventType, &inc, &p.Reason, &p.Attempts, &at); err != nil {
			return nil, fmt.Errorf("parked events: %w", err)
		}
		p.IncidentID, p.ParkedAt = inc.String, fromMillis(at)
		out = append(out, p)
	}
	return out, rows.Err()
}

// DismissParked marks a parked event as dealt with by an operator; ENOTFOUND when there
// is no such undismissed event.
func (db *DB) DismissParked(ctx context.Context, consumer string, eventID int64, at time.Time) error {
	var n int64
	err := db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE parked_events SET dismissed_at = $3
			WHERE consumer = $1 AND event_id = $2 AND dismissed_at IS NULL`, consumer, eventID, millis(at))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err == nil && n == 0 {
		return optimum.Errorf(optimum.ENOTFOUND, "No parked event %d of %s.", eventID, consumer)
	}
	return err
}

// ConsumerLag returns, per consumer, how many events it has yet to process.
func (db *DB) ConsumerLag(ctx context.Context) (map[string]int64, error) {
	rows, err := db.read.QueryContext(ctx, "SELECT consumer, (SELECT coalesce(max(id), 0) FROM events) - cursor FROM consumer_cursors")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var c string
		var lag int64
		if err := rows.Scan(&c, &lag); err != nil {
			return nil, err
		}
		out[c] = lag
	}
	return out, rows.Err()
}
