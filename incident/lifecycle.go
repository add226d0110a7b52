package incident

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/optimum-bcp/optimum"
)

// Work is what happens to an incident after its declaration: who owns it, how it was
// solved, what the stakeholders were last told and whether the requester agreed. It is
// embedded in Incident, so its fields are part of the incident's JSON.
type Work struct {
	Owner         *Person    `json:"owner"`
	AssignedTeams []string   `json:"assigned_teams,omitempty"`
	Resolution    string     `json:"resolution,omitempty"`
	ResolvedAt    *time.Time `json:"resolved_at,omitempty"`
	ClosedAt      *time.Time `json:"closed_at,omitempty"`
	// Conformity is the requester's answer to the solution: pending, accepted, rejected,
	// waived (closed by a manager without it) or timed_out (no answer in time).
	Conformity string      `json:"conformity,omitempty"`
	KnownError *KnownError `json:"known_error,omitempty"`
	// LastUpdateAt and NextUpdateAt are the stakeholder updates: when the last was posted
	// and when the next one was promised.
	LastUpdateAt *time.Time `json:"last_update_at,omitempty"`
	NextUpdateAt *time.Time `json:"next_update_at,omitempty"`
	Updates      int        `json:"updates,omitempty"`
}

// KnownError marks a resolved incident whose cause and workaround are worth finding again.
type KnownError struct {
	Workaround string    `json:"workaround"`
	MarkedBy   string    `json:"marked_by"`
	MarkedAt   time.Time `json:"marked_at"`
}

// Conformity answers.
const (
	ConformityPending  = "pending"
	ConformityAccepted = "accepted"
	ConformityRejected = "rejected"
	ConformityWaived   = "waived"
	ConformityTimedOut = "timed_out"
)

// Event types of the lifecycle.
const (
	EventTransitioned   = "incident.transitioned"
	EventAssigned       = "incident.assigned"
	EventReclassified   = "incident.reclassified"
	EventKnownError     = "incident.known_error"
	EventMessageSent    = "incident.message_sent" // a message to the requester
	EventInfoRequested  = "incident.info_requested"
	EventInfoProvided   = "incident.info_provided"
	EventConformity     = "incident.conformity"
	EventUpdatePosted   = "incident.update_posted"
	EventTemplateSaved  = "template.saved"
	MaxNote             = 2000
	conformityTokenSize = 24
)

// moves is the state machine: from each state, the states it may move to.
var moves = map[Status][]Status{
	StatusDeclared:      {StatusAcknowledged, StatusInvestigating, StatusCancelled},
	StatusAcknowledged:  {StatusInvestigating, StatusResolved, StatusCancelled},
	StatusInvestigating: {StatusResolved, StatusCancelled},
	StatusResolved:      {StatusVerified, StatusReopened},
	StatusVerified:      {StatusClosed, StatusReopened},
	StatusReopened:      {StatusInvestigating, StatusResolved, StatusCancelled},
	StatusClosed:        {},
	StatusCancelled:     {},
}

// Statuses lists every lifecycle state in its usual order.
var Statuses = []Status{StatusDeclared, StatusAcknowledged, StatusInvestigating, StatusResolved,
	StatusVerified, StatusClosed, StatusReopened, StatusCancelled}

// Moves returns the states an incident in s may move to.
func Moves(s Status) []Status { return slices.Clone(moves[s]) }

// CanMove reports whether the state machine allows from → to.
func CanMove(from, to Status) bool { return slices.Contains(moves[from], to) }

// noteRequired says which moves need a reason: a reopening, a cancellation, a solution,
// and a closing (which, without the requester's conformity, is a manager's decision).
var noteRequired = map[Status]string{
	StatusReopened:  "a reopening needs the reason",
	StatusCancelled: "a cancellation needs the reason",
	StatusResolved:  "a resolution needs the solution",
	StatusClosed:    "closing without the requester's conformity needs the reason",
}

// Desk works incidents after their declaration: the lifecycle, assignment,
// reclassification, the conversation with the requester, stakeholder updates, similar
// incidents, scenario templates and the post-incident report.
type Desk struct {
	svc   *Service
	store DeskStore
	opt   DeskOptions
}

