package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/optimum-bcp/optimum/internal/audit"
)

// ChainReport is what walking the event log's hash chain found.
type ChainReport struct {
	StartsAt int64 // the first event id of the chain
	Before   int64 // events older than the chain (appended before migration 0042)
	Checked  int64 // chained events that matched
	Head     audit.Link
	Broken   *audit.Break // the first event that does not match; nil when the chain holds
}

// chainStart returns the first event id of the chain.
func (db *DB) chainStart(ctx context.Context) (int64, error) {
	var start int64
	if err := db.read.QueryRowContext(ctx, "SELECT starts_at_event FROM audit_chain WHERE id = 1").Scan(&start); err != nil {
		return 0, fmt.Errorf("the start of the audit chain: %w", err)
	}
	return start, nil
}

// VerifyChain walks the whole event log in id order and checks every event against the
// chain (internal/audit); it stops at the first that does not match.
func (db *DB) VerifyChain(ctx context.Context) (ChainReport, error) {
	start, err := db.chainStart(ctx)
	if err != nil {
		return ChainReport{}, err
	}
	w := audit.NewWalker(start, audit.Link{Hash: audit.Genesis})
	r := ChainReport{StartsAt: start}
	err = db.walkEvents(ctx, 0, 0, func(e audit.Event, prev, hash *string) bool {
		r.Broken = w.Next(e, prev, hash)
		return r.Broken == nil
	})
	r.Before, r.Checked, r.Head = w.Before, w.Checked, w.Head()
	return r, err
}

// walkEvents calls fn for each event with first <= id (and id <= last, unless last is 0),
// in id order, until fn returns false. The texts fn gets are valid only during the call.
func (db *DB) walkEvents(ctx context.Context, first, last int64, fn func(e audit.Event, prev, hash *string) bool) error {
	q := "SELECT id, type, at, incident_id, actor, incident, data, prev_hash, hash FROM events WHERE id >= $1"
	args := []any{first}
	if last > 0 {
		q += " AND id <= $2"
		args = append(args, last)
	}
	rows, err := db.read.QueryContext(ctx, q+" ORDER BY id", args...)
	if err != nil {
		return fmt.Errorf("walk the event log: %w", err)
	}
	defer rows.Close()
	var (
		e                     audit.Event
		incID, prev, hash     sql.NullString
		actor, incident, data sql.RawBytes
	)
	for rows.Next() {
		if err := rows.Scan(&e.ID, &e.Type, &e.At, &incID, &actor, &incident, &data, &prev, &hash); err != nil {
			return fmt.Errorf("walk the event log: %w", err)
		}
		e.IncidentID, e.Actor, e.Incident, e.Data = strPtr(incID), rawOrNil(actor), rawOrNil(incident), rawOrNil(data)
		if !fn(e, strPtr(prev), strPtr(hash)) {
			return nil
		}
	}
	return rows.Err()
}

func strPtr(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}

// rawOrNil keeps NULL (nil) apart from an empty text (not nil).
func rawOrNil(b sql.RawBytes) []byte {
	if b == nil {
		return nil
	}
	return []byte(b)
}

// AuditExport returns the events of the period [from, to) with the chain's anchors:
// every event from the first appended at or after from to the last appended before to,
// in id order (the range is contiguous in ids, so the chain can be checked across it
// even where clocks were not in order). A period without events gives none, anchored
// at the newest event before it. head is called with the export's header (the anchor
// known, no events yet) before the first event is passed to fn; the Export returned
// has the head of the chain.
func (db *DB) AuditExport(ctx context.Context, from, to time.Time, head func(audit.Export) error, fn func(audit.ExportedEvent) error) (audit.Export, error) {
	x := audit.Export{Algorithm: audit.Algorithm, From: from.UTC(), To: to.UTC(), Events: []audit.ExportedEvent{}}
	start, err := db.chainStart(ctx)
	if err != nil {
		return x, err
	}
	x.ChainStartsAt = start
	var first, last sql.NullInt64
	if err := db.read.QueryRowContext(ctx, "SELECT min(id), max(id) FROM events WHERE at >= $1 AND at < $2", millis(from), millis(to)).Scan(&first, &last); err != nil {
		return x, fmt.Errorf("audit export: %w", err)
	}
	anchorBefore := first.Int64
	if !first.Valid {
		// No event in the period: anchor at the newest event appended before it.
		var id sql.NullInt64
		if err := db.read.QueryRowContext(ctx, "SELECT max(id) FROM events WHERE at < $1", millis(from)).Scan(&id); err != nil {
			return x, fmt.Errorf("audit export: %w", err)
		}
		anchorBefore = id.Int64 + 1
	}
	var (
		anchorID   sql.NullInt64
		anchorHash sql.NullString
	)
	err = db.read.QueryRowContext(ctx, "SELECT id, hash FROM events WHERE id < $1 ORDER BY id DESC LIMIT 1", anchorBefore).Scan(&anchorID, &anchorHash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return x, fmt.Errorf("audit export: %w", err)
	}
	x.Anchor = audit.Link{ID: anchorID.Int64, Hash: anchorHash.String}
	if x.Anchor.Hash == "" {
		x.Anchor.Hash = audit.Genesis
	}
	x.Head = x.Anchor
	if err := head(x); err != nil || !first.Valid {
		return x, err
	}
	var ferr error
	err = db.walkEvents(ctx, first.Int64, last.Int64, func(e audit.Event, prev, hash *string) bool {
		s := func(b []byte) *string {
			if b == nil {
				return nil
			}
			v := string(b)
			return &v
		}
		ex := audit.ExportedEvent{ID: e.ID, Type: e.Type, At: e.At, Time: fromMillis(e.At), Actor: s(e.Actor), Incident: s(e.Incident), Data: s(e.Data)}
		if e.IncidentID != nil {
			v := *e.IncidentID
			ex.IncidentID = &v
		}
		if prev != nil {
			v := *prev
			ex.PrevHash = &v
		}
		if hash != nil {
			v := *hash
			ex.Hash = &v
			x.Head = audit.Link{ID: e.ID, Hash: v}
		}
		ferr = fn(ex)
		return ferr == nil
	})
	if err == nil {
		err = ferr
	}
	return x, err
}
