package escalation

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/incident"
)

// Kinds of manual escalation.
const (
	Functional   = "functional"   // to a more specialised team (or a service's owner, or a person)
	Hierarchical = "hierarchical" // up the management line
)

// Manual is a request to escalate an incident by hand.
type Manual struct {
	Kind   string `json:"kind"`
	To     string `json:"to"`
	Reason string `json:"reason"`
}

// Escalate pages new people for an incident at once, as the actor of ctx asks: a
// functional escalation goes to a team (or the team owning a service, or a person); a
// hierarchical one to a person or team named, else to the managers of whoever owns the
// incident now (its assigned owner, else who acknowledged first, else who the current
// step paged), else to the directors. The reason is required and goes on the timeline
// with who was paged.
func (e *Engine) Escalate(ctx context.Context, idOrFolio string, m Manual) ([]Contact, error) {
	actor, ok := optimum.ActorFrom(ctx)
	if !ok {
		return nil, optimum.Errorf(optimum.EUNAUTHORIZED, "Sign in to escalate.")
	}
	m.Kind, m.To, m.Reason = strings.ToLower(strings.TrimSpace(m.Kind)), strings.TrimSpace(m.To), strings.TrimSpace(m.Reason)
	var f []optimum.FieldError
	if m.Kind != Functional && m.Kind != Hierarchical {
		f = append(f, optimum.FieldError{Field: "kind", Message: "must be functional or hierarchical"})
	}
	if m.Kind == Functional && m.To == "" {
		f = append(f, optimum.FieldError{Field: "to", Message: "is required for a functional escalation (a team, a service or a person)"})
	}
	if len(m.To) > 200 {
		f = append(f, optimum.FieldError{Field: "to", Message: "is too long (at most 200 characters)"})
	}
	switch n := utf8.RuneCountInString(m.Reason); {
	case n == 0:
		f = append(f, optimum.FieldError{Field: "reason", Message: "is required: say why it needs escalating"})
	case n > 1000 || !utf8.ValidString(m.Reason):
		f = append(f, optimum.FieldError{Field: "reason", Message: "must be UTF-8 text of at most 1000 characters"})
	}
	if err := optimum.Invalid("The escalation has errors.", f); err != nil {
		return nil, err
	}
	now := e.opt.Now().UTC().Truncate(time.Millisecond)
	var paged []Contact
	w := &work{e: e}
	err := e.store.Work(ctx, func(tx Tx) error {
		w.tx, w.queued, paged = tx, 0, nil
		inc, err := tx.Incident(ctx, idOrFolio)
		if err != nil {
			return err
		}
		if !inc.Status.Open() {
			return optimum.Errorf(optimum.ECONFLICT, "Incident %s is %s; it can no longer be escalated.", inc.Folio, inc.Status)
		}
		r, err := tx.Run(ctx, inc.ID)
		if optimum.ErrorCode(err) == optimum.ENOTFOUND {
			r = Run{IncidentID: inc.ID, State: StateManual, Step: -1, StepAt: now, AckBy: inc.SLA.AckBy, ResolveBy: inc.SLA.ResolveBy, AckSLA: SLAMet, ResolveSLA: SLAMet}
			if _, err := tx.StartRun(ctx, r, now); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		targets, err := w.manualTargets(ctx, inc, r, m)
		if err != nil {
			return err
		}
		schedule := defaultSchedule
		if len(r.Ladder.Steps) > 0 {
			schedule = r.Ladder.Steps[0].Reminders
		}
		list := []map[string]string{}
		for _, c := range targets {
			p, err := tx.Page(ctx, inc.ID, c.PersonID)
			if err == nil && p.AckedAt != nil {
				continue
			} else if err != nil && optimum.ErrorCode(err) != optimum.ENOTFOUND {
				return err
			}
			if err := w.page(ctx, inc, c, r.Step, r.Round, ReasonManual, schedule, now, now); err != nil {
				return err
			}
			paged = append(paged, c)
			list = append(list, map[string]string{"person_id": c.PersonID, "name": c.Name})
		}
		if len(paged) == 0 {
			return optimum.Invalid("Nobody to page.", []optimum.FieldError{{Field: "to", Message: "names nobody active who has not acknowledged already"}})
		}
		return w.record(ctx, EventEscalated, inc, actor, now, map[string]any{
			"kind": m.Kind, "to": m.To, "reason": m.Reason, "paged": list, "step": r.Step + 1,
		})
	})
	if err != nil {
		return nil, err
	}
	if w.queued > 0 {
		e.opt.Wake()
	}
	return paged, nil
}

// manualTargets resolves who a manual escalation pages.
func (w *work) manualTargets(ctx context.Context, inc incident.Incident, r Run, m Manual) ([]Contact, error) {
	bad := func() error {
		return optimum.Invalid("The escalation has errors.", []optimum.FieldError{{Field: "to", Message: "\"" + clip(m.To, 60) + "\" is not a team, a service or a person"}})
	}
	if m.To != "" {
		for _, t := range []Target{{Team: strings.ToLower(m.To)}, {Service: strings.ToLower(m.To)}, {Person: m.To}} {
			cs, err := w.tx.Resolve(ctx, t, nil)
			if optimum.ErrorCode(err) == optimum.EINVALID {
				continue
			}
			return cs, err
		}
		return nil, bad()
	}
	// Hierarchical with no one named: the managers of whoever owns it now — the owner
	// assigned on the incident, else who acknowledged first, else the current step's people.
	owner := ""
	if inc.Owner != nil {
		owner = inc.Owner.ID
	}
	if owner == "" {
		var err error
		if owner, err = w.tx.FirstAcker(ctx, inc.ID); err != nil {
			return nil, err
		}
	}
	var who []string
	if owner != "" {
		who = []string{owner}
	} else {
		pages, err := w.tx.Pages(ctx, inc.ID)
		if err != nil {
			return nil, err
		}
		for _, p := range pages {
			if p.Reason == ReasonLadder && p.Step == r.Step && p.Round == r.Round {
				who = append(who, p.PersonID)
			}
		}
	}
	if len(who) > 0 {
		cs, err := w.tx.Resolve(ctx, Target{ManagersOfPage: true}, who)
		if err != nil || len(cs) > 0 {
			return cs, err
		}
	}
	cs, err := w.tx.Resolve(ctx, Target{Team: w.e.opt.DirectorsTeam}, nil)
	if optimum.ErrorCode(err) == optimum.EINVALID {
		return nil, optimum.Invalid("Nobody to page.", []optimum.FieldError{{Field: "to", Message: "nobody has a manager and there is no directors team: name a team or person"}})
	}
	return cs, err
}
