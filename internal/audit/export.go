package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Export is a period of the event log as GET /api/v1/audit/export writes it: the events
// with their stored texts (exactly the bytes hashed), and the chain's anchors, so that
// anyone can check it offline (VerifyExport, or the algorithm of docs/audit.md).
type Export struct {
	Algorithm string    `json:"algorithm"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	// ChainStartsAt is the first event id of the chain; older events have no hash.
	ChainStartsAt int64 `json:"chain_starts_at"`
	// Anchor is the event just before the first exported one (id 0 and Genesis when
	// there is none, or when it is older than the chain).
	Anchor Link            `json:"anchor"`
	Events []ExportedEvent `json:"events"`
	// Head is the last exported event (the anchor when there is none).
	Head Link `json:"head"`
}

// ExportedEvent is one event as stored. Actor, Incident and Data are JSON texts, kept as
// strings so that their bytes are the ones hashed.
type ExportedEvent struct {
	ID         int64     `json:"id"`
	Type       string    `json:"type"`
	At         int64     `json:"at"` // unix milliseconds, as hashed
	Time       time.Time `json:"time"`
	IncidentID *string   `json:"incident_id"`
	Actor      *string   `json:"actor"`
	Incident   *string   `json:"incident"`
	Data       *string   `json:"data"`
	PrevHash   *string   `json:"prev_hash"`
	Hash       *string   `json:"hash"`
}

// Event returns what the chain hashes of the exported event.
func (x ExportedEvent) Event() Event {
	b := func(s *string) []byte {
		if s == nil {
			return nil
		}
		return []byte(*s)
	}
	return Event{ID: x.ID, Type: x.Type, At: x.At, IncidentID: x.IncidentID, Actor: b(x.Actor), Incident: b(x.Incident), Data: b(x.Data)}
}

// VerifyExport checks an export read from r: each event follows the one before it from
// the anchor on, hashes to its stored hash, and the last is the head. It returns how
// many chained events it checked, and a *Break (as the error) at the first that does not
// match.
func VerifyExport(r io.Reader) (int64, error) {
	var x Export
	if err := json.NewDecoder(r).Decode(&x); err != nil {
		return 0, fmt.Errorf("read the export: %w", err)
	}
	if x.Algorithm != Algorithm {
		return 0, fmt.Errorf("the export uses the algorithm %q; this program knows %q", x.Algorithm, Algorithm)
	}
	w := NewWalker(x.ChainStartsAt, x.Anchor)
	last := x.Anchor.ID
	for _, e := range x.Events {
		if e.ID <= last {
			return w.Checked, &Break{e.ID, e.Type, fmt.Sprintf("it comes after event %d in the export: events must be in id order", last)}
		}
		if b := w.Next(e.Event(), e.PrevHash, e.Hash); b != nil {
			return w.Checked, b
		}
		last = e.ID
	}
	if w.Checked > 0 && w.Head() != x.Head {
		return w.Checked, fmt.Errorf("the export's head is event %d %s, but its last event is %d %s", x.Head.ID, short(x.Head.Hash), w.Head().ID, short(w.Head().Hash))
	}
	return w.Checked, nil
}