// DeskOptions configure a Desk.
type DeskOptions struct {
	// PublicURL is the base of the conformity links sent to requesters.
	PublicURL string
	// ConformityTTL is how long a requester has to answer; an unanswered request then
	// closes the incident, recorded as timed out. Default 72 hours.
	ConformityTTL time.Duration
}

// NewDesk returns a Desk over the service's incidents.
func NewDesk(svc *Service, store DeskStore, opt DeskOptions) *Desk {
	if opt.ConformityTTL <= 0 {
		opt.ConformityTTL = 72 * time.Hour
	}
	opt.PublicURL = strings.TrimRight(opt.PublicURL, "/")
	d := &Desk{svc: svc, store: store, opt: opt}
	svc.onDeclare = d.tellFolio
	return d
}

// DeskStore keeps what the desk needs beyond the incidents themselves.
type DeskStore interface {
	Tx(ctx context.Context, fn func(DeskTx) error) error
	// ConformityLink returns the link with the token hash; ENOTFOUND when there is none.
	// A link is used once its request is answered, replaced or timed out, and expires
	// with it.
	ConformityLink(ctx context.Context, hash string) (ConformityLink, error)
	// MintConformityLink stores the hash of a new link to the incident's open conformity
	// request, made at the time; false when the incident has no open, unexpired request.
	MintConformityLink(ctx context.Context, incidentID, hash string, at time.Time) (bool, error)
	// Messages returns what the requester was told, oldest first.
	Messages(ctx context.Context, incidentID string) ([]Message, error)
	// Similar returns the incidents whose indexed text best matches the terms, best first.
	Similar(ctx context.Context, terms []string, exclude string, limit int) ([]Match, error)
	// Templates returns the stored scenario templates (overrides of the built-in ones).
	Templates(ctx context.Context) ([]Template, error)
	// DeliveryFigures counts the incident's deliveries per channel and status.
	DeliveryFigures(ctx context.Context, incidentID string) ([]ChannelFigures, error)
	// AskedRequests returns the folios of the open (not closed or cancelled) incidents
	// that the directory person declared and whose responders asked them a question,
	// newest first.
	AskedRequests(ctx context.Context, personID string) ([]string, error)
}

// DeskTx is the desk's work inside one transaction, with the incident's Tx.
type DeskTx interface {
	Tx
	// PersonName returns a directory person's name; ENOTFOUND when there is none.
	PersonName(ctx context.Context, id string) (string, error)
	// TeamExists reports whether a team exists.
	TeamExists(ctx context.Context, id string) (bool, error)
	// PersonLanguage returns the language of the directory person behind an actor
	// ("es" when unknown).
	PersonLanguage(ctx context.Context, personID string) (string, error)
	AddMessage(ctx context.Context, m Message) error
	// CreateConformityRequest records that the requester was asked for their
	// conformity; its links are minted as its message is sent (MintConformityLink).
	CreateConformityRequest(ctx context.Context, r ConformityRequest) error
	// UseConformityLink marks the link and its request used at the time, if both were
	// still open; it returns false when either had been used or closed already.
	UseConformityLink(ctx context.Context, hash string, at time.Time) (bool, error)
	// CloseConformityLinks closes the incident's open requests and their links
	// (superseded, answered or timed out).
	CloseConformityLinks(ctx context.Context, incidentID string, at time.Time) error
	// ExpiredConformity returns the incidents whose open conformity request expired
	// unanswered before the time.
	ExpiredConformity(ctx context.Context, before time.Time) ([]string, error)
	SaveTemplate(ctx context.Context, t Template) error
}

