// Package audit is the event log's hash chain: each event carries the hash of the one
// before it, so an event edited, removed or inserted after the fact breaks the chain at
// that event. The algorithm is documented in docs/audit.md, so that an auditor can check
// an export without this code.
package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// Algorithm names the hash chain's algorithm; it opens every hashed text, so another
// version of it can never produce the same hashes.
const Algorithm = "optimum-audit-v1"

// Genesis is the previous hash of the first event of a chain.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Event is what the chain hashes of one event: its id and stored columns, exactly as
// stored (the JSON texts as bytes, never re-encoded). A nil text is a NULL column.
type Event struct {
	ID         int64
	Type       string
	At         int64 // unix milliseconds
	IncidentID *string
	Actor      []byte
	Incident   []byte
	Data       []byte
}

// Hash returns the event's hash after prev: the hex SHA-256 of
//
//	"optimum-audit-v1\n" prev "\n" then, for id, type, at, incident_id, actor,
//	incident and data in that order: "-\n" for NULL, or len ":" bytes "\n"
//
// where len is the decimal length in bytes and id and at are decimal numbers.
func Hash(prev string, e Event) string {
	h := sha256.New()
	buf := make([]byte, 0, 128+len(e.Actor)+len(e.Incident)+len(e.Data))
	buf = append(buf, Algorithm...)
	buf = append(buf, '\n')
	buf = append(buf, prev...)
	buf = append(buf, '\n')
	field := func(b []byte, null bool) {
		if null {
			buf = append(buf, '-', '\n')
			return
		}
		buf = strconv.AppendInt(buf, int64(len(b)), 10)
		buf = append(buf, ':')
		buf = append(buf, b...)
		buf = append(buf, '\n')
	}
	field(strconv.AppendInt(nil, e.ID, 10), false)
	field([]byte(e.Type), false)
	field(strconv.AppendInt(nil, e.At, 10), false)
	if e.IncidentID == nil {
		field(nil, true)
	} else {
		field([]byte(*e.IncidentID), false)
	}
	field(e.Actor, e.Actor == nil)
	field(e.Incident, e.Incident == nil)
	field(e.Data, e.Data == nil)
	h.Write(buf)
	return hex.EncodeToString(h.Sum(nil))
}

// Link is one event's place in the chain: its id and hash.
type Link struct {
	ID   int64  `json:"id"`
	Hash string `json:"hash"`
}

// Break is where a chain stops holding: the first event that does not match.
type Break struct {
	EventID int64  `json:"event_id"`
	Type    string `json:"type"`
	Reason  string `json:"reason"`
}

func (b *Break) Error() string {
	return "event " + strconv.FormatInt(b.EventID, 10) + " (" + b.Type + "): " + b.Reason
}

// Walker checks events one by one, in id order, against the chain.
type Walker struct {
	start   int64 // the first event id that must carry a hash
	prev    Link
	Checked int64 // chained events checked
	Before  int64 // events older than the chain, not hashed
}

// NewWalker returns a walker for a chain that starts at event start, continuing after
// anchor (Link{0, Genesis} at the start of the log, or the event before the first one
// walked).
func NewWalker(start int64, anchor Link) *Walker {
	if anchor.ID < start || anchor.Hash == "" {
		anchor.Hash = Genesis
	}
	return &Walker{start: start, prev: anchor}
}

// Head is the last event walked that the chain covers.
func (w *Walker) Head() Link { return w.prev }

// Next checks one event with its stored previous hash and hash (nil when NULL); it
// returns the break when the event does not match, and nil otherwise.
func (w *Walker) Next(e Event, prevHash, hash *string) *Break {
	if e.ID < w.start {
		if hash != nil || prevHash != nil {
			return &Break{e.ID, e.Type, "it is older than the chain but carries a hash"}
		}
		w.Before++
		return nil
	}
	switch {
	case hash == nil || prevHash == nil:
		return &Break{e.ID, e.Type, "it has no hash, although the chain started at event " + strconv.FormatInt(w.start, 10)}
	case *prevHash != w.prev.Hash:
		return &Break{e.ID, e.Type, "it does not follow event " + strconv.FormatInt(w.prev.ID, 10) +
			": an event before it was changed, removed or inserted (its previous hash is " + short(*prevHash) + ", that event's is " + short(w.prev.Hash) + ")"}
	}
	if got := Hash(*prevHash, e); got != *hash {
		return &Break{e.ID, e.Type, "its content was changed after it was written (its stored hash is " + short(*hash) + ", its content hashes to " + short(got) + ")"}
	}
	w.prev = Link{ID: e.ID, Hash: *hash}
	w.Checked++
	return nil
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return h
}
