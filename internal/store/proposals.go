package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/alerts"
	"github.com/optimum-bcp/optimum/incident"
)

// Proposals implements alerts.Store: incidents proposed by monitoring.
type Proposals struct{ db *DB }

// Proposals returns the proposals' store.
func (db *DB) Proposals() *Proposals { return &Proposals{db: db} }

var _ alerts.Store = (*Proposals)(nil)

type proposalTx struct{ tx *eventTx }

// Tx runs fn in one write transaction that may append events.
func (s *Proposals) Tx(ctx context.Context, fn func(alerts.Tx) error) error {
	return s.db.eventsTx(ctx, func(tx *eventTx) error { return fn(proposalTx{tx}) })
}

func scanProposal(row interface{ Scan(...any) error }) (alerts.Proposal, error) {
	var (
		p   alerts.Proposal
		doc string
	)
	if err := row.Scan(&doc); err != nil {
		return p, notFound(err, "No proposal has that id.")
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return p, fmt.Errorf("decode proposal: %w", err)
	}
	return p, nil
}

// Proposal returns a proposal by id.
func (s *Proposals) Proposal(ctx context.Context, id string) (alerts.Proposal, error) {
	return scanProposal(s.db.read.QueryRowContext(ctx, "SELECT doc FROM proposals WHERE id = $1", id))
}

// Proposals returns the proposals of a status, newest change first; "open" includes those
// being confirmed, "" is every status.
func (s *Proposals) Proposals(ctx context.Context, status string, limit int) ([]alerts.Proposal, error) {
	q, args := "SELECT doc FROM proposals", []any{}
	switch status {
	case "":
	case alerts.StatusOpen:
		q += " WHERE status IN ('open', 'confirming')"
	default:
		q += " WHERE status = $1"
		args = append(args, status)
	}
	rows, err := s.db.read.QueryContext(ctx, q+fmt.Sprintf(" ORDER BY updated_at DESC, id DESC LIMIT %d", limit), args...)
	if err != nil {
		return nil, fmt.Errorf("proposals: %w", err)
	}
	defer rows.Close()
	var out []alerts.Proposal
	for rows.Next() {
		p, err := scanProposal(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// DeclaredFor returns the incident declared with the idempotency key by anyone.
func (s *Proposals) DeclaredFor(ctx context.Context, key string) (incident.Incident, bool, error) {
	var id string
	err := s.db.read.QueryRowContext(ctx, "SELECT incident_id FROM idempotency_keys WHERE key = $1 ORDER BY created_at LIMIT 1", key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return incident.Incident{}, false, nil
	} else if err != nil {
		return incident.Incident{}, false, fmt.Errorf("declared for %s: %w", key, err)
	}
	inc, err := s.db.Incidents().Incident(ctx, id)
	return inc, err == nil, err
}

func (t proposalTx) LatestProposal(ctx context.Context, source, groupKey string) (alerts.Proposal, bool, error) {
	p, err := scanProposal(t.tx.QueryRowContext(ctx, `SELECT doc FROM proposals WHERE source = $1 AND group_key = $2
		ORDER BY created_at DESC, id DESC LIMIT 1`, source, groupKey))
	if optimum.ErrorCode(err) == optimum.ENOTFOUND {
		return p, false, nil
	}
	return p, err == nil, err
}

func (t proposalTx) LockProposal(ctx context.Context, id string) (alerts.Proposal, error) {
	return scanProposal(t.tx.QueryRowContext(ctx, "SELECT doc FROM proposals WHERE id = $1", id)) // appends are serialized: no other writer meanwhile
}

func (t proposalTx) SaveProposal(ctx context.Context, p alerts.Proposal) error {
	doc, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO proposals (id, source, group_key, status, created_at, updated_at, doc)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at, doc = excluded.doc`,
		p.ID, p.Source, p.GroupKey, p.Status, millis(p.CreatedAt), millis(p.UpdatedAt), string(doc))
	if err != nil {
		return fmt.Errorf("save proposal: %w", err)
	}
	return nil
}

func (t proposalTx) Append(ctx context.Context, e optimum.Event) error {
	_, err := t.tx.appendEvent(ctx, e)
	return err
}
