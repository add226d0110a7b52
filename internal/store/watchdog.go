package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// OverdueLimits say when promised work counts as late.
type OverdueLimits struct {
	// Grace is how long an escalation step or reminder may stay due (two engine ticks
	// plus the lease: a node that died holding it has been replaced by then).
	Grace time.Duration
	// Queued is how long a delivery may stay queued past its due time, or stay leased past
	// its lease, before it counts (a rate limit legitimately queues a large drill).
	Queued time.Duration
	// Stalled is how long a consumer's next event may wait while its cursor stands still.
	Stalled time.Duration
}

// Overdue is the promised work that is late: what the watchdog reports.
type Overdue struct {
	Steps      int // escalation runs due (a step or an SLA check) for longer than Grace
	Reminders  int // reminders due for longer than Grace
	Deliveries int // deliveries queued or leased past their time by more than Queued
	// Stalled are the consumers whose next event has waited longer than Stalled.
	Stalled []StalledConsumer
	// Parked are the events consumers gave up on that no operator has dismissed.
	Parked []ParkedEvent
}

// StalledConsumer is a consumer of the event log that is not keeping up.
type StalledConsumer struct {
	Consumer  string
	Cursor    int64
	Pending   int64     // events after its cursor
	Since     time.Time // when its next event was appended
	Attempts  int       // failures on that event so far (0 when it is not failing)
	LastError string
}

// Overdue reads the late work at now.
func (db *DB) Overdue(ctx context.Context, now time.Time, lim OverdueLimits) (Overdue, error) {
	var o Overdue
	late := millis(now.Add(-lim.Grace))
	if err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM escalations WHERE due_at < $1", late).Scan(&o.Steps); err != nil {
		return o, fmt.Errorf("overdue steps: %w", err)
	}
	if err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM escalation_pages WHERE next_at < $1", late).Scan(&o.Reminders); err != nil {
		return o, fmt.Errorf("overdue reminders: %w", err)
	}
	queued := millis(now.Add(-lim.Queued))
	if err := db.read.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM deliveries WHERE status = 'queued' AND due_at < $1) +
		(SELECT count(*) FROM deliveries WHERE status = 'sending' AND lease_until < $1)`, queued).Scan(&o.Deliveries); err != nil {
		return o, fmt.Errorf("overdue deliveries: %w", err)
	}
	rows, err := db.read.QueryContext(ctx, `SELECT c.consumer, c.cursor, c.attempts, c.last_error,
			(SELECT coalesce(max(id), 0) FROM events) - c.cursor,
			(SELECT e.at FROM events e WHERE e.id > c.cursor ORDER BY e.id LIMIT 1)
		FROM consumer_cursors c ORDER BY c.consumer`)
	if err != nil {
		return o, fmt.Errorf("stalled consumers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s StalledConsumer
		var lastErr sql.NullString
		var next sql.NullInt64
		if err := rows.Scan(&s.Consumer, &s.Cursor, &s.Attempts, &lastErr, &s.Pending, &next); err != nil {
			return o, fmt.Errorf("stalled consumers: %w", err)
		}
		if !next.Valid || s.Pending <= 0 || fromMillis(next.Int64).After(now.Add(-lim.Stalled)) {
			continue
		}
		s.Since, s.LastError = fromMillis(next.Int64), lastErr.String
		o.Stalled = append(o.Stalled, s)
	}
	if err := rows.Err(); err != nil {
		return o, fmt.Errorf("stalled consumers: %w", err)
	}
	o.Parked, err = db.ParkedEvents(ctx)
	return o, err
}
