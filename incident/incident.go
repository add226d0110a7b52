// Package incident is the critical incident as ITIL registers it: what happened, how bad
// (impact × urgency → priority → SLA), who reported it and who must hear of it, and its
// state. The Service declares, reads and acknowledges incidents; every change is appended
// to the event log in the same transaction as the change itself.
package incident

import (
	"fmt"
	"time"
)

// Level is a value of impact or urgency.
type Level string

// The levels, from the most to the least severe.
const (
	Critical Level = "critical"
	High     Level = "high"
	Medium   Level = "medium"
	Low      Level = "low"
)

// Levels lists the valid levels in order of severity.
var Levels = []Level{Critical, High, Medium, Low}

// Valid reports whether l is a known level.
func (l Level) Valid() bool {
	switch l {
	case Critical, High, Medium, Low:
		return true
	}
	return false
}

// Priority is P1 (drop everything) to P5 (planned work).
type Priority string

// Status is where an incident is in its lifecycle.
type Status string

// The lifecycle states.
const (
	StatusDeclared      Status = "declared"
	StatusAcknowledged  Status = "acknowledged"
	StatusInvestigating Status = "investigating"
	StatusResolved      Status = "resolved"
	StatusVerified      Status = "verified"
	StatusClosed        Status = "closed"
	StatusCancelled     Status = "cancelled"
	StatusReopened      Status = "reopened"
)

// Open reports whether the incident still needs work.
func (s Status) Open() bool {
	return s != StatusResolved && s != StatusVerified && s != StatusClosed && s != StatusCancelled
}

// Event types appended by this package.
const (
	EventDeclared     = "incident.declared"
	EventAcknowledged = "incident.acknowledged"
)

// SLA holds the deadlines of an incident, fixed at declaration from its priority.
type SLA struct {
	AckBy     time.Time `json:"ack_by"`
	ResolveBy time.Time `json:"resolve_by"`
}

// Person is someone named on an incident: the reporter or a recipient.
type Person struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Incident is a declared critical incident. Its JSON form is the API's and the one carried
// by every event in the log.
type Incident struct {
	ID          string   `json:"id"`
	Folio       string   `json:"folio"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Services    []string `json:"services"`
	Causes      []string `json:"causes"`
	Impact      Level    `json:"impact"`
	Urgency     Level    `json:"urgency"`
	Priority    Priority `json:"priority"`
	Status      Status   `json:"status"`
	Location    string   `json:"location"`
	Reporter    Person   `json:"reporter"`
	Teams       []string `json:"teams"`
	// Sites are the sites the incident was declared to, as named at declaration.
	Sites    []string `json:"sites,omitempty"`
	Assigned []Person `json:"assigned"`
	Drill    bool     `json:"drill"`
	// Audience is how many people the incident is for.
	Audience  int       `json:"audience"`
	SLA       SLA       `json:"sla"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// AcknowledgedAt is the time of the first acknowledgement, nil until then.
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
	// AckCount is how many people have acknowledged.
	AckCount int `json:"ack_count"`
	Work
	// SafetyPoll says the alert asks people whether they are safe; Safety counts the
	// latest answer of each person who gave one.
	SafetyPoll bool         `json:"safety_poll"`
	Safety     *SafetyTally `json:"safety,omitempty"`
	// Messages are what the audience is told, by language (see Declaration.Messages).
	Messages map[string]string `json:"messages,omitempty"`
	// Ladder is the escalation ladder chosen at declaration ("" for the one that fits
	// the priority and services).
	Ladder string `json:"ladder,omitempty"`
	// Channels limits the channels alerts go out on; empty for every configured one.
	Channels []string `json:"channels,omitempty"`
	// Canary is true for the scheduled end-to-end test alert (always a drill too): the
	// lowest delivery lane, PRUEBA / TEST on every channel, out of the indicators.
	Canary bool `json:"canary,omitempty"`
}

// Folio formats the human reference of the n-th incident of a year: BCP-2026-000042.
func Folio(year, n int) string { return fmt.Sprintf("BCP-%04d-%06d", year, n) }

// Recipient is a person the incident was meant to reach, or who acknowledged it, with
// what is known of their acknowledgement and deliveries.
type Recipient struct {
	PersonID       string     `json:"person_id"`
	Name           string     `json:"name"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
	Channel        string     `json:"ack_channel,omitempty"`
	Deliveries     []Delivery `json:"deliveries"`
	// Safety is the person's latest safety-poll answer (SafetySafe, SafetyHelpNeeded),
	// "" when they gave none.
	Safety   string     `json:"safety,omitempty"`
	SafetyAt *time.Time `json:"safety_at,omitempty"`
}

// Delivery is what became of one message to a recipient on one channel.
type Delivery struct {
	Channel  string `json:"channel"`
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
	// Providers names the SMS or voice provider of each attempt, in order
	// (["twilio", "vonage"] after a failover).
	Providers []string  `json:"providers,omitempty"`
	Error     string    `json:"error,omitempty"`
	At        time.Time `json:"at"`
}

// Ack is one acknowledgement of an incident by one person.
type Ack struct {
	PersonID string
	Name     string
	Channel  string
	At       time.Time
}
