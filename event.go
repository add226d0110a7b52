package optimum

import (
	"encoding/json"
	"time"
)

// Event is one row of the event log: a change of state, appended in the same transaction
// as the change. Ids increase strictly in commit order, so a reader that remembers the
// last id it processed can resume with "id > cursor" and neither skip nor repeat a row.
type Event struct {
	ID         int64           `json:"id"`
	Type       string          `json:"type"`
	At         time.Time       `json:"at"`
	Actor      *Actor          `json:"actor,omitempty"`
	IncidentID string          `json:"-"`
	Incident   json.RawMessage `json:"incident,omitempty"` // the incident as it was after the change
	Data       json.RawMessage `json:"data,omitempty"`     // what changed, per event type
}
