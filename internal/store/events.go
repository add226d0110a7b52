package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/internal/audit"
)

// appendEvent appends e to the log inside tx and returns its id. The event is a link of
// the hash chain (internal/audit): its id is taken first (appends are serialized, see
// dialect.serialize), then it is stored with the previous event's hash and its own.
func (tx *eventTx) appendEvent(ctx context.Context, e optimum.Event) (int64, error) {
	var actor []byte
	if e.Actor != nil {
		var err error
		if actor, err = json.Marshal(e.Actor); err != nil {
			return 0, err
		}
	}
	var (
		id   int64
		prev sql.NullString
	)
	if err := tx.QueryRowContext(ctx, tx.d.nextEvent).Scan(&id, &prev); err != nil {
		return 0, fmt.Errorf("append event: next id: %w", err)
	}
	if tx.lastHash != "" {
		prev.String = tx.lastHash // this transaction's own previous event
	} else if !prev.Valid {
		prev.String = audit.Genesis // the first event of the chain
	}
	// What is hashed is what is stored: empty texts are stored as NULL.
	ae := audit.Event{ID: id, Type: e.Type, At: millis(e.At), Actor: nilIfEmpty(actor), Incident: nilIfEmpty(e.Incident), Data: nilIfEmpty(e.Data)}
	if e.IncidentID != "" {
		ae.IncidentID = &e.IncidentID
	}
	hash := audit.Hash(prev.String, ae)
	_, err := tx.ExecContext(ctx, `INSERT INTO events (id, type, at, incident_id, actor, incident, data, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		id, e.Type, millis(e.At), nullString(e.IncidentID), nullBytes(actor), nullBytes(e.Incident), nullBytes(e.Data), prev.String, hash)
	if err != nil {
		return 0, fmt.Errorf("append event: %w", err)
	}
	tx.lastEvent, tx.lastHash = id, hash
	return id, nil
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// EventsAfter returns up to limit events with id > after, in id order.
func (db *DB) EventsAfter(ctx context.Context, after int64, limit int) ([]optimum.Event, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, type, at, incident_id, actor, incident, data
		FROM events WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("events after %d: %w", after, err)
	}
	return scanEvents(rows)
}

// LastEventID returns the id of the newest event, 0 when the log is empty.
func (db *DB) LastEventID(ctx context.Context) (int64, error) {
	var id sql.NullInt64
	if err := db.read.QueryRowContext(ctx, "SELECT max(id) FROM events").Scan(&id); err != nil {
		return 0, fmt.Errorf("last event id: %w", err)
	}
	return id.Int64, nil
}

func scanEvents(rows *sql.Rows) ([]optimum.Event, error) {
	defer rows.Close()
	var out []optimum.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil && !errors.Is(err, errCorruptEvent) {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// errCorruptEvent marks a stored event whose JSON cannot be read (a bad write, a hand
// edit). Readers of the log (the stream, a timeline) get the event without its unreadable
// parts, so one bad row cannot break them; a consumer parks it.
var errCorruptEvent = errors.New("corrupt event")

// scanEvent reads the current row (id, type, at, incident_id, actor, incident, data). When
// the actor, incident or data is not JSON, it returns the event without that part and an
// error wrapping errCorruptEvent.
func scanEvent(rows *sql.Rows) (optimum.Event, error) {
	var (
		e                     optimum.Event
		at                    int64
		incID                 sql.NullString
		actor, incident, data []byte
	)
	if err := rows.Scan(&e.ID, &e.Type, &at, &incID, &actor, &incident, &data); err != nil {
		return e, fmt.Errorf("scan event: %w", err)
	}
	e.At, e.IncidentID = fromMillis(at), incID.String
	var bad []string
	if len(actor) > 0 {
		e.Actor = new(optimum.Actor)
		if err := json.Unmarshal(actor, e.Actor); err != nil {
			e.Actor, bad = nil, append(bad, "actor")
		}
	}
	if len(incident) > 0 {
		if json.Valid(incident) {
			e.Incident = incident
		} else {
			bad = append(bad, "incident")
		}
	}
	if len(data) > 0 {
		if json.Valid(data) {
			e.Data = data
		} else {
			bad = append(bad, "data")
		}
	}
	if len(bad) > 0 {
		return e, fmt.Errorf("event %d: %w: its %s is not valid JSON", e.ID, errCorruptEvent, strings.Join(bad, ", "))
	}
	return e, nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}