// ConformityLink is the one-tap link by which a requester accepts or rejects a solution.
type ConformityLink struct {
	Hash       string
	IncidentID string
	// Requester is the actor who declared the incident.
	Requester Person
	Language  string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// ConformityRequest is one request to the requester for their conformity with the
// solution: the message that asked it (its id is the request's), until when it can be
// answered, and whether it still can.
type ConformityRequest struct {
	ID         string
	IncidentID string
	Requester  Person
	Language   string
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// Transition moves the incident to the state to, as the actor of ctx, with a note that
// says why. A move the state machine does not allow is ECONFLICT naming the allowed ones.
func (d *Desk) Transition(ctx context.Context, idOrFolio string, to Status, note string) (Incident, error) {
	actor, ok := optimum.ActorFrom(ctx)
	if !ok {
		return Incident{}, optimum.Errorf(optimum.EUNAUTHORIZED, "Sign in to work on incidents.")
	}
	note = strings.TrimSpace(note)
	if _, known := moves[to]; !known {
		return Incident{}, optimum.Invalid("The transition has errors.", []optimum.FieldError{{Field: "to", Message: fmt.Sprintf("unknown status %q", truncate(string(to), 40))}})
	}
	if err := checkNote(note, noteRequired[to]); err != nil {
		return Incident{}, err
	}
	if to == StatusClosed && !actor.Role.AtLeast(optimum.RoleManager) {
		return Incident{}, optimum.Errorf(optimum.EFORBIDDEN, "Only a continuity manager may close an incident without the requester's conformity.")
	}
	now := d.now()
	return d.locked(ctx, idOrFolio, func(tx DeskTx, inc *Incident) error {
		return d.move(ctx, tx, inc, actor, to, note, now)
	})
}

// move applies one transition inside tx: the checks, the side effects of the new state
// and its event.
func (d *Desk) move(ctx context.Context, tx DeskTx, inc *Incident, actor optimum.Actor, to Status, note string, now time.Time) error {
	from := inc.Status
	if !CanMove(from, to) {
		return illegalMove(inc, to)
	}
	inc.Status, inc.UpdatedAt = to, now
	switch to {
	case StatusAcknowledged:
		personID := actor.PersonID
		if personID == "" {
			personID = actor.ID
		}
		added, err := tx.AddAck(ctx, inc.ID, Ack{PersonID: personID, Name: actor.Name, Channel: "web", At: now})
		if err != nil {
			return err
		}
		if added {
			inc.AckCount++
		}
		if inc.AcknowledgedAt == nil {
			inc.AcknowledgedAt = &now
		}
	case StatusResolved:
		inc.Resolution, inc.ResolvedAt, inc.Conformity = note, &now, ConformityPending
	case StatusReopened:
		inc.ResolvedAt, inc.Conformity = nil, ""
		if err := tx.CloseConformityLinks(ctx, inc.ID, now); err != nil {
			return err
		}
	case StatusClosed, StatusCancelled:
		inc.ClosedAt = &now
		if to == StatusClosed && inc.Conformity != ConformityAccepted && inc.Conformity != ConformityTimedOut {
			inc.Conformity = ConformityWaived
		}
		if err := tx.CloseConformityLinks(ctx, inc.ID, now); err != nil {
			return err
		}
	}
	if err := tx.Update(ctx, *inc); err != nil {
		return err
	}
	if err := appendEvent(ctx, tx, EventTransitioned, now, actor, *inc, map[string]any{"from": from, "to": to, "note": note}); err != nil {
		return err
	}
	if to == StatusResolved {
		return d.askConformity(ctx, tx, inc, now)
	}
	return nil
}

func illegalMove(inc *Incident, to Status) error {
	allowed := moves[inc.Status]
	if len(allowed) == 0 {
		return optimum.Errorf(optimum.ECONFLICT, "Incident %s is %s and cannot move to %s; it is final.", inc.Folio, inc.Status, to)
	}
	names := make([]string, len(allowed))
	for i, s := range allowed {
		names[i] = string(s)
	}
	return optimum.Errorf(optimum.ECONFLICT, "Incident %s is %s and cannot move to %s; allowed: %s.", inc.Folio, inc.Status, to, strings.Join(names, ", "))
}

// Assignment names the owner of an incident and the people and teams working on it.
type Assignment struct {
	Owner  string   `json:"owner"`
	People []string `json:"people"`
	Teams  []string `json:"teams"`
	Note   string   `json:"note"`
}

// Assign sets the owner and resources of an open incident; the event keeps the change.
func (d *Desk) Assign(ctx context.Context, idOrFolio string, a Assignment) (Incident, error) {
	actor, _ := optimum.ActorFrom(ctx)
	a.Note = strings.TrimSpace(a.Note)
	a.People, a.Teams = cleanList(a.People, false), cleanList(a.Teams, true)
	var f []optimum.FieldError
	if len(a.People) > MaxListItems || len(a.Teams) > MaxListItems {
		f = append(f, optimum.FieldError{Field: "people", Message: fmt.Sprintf("has too many items (at most %d)", MaxListItems)})
	}
	if err := checkNote(a.Note, ""); err != nil {
		f = append(f, optimum.ErrorFields(err)...)
	}
	if err := optimum.Invalid("The assignment has errors.", f); err != nil {
		return Incident{}, err
	}
	now := d.now()
	return d.locked(ctx, idOrFolio, func(tx DeskTx, inc *Incident) error {
		if inc.Status == StatusClosed || inc.Status == StatusCancelled {
			return optimum.Errorf(optimum.ECONFLICT, "Incident %s is %s; it can no longer be assigned.", inc.Folio, inc.Status)
		}
		var bad []optimum.FieldError
		person := func(field, id string) Person {
			name, err := tx.PersonName(ctx, id)
			if err != nil {
				bad = append(bad, optimum.FieldError{Field: field, Message: fmt.Sprintf("%q is not a person in the directory", truncate(id, 40))})
			}
			return Person{ID: id, Name: name}
		}
		before := map[string]any{"owner": inc.Owner, "assigned": inc.Assigned, "assigned_teams": inc.AssignedTeams}
		if a.Owner != "" {
			p := person("owner", strings.TrimSpace(a.Owner))
			inc.Owner = &p
		}
		if a.People != nil {
			inc.Assigned = []Person{}
			for i, id := range a.People {
				inc.Assigned = append(inc.Assigned, person("people["+strconv.Itoa(i)+"]", id))
			}
		}
		for i, t := range a.Teams {
			if ok, err := tx.TeamExists(ctx, t); err != nil {
				return err
			} else if !ok {
				bad = append(bad, optimum.FieldError{Field: "teams[" + strconv.Itoa(i) + "]", Message: fmt.Sprintf("%q is not a team", truncate(t, 40))})
			}
		}
		if err := optimum.Invalid("The assignment has errors.", bad); err != nil {
			return err
		}
		if a.Teams != nil {
			inc.AssignedTeams = a.Teams
		}
		inc.UpdatedAt = now
		if err := tx.Update(ctx, *inc); err != nil {
			return err
		}
		return appendEvent(ctx, tx, EventAssigned, now, actor, *inc, map[string]any{
			"before": before, "owner": inc.Owner, "assigned": inc.Assigned, "assigned_teams": inc.AssignedTeams, "note": a.Note})
	})
}

// Reclassification changes impact and urgency; the note is required.
type Reclassification struct {
	Impact  Level  `json:"impact"`
	Urgency Level  `json:"urgency"`
	Note    string `json:"note"`
}

// Reclassify changes the impact and urgency of an open incident, which recomputes its
// priority and SLA (from the declaration time). Every change is kept as an event.
func (d *Desk) Reclassify(ctx context.Context, idOrFolio string, r Reclassification) (Incident, error) {
	actor, _ := optimum.ActorFrom(ctx)
	r.Note = strings.TrimSpace(r.Note)
	r.Impact = Level(strings.ToLower(strings.TrimSpace(string(r.Impact))))
	r.Urgency = Level(strings.ToLower(strings.TrimSpace(string(r.Urgency))))
	var f []optimum.FieldError
	for _, l := range []struct {
		field string
		v     Level
	}{{"impact", r.Impact}, {"urgency", r.Urgency}} {
		if !l.v.Valid() {
			f = append(f, optimum.FieldError{Field: l.field, Message: "is required: critical, high, medium or low"})
		}
	}
	if err := checkNote(r.Note, "a reclassification needs the reason"); err != nil {
		f = append(f, optimum.ErrorFields(err)...)
	}
	if err := optimum.Invalid("The reclassification has errors.", f); err != nil {
		return Incident{}, err
	}
	pr, err := d.svc.policy.Priority(r.Impact, r.Urgency)
	if err != nil {
		return Incident{}, err
	}
	now := d.now()
	return d.locked(ctx, idOrFolio, func(tx DeskTx, inc *Incident) error {
		if inc.Status == StatusClosed || inc.Status == StatusCancelled {
			return optimum.Errorf(optimum.ECONFLICT, "Incident %s is %s; it can no longer be reclassified.", inc.Folio, inc.Status)
		}
		if inc.Impact == r.Impact && inc.Urgency == r.Urgency {
			return optimum.Errorf(optimum.ECONFLICT, "Incident %s already has impact %s and urgency %s.", inc.Folio, r.Impact, r.Urgency)
		}
		before := map[string]any{"impact": inc.Impact, "urgency": inc.Urgency, "priority": inc.Priority, "sla": inc.SLA}
		inc.Impact, inc.Urgency, inc.Priority = r.Impact, r.Urgency, pr
		inc.SLA = d.svc.policy.SLA(pr, inc.CreatedAt)
		inc.UpdatedAt = now
		if err := tx.Update(ctx, *inc); err != nil {
			return err
		}
		return appendEvent(ctx, tx, EventReclassified, now, actor, *inc, map[string]any{
			"before": before, "impact": inc.Impact, "urgency": inc.Urgency, "priority": inc.Priority, "sla": inc.SLA, "note": r.Note})
	})
}

// MarkKnownError records a resolved incident's workaround, to be shown with it in
// similar-incident searches.
func (d *Desk) MarkKnownError(ctx context.Context, idOrFolio, workaround string) (Incident, error) {
	actor, _ := optimum.ActorFrom(ctx)
	workaround = strings.TrimSpace(workaround)
	if err := checkText("workaround", workaround, "a known error needs its workaround"); err != nil {
		return Incident{}, err
	}
	now := d.now()
	return d.locked(ctx, idOrFolio, func(tx DeskTx, inc *Incident) error {
		if inc.ResolvedAt == nil && inc.Status != StatusClosed {
			return optimum.Errorf(optimum.ECONFLICT, "Incident %s is %s; only a resolved incident can be a known error.", inc.Folio, inc.Status)
		}
		inc.KnownError = &KnownError{Workaround: workaround, MarkedBy: actor.Name, MarkedAt: now}
		inc.UpdatedAt = now
		if err := tx.Update(ctx, *inc); err != nil {
			return err
		}
		return appendEvent(ctx, tx, EventKnownError, now, actor, *inc, map[string]any{"workaround": workaround})
	})
}

// checkNote validates a note; required is the reason when it is missing ("" when it is
// optional).
func checkNote(note, required string) error { return checkText("note", note, required) }

// checkText validates a free-text field of at most MaxNote characters.
func checkText(field, v, required string) error {
	var fe optimum.FieldError
	switch {
	case v == "" && required != "":
		fe = optimum.FieldError{Field: field, Message: fmt.Sprintf("is required: %s", required)}
	case !utf8.ValidString(v):
		fe = optimum.FieldError{Field: field, Message: "must be UTF-8 text"}
	case utf8.RuneCountInString(v) > MaxNote:
		fe = optimum.FieldError{Field: field, Message: fmt.Sprintf("is too long: %d characters, at most %d", utf8.RuneCountInString(v), MaxNote)}
	case strings.ContainsFunc(v, isControl):
		fe = optimum.FieldError{Field: field, Message: "must not contain control characters"}
	default:
		return nil
	}
	return optimum.Invalid("The request has errors.", []optimum.FieldError{fe})
}

// locked runs fn on the incident idOrFolio, read for update in one write transaction, and
// returns the incident as fn left it.
func (d *Desk) locked(ctx context.Context, idOrFolio string, fn func(tx DeskTx, inc *Incident) error) (Incident, error) {
	var inc Incident
	err := d.store.Tx(ctx, func(tx DeskTx) error {
		var err error
		if inc, err = tx.Lock(ctx, idOrFolio); err != nil {
			return err
		}
		return fn(tx, &inc)
	})
	return inc, err
}

func (d *Desk) now() time.Time { return d.svc.now().UTC().Truncate(time.Millisecond) }

// newToken returns an unguessable URL-safe token of 192 bits.
func newToken() string {
	b := make([]byte, conformityTokenSize)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is how link tokens are stored.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
