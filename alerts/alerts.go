// Package alerts takes alerts in from monitoring and turns them into proposed incidents:
// Prometheus Alertmanager's webhook (payload version 4) and a generic JSON webhook signed
// as Standard Webhooks say. A proposal never pages anybody: a responder confirms it (it
// becomes a declaration, with its ladder) or dismisses it with a reason; only a rule of
// the configuration (integrations.declare_at_once) declares an alert name at once.
// Notifications with the same group key update the same proposal; resolved alerts are
// noted on it. Every proposal change, and every refused notification, is an event.
package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/config"
)

// Proposal states.
const (
	StatusOpen = "open"
	// StatusConfirming is a confirmation under way: its declaration is being made.
	StatusConfirming = "confirming"
	StatusConfirmed  = "confirmed"
	StatusDismissed  = "dismissed"
)

// Sources of proposals.
const (
	SourceAlertmanager = "alertmanager"
	SourceWebhook      = "webhook"
)

// Event types.
const (
	EventProposed  = "proposal.created"
	EventUpdated   = "proposal.updated"
	EventConfirmed = "proposal.confirmed"
	EventDismissed = "proposal.dismissed"
	EventRefused   = "integration.refused"
)

// Alert is one alert of a notification, as the monitoring system sent it.
type Alert struct {
	Fingerprint  string            `json:"fingerprint"`
	Status       string            `json:"status"` // firing, resolved
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"starts_at"`
	EndsAt       *time.Time        `json:"ends_at,omitempty"`
	GeneratorURL string            `json:"generator_url,omitempty"`
}

// Proposal is an incident monitoring proposes, waiting for a human.
type Proposal struct {
	ID          string            `json:"id"`
	Source      string            `json:"source"`
	GroupKey    string            `json:"group_key"`
	Status      string            `json:"status"`
	AlertName   string            `json:"alert_name"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	Severity    string            `json:"severity"`
	Labels      map[string]string `json:"labels"`
	Alerts      []Alert           `json:"alerts"`
	// Firing and Resolved count the alerts by their latest status; AllResolved says the
	// source reported every one resolved (noted, never acted on by itself).
	Firing        int       `json:"firing"`
	Resolved      int       `json:"resolved"`
	AllResolved   bool      `json:"all_resolved"`
	Notifications int       `json:"notifications"`
	ExternalURL   string    `json:"external_url,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	// The decision: who, when, why; the incident a confirmation declared.
	DecidedAt  *time.Time     `json:"decided_at,omitempty"`
	DecidedBy  *optimum.Actor `json:"decided_by,omitempty"`
	Reason     string         `json:"reason,omitempty"`
	IncidentID string         `json:"incident_id,omitempty"`
	Folio      string         `json:"folio,omitempty"`
}

// Notification is one delivery of the source: a group of alerts under a group key.
type Notification struct {
	Source      string
	GroupKey    string
	Status      string // firing, resolved
	Title       string
	Description string
	Severity    string
	AlertName   string
	Labels      map[string]string
	Alerts      []Alert
	ExternalURL string
}

// Store keeps proposals; every change appends its event in the same transaction.
type Store interface {
	Tx(ctx context.Context, fn func(Tx) error) error
	Proposal(ctx context.Context, id string) (Proposal, error)
	Proposals(ctx context.Context, status string, limit int) ([]Proposal, error)
	// DeclaredFor returns the incident declared with the idempotency key, whoever
	// declared it; false when there is none.
	DeclaredFor(ctx context.Context, key string) (incident.Incident, bool, error)
}

// Tx is the work on proposals inside one transaction.
type Tx interface {
	// LatestProposal returns the newest proposal of the source's group key; false when
	// there is none.
	LatestProposal(ctx context.Context, source, groupKey string) (Proposal, bool, error)
	// LockProposal returns the proposal for update; ENOTFOUND when there is none.
	LockProposal(ctx context.Context, id string) (Proposal, error)
	SaveProposal(ctx context.Context, p Proposal) error
	Append(ctx context.Context, e optimum.Event) error
}

// claimTimeout is how long a confirmation under way keeps others from confirming: past
// it, the confirming node is taken to have died.
const claimTimeout = 2 * time.Minute

// Declarer declares the incident a confirmed proposal becomes.
type Declarer interface {
	Declare(ctx context.Context, d incident.Declaration, idempotencyKey string) (incident.Incident, bool, error)
}

// Service receives notifications and takes the decisions on proposals.
type Service struct {
	store   Store
	declare Declarer
	cfg     config.Integrations
	now     func() time.Time
}

// NewService returns the service; now nil is time.Now.
func NewService(store Store, declare Declarer, cfg config.Integrations, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, declare: declare, cfg: cfg, now: now}
}

// Receive records a notification: it updates the proposal of its group key while that
// proposal is open, or while the alerts are those it was decided on (Alertmanager repeats
// a firing group every repeat_interval: that is no new crisis); otherwise it makes a new
// proposal, which a rule may declare at once. It returns the proposal.
func (s *Service) Receive(ctx context.Context, n Notification) (Proposal, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	actor, _ := optimum.ActorFrom(ctx)
	var p Proposal
	created := false
	err := s.store.Tx(ctx, func(tx Tx) error {
		old, ok, err := tx.LatestProposal(ctx, n.Source, n.GroupKey)
		if err != nil {
			return err
		}
		if ok && (old.Status == StatusOpen || old.Status == StatusConfirming || sameEpisode(old, n)) {
			p = old
		} else {
			created = true
			p = Proposal{ID: optimum.NewID("prp"), Source: n.Source, GroupKey: n.GroupKey, Status: StatusOpen, CreatedAt: now}
		}
		p.AlertName, p.Title, p.Description, p.Severity, p.Labels, p.ExternalURL = n.AlertName, n.Title, n.Description, n.Severity, n.Labels, n.ExternalURL
		p.Alerts = merge(p.Alerts, n.Alerts)
		p.Firing, p.Resolved = 0, 0
		for _, a := range p.Alerts {
			if a.Status == "resolved" {
				p.Resolved++
			} else {
				p.Firing++
			}
		}
		p.AllResolved = p.Firing == 0
		p.Notifications++
		p.UpdatedAt = now
		if err := tx.SaveProposal(ctx, p); err != nil {
			return err
		}
		typ := EventUpdated
		if created {
			typ = EventProposed
		}
		return appendEvent(ctx, tx, typ, now, actor, p, map[string]any{"status": n.Status, "alerts": len(n.Alerts), "firing": p.Firing, "resolved": p.Resolved})
	})
	if err != nil || !created {
		return p, err
	}
	if rule, ok := s.cfg.Rule(p.AlertName); ok && !p.AllResolved {
		return s.confirm(ctx, p.ID, Confirmation{Impact: incident.Level(rule.Impact), Urgency: incident.Level(rule.Urgency), Teams: rule.Teams},
			"integrations.declare_at_once: "+p.AlertName)
	}
	return p, nil
}

// sameEpisode says whether the notification carries alerts the decided proposal already
// had, still in the same firing (same fingerprint, same start).
func sameEpisode(p Proposal, n Notification) bool {
	for _, a := range n.Alerts {
		for _, b := range p.Alerts {
			if a.Fingerprint == b.Fingerprint && a.StartsAt.Equal(b.StartsAt) {
				return true
			}
		}
	}
	return false
}

// merge puts the newer alerts in place of the older of the same fingerprint.
func merge(old, newer []Alert) []Alert {
	out := slices.Clone(old)
	for _, a := range newer {
		i := slices.IndexFunc(out, func(b Alert) bool { return b.Fingerprint == a.Fingerprint })
		if i >= 0 {
			out[i] = a
		} else {
			out = append(out, a)
		}
	}
	if len(out) > MaxAlerts {
		out = out[len(out)-MaxAlerts:]
	}
	return out
}

// MaxAlerts bounds the alerts a proposal keeps (the newest).
const MaxAlerts = 100

// Confirmation is what a responder may set when confirming; empty fields come from the
// alert, the rules and the configuration.
type Confirmation struct {
	Title   string         `json:"title"`
	Impact  incident.Level `json:"impact"`
	Urgency incident.Level `json:"urgency"`
	Teams   []string       `json:"teams"`
}

// Confirm makes the open proposal a declaration, as the actor of ctx.
func (s *Service) Confirm(ctx context.Context, id string, c Confirmation) (Proposal, error) {
	return s.confirm(ctx, id, c, "")
}

func (s *Service) confirm(ctx context.Context, id string, c Confirmation, rule string) (Proposal, error) {
	actor, _ := optimum.ActorFrom(ctx)
	now := s.now().UTC().Truncate(time.Millisecond)
	// First claim it, so that two responders confirming at once declare once.
	var p Proposal
	err := s.store.Tx(ctx, func(tx Tx) error {
		var err error
		if p, err = tx.LockProposal(ctx, id); err != nil {
			return err
		}
		switch {
		case p.Status == StatusConfirming && p.DecidedBy != nil && p.DecidedBy.ID != actor.ID && now.Sub(*p.DecidedAt) < claimTimeout:
			return optimum.Errorf(optimum.ECONFLICT, "Proposal %s is being confirmed by %s.", p.ID, p.DecidedBy.Name)
		case p.Status != StatusOpen && p.Status != StatusConfirming:
			return optimum.Errorf(optimum.ECONFLICT, "Proposal %s was already %s.", p.ID, p.Status)
		}
		p.Status, p.DecidedAt, p.DecidedBy = StatusConfirming, &now, &actor
		return tx.SaveProposal(ctx, p)
	})
	if err != nil {
		return p, err
	}
	// The proposal's id keys the declaration: a retry, or a confirmation taking over from
	// a node that died, finds the incident already declared instead of a second one.
	key := "proposal:" + p.ID
	inc, found, err := s.store.DeclaredFor(ctx, key)
	if err == nil && !found {
		inc, _, err = s.declare.Declare(ctx, s.declaration(p, c), key)
	}
	if err != nil {
		_ = s.store.Tx(context.WithoutCancel(ctx), func(tx Tx) error { // back to open: nothing was declared
			q, lerr := tx.LockProposal(ctx, id)
			if lerr != nil || q.Status != StatusConfirming {
				return lerr
			}
			q.Status, q.DecidedAt, q.DecidedBy = StatusOpen, nil, nil
			return tx.SaveProposal(ctx, q)
		})
		return p, err
	}
	err = s.store.Tx(ctx, func(tx Tx) error {
		if p, err = tx.LockProposal(ctx, id); err != nil {
			return err
		}
		p.Status, p.DecidedAt, p.DecidedBy, p.IncidentID, p.Folio, p.Reason = StatusConfirmed, &now, &actor, inc.ID, inc.Folio, rule
		if err := tx.SaveProposal(ctx, p); err != nil {
			return err
		}
		return appendEvent(ctx, tx, EventConfirmed, now, actor, p, map[string]any{"incident_id": inc.ID, "folio": inc.Folio, "rule": rule})
	})
	return p, err
}

// Dismiss closes the open proposal without declaring, with the reason.
func (s *Service) Dismiss(ctx context.Context, id, reason string) (Proposal, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return Proposal{}, optimum.Invalid("The dismissal has errors.", []optimum.FieldError{{Field: "reason", Message: "say why the alert is not a crisis"}})
	case utf8.RuneCountInString(reason) > 2000:
		return Proposal{}, optimum.Invalid("The dismissal has errors.", []optimum.FieldError{{Field: "reason", Message: "must be at most 2000 characters"}})
	}
	actor, _ := optimum.ActorFrom(ctx)
	now := s.now().UTC().Truncate(time.Millisecond)
	var p Proposal
	err := s.store.Tx(ctx, func(tx Tx) error {
		var err error
		if p, err = tx.LockProposal(ctx, id); err != nil {
			return err
		}
		if p.Status != StatusOpen {
			return optimum.Errorf(optimum.ECONFLICT, "Proposal %s was already %s.", p.ID, p.Status)
		}
		p.Status, p.DecidedAt, p.DecidedBy, p.Reason = StatusDismissed, &now, &actor, reason
		if err := tx.SaveProposal(ctx, p); err != nil {
			return err
		}
		return appendEvent(ctx, tx, EventDismissed, now, actor, p, map[string]any{"reason": reason})
	})
	return p, err
}

// Refused records a notification the server refused (unsigned, replayed, another payload
// version), with the reason and who sent it, so that every refusal is on the record.
func (s *Service) Refused(ctx context.Context, source, reason, client string) error {
	actor, _ := optimum.ActorFrom(ctx)
	now := s.now().UTC().Truncate(time.Millisecond)
	return s.store.Tx(ctx, func(tx Tx) error {
		data, _ := json.Marshal(map[string]any{"source": source, "reason": reason, "client": client})
		e := optimum.Event{Type: EventRefused, At: now, Data: data}
		if actor.ID != "" {
			e.Actor = &actor
		}
		return tx.Append(ctx, e)
	})
}

// Get returns a proposal.
func (s *Service) Get(ctx context.Context, id string) (Proposal, error) {
	return s.store.Proposal(ctx, id)
}

// List returns the proposals of a status ("" for all), newest first.
func (s *Service) List(ctx context.Context, status string, limit int) ([]Proposal, error) {
	ps, err := s.store.Proposals(ctx, status, limit)
	if ps == nil {
		ps = []Proposal{}
	}
	return ps, err
}

// declaration is what a confirmed proposal declares.
func (s *Service) declaration(p Proposal, c Confirmation) incident.Declaration {
	impact, urgency := levels(p.Severity)
	if c.Impact != "" {
		impact = c.Impact
	}
	if c.Urgency != "" {
		urgency = c.Urgency
	}
	title := c.Title
	if title == "" {
		title = p.Title
	}
	teams := c.Teams
	if len(teams) == 0 {
		if t := p.Labels["team"]; t != "" {
			teams = []string{t}
		} else {
			teams = s.cfg.Teams
		}
	}
	var b strings.Builder
	b.WriteString(p.Description)
	fmt.Fprintf(&b, "\n\n%s · %s · %d firing, %d resolved", p.Source, p.AlertName, p.Firing, p.Resolved)
	for _, k := range slices.Sorted(maps.Keys(p.Labels)) {
		fmt.Fprintf(&b, "\n%s=%s", k, p.Labels[k])
	}
	if p.ExternalURL != "" {
		b.WriteString("\n" + p.ExternalURL)
	}
	return incident.Declaration{Title: clip(title, 200), Description: clip(strings.TrimSpace(b.String()), 4000), Impact: impact, Urgency: urgency, Teams: teams}
}

// levels maps a severity label to impact and urgency.
func levels(severity string) (incident.Level, incident.Level) {
	switch strings.ToLower(severity) {
	case "critical", "disaster", "emergency", "page":
		return incident.High, incident.Critical
	case "high", "error", "major":
		return incident.High, incident.High
	case "warning", "medium", "minor":
		return incident.Medium, incident.High
	}
	return incident.Medium, incident.Medium
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// appendEvent records a change of the proposal; the proposal after it rides in the
// event's data ("proposal"), so that boards update from the stream alone.
func appendEvent(ctx context.Context, tx Tx, typ string, at time.Time, actor optimum.Actor, p Proposal, data map[string]any) error {
	data["proposal"] = p
	d, err := json.Marshal(data)
	if err != nil {
		return err
	}
	e := optimum.Event{Type: typ, At: at, Data: d}
	if actor.ID != "" {
		e.Actor = &actor
	}
	return tx.Append(ctx, e)
}
