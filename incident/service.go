package incident

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/contacts"
)

// Store keeps incidents. Tx runs fn in one transaction: either everything fn did is
// committed, including the events it appended, or nothing is.
type Store interface {
	Tx(ctx context.Context, fn func(Tx) error) error
	Incident(ctx context.Context, idOrFolio string) (Incident, error)
	Incidents(ctx context.Context, f Filter) ([]Incident, error)
	Timeline(ctx context.Context, id string) ([]optimum.Event, error)
	Acks(ctx context.Context, id string) ([]Ack, error)
	Recipients(ctx context.Context, id string) ([]contacts.Recipient, error)
	// AckLink returns the link with the token hash; ENOTFOUND when there is none.
	AckLink(ctx context.Context, hash string) (AckLink, error)
	// Deliveries returns the incident's deliveries by person.
	Deliveries(ctx context.Context, id string) (map[string][]Delivery, error)
	// SafetyAnswers returns each person's latest safety-poll answer, by person id.
	SafetyAnswers(ctx context.Context, id string) (map[string]SafetyAnswer, error)
	// InAudience reports whether the person was alerted of the incident: a recipient,
	// or paged by a step of its ladder.
	InAudience(ctx context.Context, id, personID string) (bool, error)
}

// AckLink is a one-tap acknowledgement link: one person, one incident.
type AckLink struct {
	IncidentID string
	PersonID   string
	Name       string
	Language   string
	ExpiresAt  time.Time
}

// Audience resolves teams to the people to alert. *contacts.Directory implements it.
type Audience interface {
	Resolve(ctx context.Context, a contacts.Audience) ([]contacts.Recipient, error)
}

// Planner is an Audience that can check an audience and count it without resolving its
// people (contacts.Directory.Plan); ok false when its store cannot.
type Planner interface {
	Plan(ctx context.Context, a contacts.Audience) (plan contacts.Plan, n int, ok bool, err error)
	// ResolvePlan is Resolve for an audience Plan has checked, reading only its people.
	ResolvePlan(ctx context.Context, plan contacts.Plan) ([]contacts.Recipient, error)
}

// DefaultInlineAudience is the largest audience whose recipients are written with the
// declaration. A larger one is declared by its plan, and its recipients are written as
// it is paged (SetInlineAudience).
const DefaultInlineAudience = 2000

// Tx is the work that must happen atomically with the event that records it.
type Tx interface {
	// NextFolio returns the next number of the year, with no gaps: a rolled-back
	// transaction gives its number back.
	NextFolio(ctx context.Context, year int) (int, error)
	Insert(ctx context.Context, inc Incident) error
	Update(ctx context.Context, inc Incident) error
	// Lock reads the incident for update; ENOTFOUND when there is none.
	Lock(ctx context.Context, idOrFolio string) (Incident, error)
	// AddRecipients records who the incident is for.
	AddRecipients(ctx context.Context, incidentID string, rs []contacts.Recipient) error
	// DeferRecipients records the plan of who the incident is for; its people become
	// recipients as the audience is paged.
	DeferRecipients(ctx context.Context, incidentID string, plan contacts.Plan) error
	// AddAck records an acknowledgement; false when that person had already acknowledged.
	AddAck(ctx context.Context, incidentID string, a Ack) (bool, error)
	// IdempotentResult returns the incident id and request hash stored for the key, or ""
	// when the key is new (or older than its retention).
	IdempotentResult(ctx context.Context, scope, key string, since time.Time) (incidentID, hash string, err error)
	SaveIdempotentResult(ctx context.Context, scope, key, hash, incidentID string, at time.Time) error
	Append(ctx context.Context, e optimum.Event) (int64, error)
	// SetSafety records a person's safety-poll answer and returns their previous one
	// ("" if none).
	SetSafety(ctx context.Context, incidentID string, a SafetyAnswer) (previous string, err error)
}

// Filter selects incidents for a list. Zero fields do not filter.
type Filter struct {
	Status   []Status
	Priority []Priority
	Drill    *bool
	Reporter string // only incidents this actor declared
	// Audience, with Reporter, also lists the incidents this directory person was
	// alerted of (a reporter sees what they declared and what they must answer).
	Audience string
	Text     string
	From, To time.Time // created_at in [From, To)
	// Before pages backwards: only incidents created before this incident id's position.
	Before string
	Limit  int
}

// IdempotencyRetention is how long an Idempotency-Key is remembered.
const IdempotencyRetention = 48 * time.Hour

// Service declares, reads and acknowledges incidents.
type Service struct {
	store    Store
	policy   Policy
	audience Audience
	now      func() time.Time
	// inline is the largest audience written with its declaration (SetInlineAudience).
	inline int
	// onDeclare runs in the declaring transaction; what it returns is the data of
	// incident.declared (the Desk tells the requester the folio there).
	onDeclare func(ctx context.Context, tx Tx, inc Incident, at time.Time) (any, error)
}

// NewService returns a Service. audience resolves who an incident is for; nil means the
// incident names teams only (they must be among the policy's teams). now is the clock;
// nil means time.Now.
func NewService(store Store, policy Policy, audience Audience, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, policy: policy, audience: audience, now: now, inline: DefaultInlineAudience}
}

// SetInlineAudience sets the largest audience whose recipients are written with the
// declaration (DefaultInlineAudience). Above it, when the audience is a Planner, the
// declaration stores the audience's plan and answers without resolving its people:
// 100,000 people took seconds to read and write while the store's writer waited (issue
// 16.4). Their recipients rows are then written batch by batch as they are paged.
func (s *Service) SetInlineAudience(n int) { s.inline = n }

// Policy returns the rules the service applies.
func (s *Service) Policy() Policy { return s.policy }

// Declare registers a new incident reported by the actor of ctx and appends
// incident.declared. With an idempotency key, a repeat of the same declaration by the same
// actor returns the incident of the first one (created is false); the same key with a
// different declaration is ECONFLICT.
func (s *Service) Declare(ctx context.Context, d Declaration, idempotencyKey string) (inc Incident, created bool, err error) {
	actor, ok := optimum.ActorFrom(ctx)
	if !ok {
		return Incident{}, false, optimum.Errorf(optimum.EUNAUTHORIZED, "Sign in to declare an incident.")
	}
	d.Normalize()
	known := s.policy.Teams
	if s.audience != nil {
		known = nil // the directory knows the teams
	}
	if err := d.Validate(known); err != nil {
		if s.audience != nil && len(d.Teams) > 0 {
			// Report unknown teams along with the other problems, all at once.
			_, aerr := s.audience.Resolve(ctx, contacts.Audience{Teams: d.Teams, Sites: d.Sites})
			if f := optimum.ErrorFields(aerr); len(f) > 0 {
				return Incident{}, false, optimum.Invalid(optimum.ErrorMessage(err), append(optimum.ErrorFields(err), f...))
			}
		}
		return Incident{}, false, err
	}
	if len(idempotencyKey) > 200 {
		return Incident{}, false, optimum.Errorf(optimum.EINVALID, "Idempotency-Key is too long (at most 200 characters).")
	}
	if len(d.Teams) == 0 && len(d.People) == 0 && len(d.Sites) == 0 {
		d.Teams = append([]string(nil), s.policy.DefaultTeams...)
	}
	pr, err := s.policy.Priority(d.Impact, d.Urgency)
	if err != nil {
		return Incident{}, false, fmt.Errorf("declare: %w", err)
	}
	var recipients []contacts.Recipient
	var (
		plan     contacts.Plan
		planned  bool
		audience int
	)
	if s.audience != nil {
		a := contacts.Audience{Teams: d.Teams, People: d.People, Sites: d.Sites}
		resolved := false
		if p, ok := s.audience.(Planner); ok {
			var n int
			plan, n, planned, err = p.Plan(ctx, a)
			if err == nil && planned && n <= s.inline {
				// Small: resolved and written with the declaration, reading only its people.
				planned = false
				recipients, err = p.ResolvePlan(ctx, plan)
				resolved = true
			}
			audience = n
		}
		if err == nil && !planned && !resolved {
			recipients, err = s.audience.Resolve(ctx, a)
		}
		if err == nil && !planned {
			audience = len(recipients)
		}
		if err != nil {
			if f := optimum.ErrorFields(err); len(f) > 0 {
				return Incident{}, false, optimum.Invalid("The declaration has errors.", f)
			}
			return Incident{}, false, err
		}
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	hash := declarationHash(d)
	err = s.store.Tx(ctx, func(tx Tx) error {
		if idempotencyKey != "" {
			id, prev, err := tx.IdempotentResult(ctx, actor.ID, idempotencyKey, now.Add(-IdempotencyRetention))
			if err != nil {
				return err
			}
			if id != "" {
				if prev != hash {
					return optimum.Errorf(optimum.ECONFLICT, "This Idempotency-Key was already used for a different declaration.")
				}
				inc, err = tx.Lock(ctx, id)
				return err
			}
		}
		n, err := tx.NextFolio(ctx, s.policy.FolioYear(now))
		if err != nil {
			return err
		}
		inc = Incident{
			ID:          optimum.NewID("inc"),
			Folio:       Folio(s.policy.FolioYear(now), n),
			Title:       d.Title,
			Description: d.Description,
			Services:    d.Services,
			Causes:      d.Causes,
			Impact:      d.Impact,
			Urgency:     d.Urgency,
			Priority:    pr,
			Status:      StatusDeclared,
			Location:    d.Location,
			Reporter:    Person{ID: actor.ID, Name: actor.Name},
			Teams:       d.Teams,
			Sites:       d.Sites,
			Assigned:    []Person{},
			Drill:       d.Drill,
			Canary:      d.Canary && d.Drill,
			SafetyPoll:  d.SafetyPoll,
			Messages:    d.Messages,
			Ladder:      d.Ladder,
			Channels:    d.Channels,
			Audience:    audience,
			SLA:         s.policy.SLA(pr, now),
			CreatedAt:   now,
			UpdatedAt:   now,
		}
		if err := tx.Insert(ctx, inc); err != nil {
			return err
		}
		if planned {
			if err := tx.DeferRecipients(ctx, inc.ID, plan); err != nil {
				return err
			}
		} else if err := tx.AddRecipients(ctx, inc.ID, recipients); err != nil {
			return err
		}
		if idempotencyKey != "" {
			if err := tx.SaveIdempotentResult(ctx, actor.ID, idempotencyKey, hash, inc.ID, now); err != nil {
				return err
			}
		}
		created = true
		var data any
		if s.onDeclare != nil {
			if data, err = s.onDeclare(ctx, tx, inc, now); err != nil {
				return err
			}
		}
		// crisis: the channel a declaration came by (a CRISIS text, the hotline).
		if d.Via != "" {
			if m, ok := data.(map[string]any); ok {
				m["via"] = d.Via
			} else if data == nil {
				data = map[string]any{"via": d.Via}
			}
		}
		return appendEvent(ctx, tx, EventDeclared, now, actor, inc, data)
	})
	if err != nil {
		return Incident{}, false, err
	}
	return inc, created, nil
}

// Acknowledge records that the actor of ctx has seen the incident and owns its part. It is
// idempotent: a second acknowledgement by the same person changes nothing and appends
// nothing. The first acknowledgement of a declared incident moves it to acknowledged.
func (s *Service) Acknowledge(ctx context.Context, idOrFolio, channel string) (Incident, error) {
	actor, ok := optimum.ActorFrom(ctx)
	if !ok {
		return Incident{}, optimum.Errorf(optimum.EUNAUTHORIZED, "Sign in to acknowledge.")
	}
	if channel == "" {
		channel = "web"
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	return s.locked(ctx, idOrFolio, func(tx Tx, inc *Incident) error {
		_, err := acknowledgeTx(ctx, tx, inc, actor, channel, now)
		return err
	})
}

// locked runs fn on the incident idOrFolio, read for update in one write transaction, and
// returns the incident as fn left it.
func (s *Service) locked(ctx context.Context, idOrFolio string, fn func(tx Tx, inc *Incident) error) (Incident, error) {
	var inc Incident
	err := s.store.Tx(ctx, func(tx Tx) error {
		var err error
		if inc, err = tx.Lock(ctx, idOrFolio); err != nil {
			return err
		}
		return fn(tx, &inc)
	})
	return inc, err
}

// acknowledgeTx records the actor's acknowledgement of the locked incident inc, once:
// false when that person had already acknowledged.
func acknowledgeTx(ctx context.Context, tx Tx, inc *Incident, actor optimum.Actor, channel string, now time.Time) (bool, error) {
	if inc.Status == StatusCancelled || inc.Status == StatusClosed {
		return false, optimum.Errorf(optimum.ECONFLICT, "Incident %s is %s; it can no longer be acknowledged.", inc.Folio, inc.Status)
	}
	personID := actor.PersonID
	if personID == "" {
		personID = actor.ID
	}
	added, err := tx.AddAck(ctx, inc.ID, Ack{PersonID: personID, Name: actor.Name, Channel: channel, At: now})
	if err != nil || !added {
		return false, err
	}
	inc.AckCount++
	if inc.AcknowledgedAt == nil {
		inc.AcknowledgedAt = &now
	}
	if inc.Status == StatusDeclared {
		inc.Status = StatusAcknowledged
	}
	inc.UpdatedAt = now
	if err := tx.Update(ctx, *inc); err != nil {
		return false, err
	}
	return true, appendEvent(ctx, tx, EventAcknowledged, now, actor, *inc, map[string]any{
		"person_id": personID, "name": actor.Name, "channel": channel,
	})
}

// Link returns the incident and the person of a one-tap link token. An unknown or expired
// token is ENOTFOUND, with the same message, so tokens cannot be probed; the link of a
// closed or cancelled incident is ECONFLICT (with the incident and link returned).
func (s *Service) Link(ctx context.Context, token string) (Incident, AckLink, error) {
	bad := optimum.Errorf(optimum.ENOTFOUND, "This link is unknown or has expired.")
	if token == "" || len(token) > 100 {
		return Incident{}, AckLink{}, bad
	}
	sum := sha256.Sum256([]byte(token))
	l, err := s.store.AckLink(ctx, hex.EncodeToString(sum[:]))
	if optimum.ErrorCode(err) == optimum.ENOTFOUND || (err == nil && !s.now().Before(l.ExpiresAt)) {
		return Incident{}, AckLink{}, bad
	} else if err != nil {
		return Incident{}, AckLink{}, err
	}
	inc, err := s.store.Incident(ctx, l.IncidentID)
	if err == nil && (inc.Status == StatusClosed || inc.Status == StatusCancelled) {
		// A link stops working with its incident; the incident is returned so that the
		// page can say what happened to it.
		return inc, l, optimum.Errorf(optimum.ECONFLICT, "Incident %s is %s; this link no longer works.", inc.Folio, inc.Status)
	}
	return inc, l, err
}

// AcknowledgeByLink acknowledges as the person of a one-tap link, from a channel
// ("link", "webpush").
func (s *Service) AcknowledgeByLink(ctx context.Context, token, channel string) (Incident, AckLink, error) {
	_, l, err := s.Link(ctx, token)
	if err != nil {
		return Incident{}, l, err
	}
	inc, err := s.AcknowledgeAsPerson(ctx, l.IncidentID, l.PersonID, l.Name, channel)
	return inc, l, err
}

// AcknowledgeAsPerson acknowledges for a directory person reached on a channel (a link,
// an SMS reply, a key pressed in a call), who need not have an account.
func (s *Service) AcknowledgeAsPerson(ctx context.Context, idOrFolio, personID, name, channel string) (Incident, error) {
	ctx = optimum.WithActor(ctx, optimum.Actor{ID: personID, Name: name, PersonID: personID})
	return s.Acknowledge(ctx, idOrFolio, channel)
}

// Get returns the incident with the id or folio.
func (s *Service) Get(ctx context.Context, idOrFolio string) (Incident, error) {
	return s.store.Incident(ctx, idOrFolio)
}

// List returns the incidents that match the filter, newest first.
func (s *Service) List(ctx context.Context, f Filter) ([]Incident, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return nil, optimum.Errorf(optimum.EINVALID, "The time range is empty or reversed: from must be before to.")
	}
	if len([]rune(f.Text)) > 200 {
		return nil, optimum.Errorf(optimum.EINVALID, "The search text is too long (at most 200 characters).")
	}
	return s.store.Incidents(ctx, f)
}

// Timeline returns the incident's events, oldest first.
func (s *Service) Timeline(ctx context.Context, id string) ([]optimum.Event, error) {
	return s.store.Timeline(ctx, id)
}

// Recipients returns who the incident is for, and anyone else who acknowledged it, with
// their acknowledgement.
func (s *Service) Recipients(ctx context.Context, id string) ([]Recipient, error) {
	rs, err := s.store.Recipients(ctx, id)
	if err != nil {
		return nil, err
	}
	acks, err := s.store.Acks(ctx, id)
	if err != nil {
		return nil, err
	}
	deliveries, err := s.store.Deliveries(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]Recipient, 0, len(rs)+len(acks))
	pos := map[string]int{}
	for _, r := range rs {
		pos[r.PersonID] = len(out)
		out = append(out, Recipient{PersonID: r.PersonID, Name: r.Name, Deliveries: []Delivery{}})
	}
	for _, a := range acks {
		at := a.At
		i, ok := pos[a.PersonID]
		if !ok {
			i = len(out)
			out = append(out, Recipient{PersonID: a.PersonID, Name: a.Name, Deliveries: []Delivery{}})
		}
		out[i].AcknowledgedAt, out[i].Channel = &at, a.Channel
	}
	safety, err := s.store.SafetyAnswers(ctx, id)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if d := deliveries[out[i].PersonID]; d != nil {
			out[i].Deliveries = d
		}
		if a, ok := safety[out[i].PersonID]; ok {
			at := a.At
			out[i].Safety, out[i].SafetyAt = a.Answer, &at
		}
	}
	return out, nil
}

func appendEvent(ctx context.Context, tx Tx, typ string, at time.Time, actor optimum.Actor, inc Incident, data any) error {
	snap, err := json.Marshal(inc)
	if err != nil {
		return fmt.Errorf("encode incident: %w", err)
	}
	e := optimum.Event{Type: typ, At: at, Actor: &actor, IncidentID: inc.ID, Incident: snap}
	if data != nil {
		if e.Data, err = json.Marshal(data); err != nil {
			return fmt.Errorf("encode event data: %w", err)
		}
	}
	_, err = tx.Append(ctx, e)
	return err
}

// declarationHash identifies a normalized declaration, to tell a retry from a reuse.
func declarationHash(d Declaration) string {
	b, _ := json.Marshal(d)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
