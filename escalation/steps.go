package escalation

import (
	"context"
	"slices"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/incident"
)

// start begins an incident's escalation at its declaration: the ladder's first step and
// the audience are paged at the declaration's time.
func (w *work) start(ctx context.Context, inc incident.Incident, at time.Time) error {
	ls, err := w.tx.Ladders(ctx)
	if err != nil {
		return err
	}
	l, ok := Choose(ls, inc.Ladder, string(inc.Priority), inc.Services)
	r := Run{IncidentID: inc.ID, Ladder: l, State: StateRunning, Step: -1, StepAt: at,
		AckBy: inc.SLA.AckBy, ResolveBy: inc.SLA.ResolveBy, AckSLA: SLAPending, ResolveSLA: SLAPending}
	if inc.Canary {
		// The canary tests the channels to its own audience: no ladder, no SLA, nobody else.
		ok, r.AckBy, r.ResolveBy = false, time.Time{}, time.Time{}
	}
	if !ok {
		r.State = StateManual
	}
	if !ok && !inc.Canary && inc.Ladder != NoLadder {
		w.e.opt.Logger.Warn("escalation: no ladder fits the incident; only its audience is alerted", "incident", inc.Folio, "priority", inc.Priority, "ladder", inc.Ladder)
	}
	if r.AckBy.IsZero() {
		r.AckSLA = SLAMet
	}
	if r.ResolveBy.IsZero() {
		r.ResolveSLA = SLAMet
	}
	started, err := w.tx.StartRun(ctx, r, at)
	if err != nil || !started {
		return err // a second delivery of the same event changes nothing
	}
	schedule := defaultSchedule
	if !ok && len(inc.Channels) > 0 {
		// Without a ladder, an incident that names its channels (a canary testing them,
		// the page about a failed canary on the channels that still work) alerts its
		// audience on each of them at once.
		schedule = []Reminder{{After: 0, Channels: inc.Channels}}
	}
	if ok {
		schedule = l.Steps[0].Reminders
		if err := w.pageStep(ctx, &r, inc, 0, 0, at, at); err != nil {
			return err
		}
	}
	// The audience is paged in batches after this transaction (Engine.PageAudiences),
	// each with the declaration's time; whoever the step paged already is left out.
	if err := w.tx.StartAudience(ctx, inc.ID, schedule, at); err != nil {
		return err
	}
	_, err = w.tx.SaveRun(ctx, r, "", at)
	return err
}

// audienceBatch pages the next batch of an audience: the recipients after its cursor
// that nobody paged yet, each at the declaration's time as if paged at it. It returns
// the audience with the cursor moved past them, or Done when none were left. An incident
// closed before its whole audience was paged pages nobody more.
func (w *work) audienceBatch(ctx context.Context, a Audience) (Audience, error) {
	inc, err := w.tx.Incident(ctx, a.IncidentID)
	if err != nil {
		return a, err
	}
	if !inc.Status.Open() {
		a.Done = true
		return a, nil
	}
	cs, err := w.tx.AudienceAfter(ctx, a.IncidentID, a.After, w.e.opt.AudienceBatch)
	if err != nil {
		return a, err
	}
	// The batch's deliveries are queued together, after its pages: one Enqueue finds each
	// lane's turn once for the batch, not once per person.
	w.collect, w.pending = true, nil
	defer func() { w.collect, w.pending = false, nil }()
	for _, c := range cs {
		if err := w.page(ctx, inc, c, -1, 0, ReasonAudience, a.Schedule, a.PagedAt, a.PagedAt); err != nil {
			return a, err
		}
		a.After = c.PersonID
	}
	if len(w.pending) > 0 {
		if err := w.tx.Enqueue(ctx, w.pending); err != nil {
			return a, err
		}
	}
	a.Done = len(cs) < w.e.opt.AudienceBatch
	return a, nil
}

// pageStep pages the targets of a step of the run's ladder, scheduled at at.
func (w *work) pageStep(ctx context.Context, r *Run, inc incident.Incident, step, round int, at, now time.Time) error {
	s := r.Ladder.Steps[step]
	pages, err := w.tx.Pages(ctx, inc.ID)
	if err != nil {
		return err
	}
	var prior []string
	state := map[string]Page{}
	for _, p := range pages {
		state[p.PersonID] = p
		if p.Reason != ReasonAudience {
			prior = append(prior, p.PersonID)
		}
	}
	var (
		contacts []Contact
		empty    []any
		seen     = map[string]bool{}
	)
	for _, t := range s.Targets {
		cs, err := w.tx.Resolve(ctx, t, prior)
		if optimum.ErrorCode(err) == optimum.EINVALID {
			empty = append(empty, map[string]any{"target": t, "problem": optimum.ErrorMessage(err)})
			continue
		} else if err != nil {
			return err
		}
		if len(cs) == 0 {
			empty = append(empty, map[string]any{"target": t, "problem": "nobody active to page"})
		}
		for _, c := range cs {
			if !seen[c.PersonID] {
				seen[c.PersonID] = true
				contacts = append(contacts, c)
			}
		}
	}
	paged := []map[string]string{}
	for _, c := range contacts {
		p, ok := state[c.PersonID]
		if ok && p.AckedAt != nil {
			continue // already acknowledged: nothing to ask
		}
		if ok && p.StoppedAt == nil && !p.PagedAt.Before(now) {
			// Paged this very moment for another reason (an SLA breach, the audience):
			// the same page now counts for the step; nothing is sent twice.
			p.Step, p.Round, p.Reason = step, round, ReasonLadder
			if _, err := w.tx.SavePage(ctx, p, "", now); err != nil {
				return err
			}
			paged = append(paged, map[string]string{"person_id": c.PersonID, "name": c.Name})
			continue
		}
		if err := w.page(ctx, inc, c, step, round, ReasonLadder, s.Reminders, at, now); err != nil {
			return err
		}
		paged = append(paged, map[string]string{"person_id": c.PersonID, "name": c.Name})
	}
	r.Step, r.Round, r.StepAt, r.NextStepAt = step, round, at, nil
	more := step+1 < len(r.Ladder.Steps) || round < r.Ladder.Repeat || r.Ladder.Then != ""
	switch {
	case s.Wait > 0:
		next := at.Add(time.Duration(s.Wait))
		r.NextStepAt = &next
	case more:
		r.NextStepAt = &at
	}
	if len(contacts) == 0 {
		// Loud, never silent: a step that reaches nobody is a gap in the continuity plan.
		w.e.opt.Logger.Warn("escalation: a step has nobody to page", "incident", inc.Folio, "ladder", r.Ladder.ID, "step", step+1)
		if err := w.record(ctx, EventEmpty, inc, optimum.System, now, map[string]any{
			"ladder": r.Ladder.ID, "step": step + 1, "round": round, "targets": s.Targets, "problems": empty,
		}); err != nil {
			return err
		}
	}
	if err := w.record(ctx, EventEscalated, inc, optimum.System, now, map[string]any{
		"kind": "ladder", "ladder": r.Ladder.ID, "step": step + 1, "steps": len(r.Ladder.Steps), "round": round,
		"due_at": at, "paged": paged, "empty": empty, "next_step_at": r.NextStepAt,
	}); err != nil {
		return err
	}
	if r.NextStepAt == nil {
		return w.exhaust(ctx, r, inc, now)
	}
	return nil
}

func (w *work) exhaust(ctx context.Context, r *Run, inc incident.Incident, now time.Time) error {
	r.State, r.NextStepAt = StateExhausted, nil
	return w.record(ctx, EventExhausted, inc, optimum.System, now, map[string]any{"ladder": r.Ladder.ID, "rounds": r.Round + 1})
}

// page pages one person: it replaces any earlier page of theirs for the incident with a
// fresh reminder schedule starting at at, and sends what is due by now.
func (w *work) page(ctx context.Context, inc incident.Incident, c Contact, step, round int, reason string, schedule []Reminder, at, now time.Time) error {
	p := Page{IncidentID: inc.ID, PersonID: c.PersonID, Name: c.Name, Step: step, Round: round, Reason: reason,
		Schedule: schedule, PagedAt: at}
	if err := w.sendDue(ctx, inc, &p, c, now); err != nil {
		return err
	}
	_, err := w.tx.SavePage(ctx, p, "", now)
	return err
}

// sendDue sends the page's reminders due by now (after a pause, the channels of every
// missed reminder at once, each channel once) and sets when the next one is due.
func (w *work) sendDue(ctx context.Context, inc incident.Incident, p *Page, c Contact, now time.Time) error {
	var channels []string
	first := p.Reminder == 0
	for p.Reminder < len(p.Schedule) && !p.PagedAt.Add(time.Duration(p.Schedule[p.Reminder].After)).After(now) {
		for _, ch := range p.Schedule[p.Reminder].Channels {
			if !slices.Contains(channels, ch) {
				channels = append(channels, ch)
			}
		}
		p.Reminder++
	}
	p.NextAt = nil
	if p.Reminder < len(p.Schedule) {
		next := p.PagedAt.Add(time.Duration(p.Schedule[p.Reminder].After))
		p.NextAt = &next
	}
	if len(channels) == 0 {
		return nil
	}
	_, err := w.send(ctx, inc, c, channels, !first, first && p.Reason == ReasonAudience, now)
	return err
}

// remind sends a claimed page's due reminders.
func (w *work) remind(ctx context.Context, key PageKey, now time.Time) error {
	p, err := w.tx.Page(ctx, key.IncidentID, key.PersonID)
	if optimum.ErrorCode(err) == optimum.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if p.LeaseOwner != w.e.opt.Owner {
		return nil // another engine holds it now
	}
	inc, err := w.tx.Incident(ctx, p.IncidentID)
	if err != nil {
		return err
	}
	switch {
	case p.AckedAt != nil || p.StoppedAt != nil:
		p.NextAt = nil
	case !inc.Status.Open():
		p.NextAt, p.StoppedAt, p.StopReason = nil, &now, "incident "+string(inc.Status)
	default:
		c, err := w.tx.Contact(ctx, p.PersonID)
		if optimum.ErrorCode(err) == optimum.ENOTFOUND {
			p.NextAt, p.StoppedAt, p.StopReason = nil, &now, "person no longer active"
			break
		} else if err != nil {
			return err
		}
		if err := w.sendDue(ctx, inc, &p, c, now); err != nil {
			return err
		}
	}
	_, err = w.tx.SavePage(ctx, p, w.e.opt.Owner, now)
	return err
}

// advance does a claimed run's due work: SLA deadlines, then every step due by now
// (after a pause, each missed step once, in order, none skipped).
func (w *work) advance(ctx context.Context, id string, now time.Time) error {
	r, err := w.tx.Run(ctx, id)
	if optimum.ErrorCode(err) == optimum.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if r.LeaseOwner != w.e.opt.Owner {
		return nil
	}
	inc, err := w.tx.Incident(ctx, id)
	if err != nil {
		return err
	}
	if !inc.Status.Open() {
		if err := w.stopRun(ctx, &r, inc, now); err != nil {
			return err
		}
		_, err = w.tx.SaveRun(ctx, r, w.e.opt.Owner, now)
		return err
	}
	// Steps due first, so an SLA breach at the same moment tells only whoever the ladder
	// has not just paged; then the SLA clocks, which may make the next step due at once.
	if err := w.climb(ctx, &r, inc, now); err != nil {
		return err
	}
	if r.AckSLA == SLAPending && !now.Before(r.AckBy) {
		if inc.AcknowledgedAt != nil && !inc.AcknowledgedAt.After(r.AckBy) {
			r.AckSLA = SLAMet
		} else {
			r.AckSLA = SLABreached
			if err := w.breach(ctx, &r, inc, "acknowledge", r.AckBy, now); err != nil {
				return err
			}
			// Climb at once, unless the ladder climbed at or after the deadline already
			// (a P1's 5-minute SLA and its 5-minute step are one level, not two).
			if w.e.opt.SLAJump && r.State == StateRunning && r.NextStepAt != nil && r.NextStepAt.After(now) && r.StepAt.Before(r.AckBy) {
				r.NextStepAt = &now
			}
		}
	}
	if r.ResolveSLA == SLAPending && !now.Before(r.ResolveBy) {
		r.ResolveSLA = SLABreached
		if err := w.breach(ctx, &r, inc, "resolve", r.ResolveBy, now); err != nil {
			return err
		}
	}
	if err := w.climb(ctx, &r, inc, now); err != nil {
		return err
	}
	_, err = w.tx.SaveRun(ctx, r, w.e.opt.Owner, now)
	return err
}

// climb pages every step due by now, in order.
func (w *work) climb(ctx context.Context, r *Run, inc incident.Incident, now time.Time) error {
	for range MaxSteps * (MaxRepeat + 1) * 4 { // bounded even if a ladder chain misbehaves
		if r.State != StateRunning || r.NextStepAt == nil || now.Before(*r.NextStepAt) {
			return nil
		}
		if err := w.next(ctx, r, inc, *r.NextStepAt, now); err != nil {
			return err
		}
	}
	return nil
}

// next pages the step after the run's current one: the next step, the top of the ladder
// again (a repeat), the ladder named by Then, or nothing (exhausted).
func (w *work) next(ctx context.Context, r *Run, inc incident.Incident, at, now time.Time) error {
	step, round := r.Step+1, r.Round
	if step >= len(r.Ladder.Steps) {
		switch {
		case round < r.Ladder.Repeat:
			step, round = 0, round+1
		case r.Ladder.Then != "":
			ls, err := w.tx.Ladders(ctx)
			if err != nil {
				return err
			}
			l, ok := Choose(ls, r.Ladder.Then, "", nil)
			if !ok || len(l.Steps) == 0 {
				return w.exhaust(ctx, r, inc, now)
			}
			r.Ladder, step, round = l, 0, 0
		default:
			return w.exhaust(ctx, r, inc, now)
		}
	}
	return w.pageStep(ctx, r, inc, step, round, at, now)
}

// breach records a passed SLA deadline and tells the continuity team.
func (w *work) breach(ctx context.Context, r *Run, inc incident.Incident, kind string, due, now time.Time) error {
	if err := w.record(ctx, EventBreached, inc, optimum.System, now, map[string]any{"kind": kind, "due": due, "team": w.e.opt.SLATeam}); err != nil {
		return err
	}
	if w.e.opt.SLATeam == "" {
		return nil
	}
	cs, err := w.tx.Resolve(ctx, Target{Team: w.e.opt.SLATeam}, nil)
	if optimum.ErrorCode(err) == optimum.EINVALID {
		w.e.opt.Logger.Warn("escalation: the SLA team does not exist", "team", w.e.opt.SLATeam)
		return nil
	} else if err != nil {
		return err
	}
	schedule := defaultSchedule
	if len(r.Ladder.Steps) > 0 {
		schedule = r.Ladder.Steps[0].Reminders
	}
	for _, c := range cs {
		p, err := w.tx.Page(ctx, inc.ID, c.PersonID)
		if err == nil && (p.AckedAt != nil || (p.StoppedAt == nil && p.NextAt != nil)) {
			continue // acknowledged, or being nagged already
		} else if err != nil && optimum.ErrorCode(err) != optimum.ENOTFOUND {
			return err
		}
		if err := w.page(ctx, inc, c, r.Step, r.Round, ReasonSLA, schedule, now, now); err != nil {
			return err
		}
	}
	return nil
}

// acknowledged stops a person's reminders (and cancels what was queued for them and not
// sent yet), then checks whether the incident is now owned.
func (w *work) acknowledged(ctx context.Context, inc incident.Incident, personID, name string, at time.Time) error {
	if personID == "" {
		return nil
	}
	p, err := w.tx.Page(ctx, inc.ID, personID)
	switch {
	case optimum.ErrorCode(err) == optimum.ENOTFOUND:
		// Acknowledged without being paged (from the web app): they own it too.
		p = Page{IncidentID: inc.ID, PersonID: personID, Name: name, Step: -1, Reason: ReasonSelf, PagedAt: at, Schedule: []Reminder{}}
	case err != nil:
		return err
	}
	if p.AckedAt == nil {
		p.AckedAt, p.NextAt = &at, nil
		if _, err := w.tx.SavePage(ctx, p, "", at); err != nil {
			return err
		}
	}
	if _, err := w.tx.CancelQueued(ctx, inc.ID, personID, nil, at, "acknowledged before it was sent"); err != nil {
		return err
	}
	r, err := w.tx.Run(ctx, inc.ID)
	if optimum.ErrorCode(err) == optimum.ENOTFOUND {
		return nil // declared before escalation existed
	} else if err != nil {
		return err
	}
	if r.AckSLA == SLAPending && !at.After(r.AckBy) {
		r.AckSLA = SLAMet
	}
	if r.State == StateRunning || r.State == StateExhausted || r.State == StateManual {
		owned, acks, quorum, err := w.owned(ctx, r)
		if err != nil {
			return err
		}
		if owned {
			r.State, r.NextStepAt = StateOwned, nil
			// Pages and reminders not sent yet are moot now, except the audience's first
			// alert, which still goes out: it informs, it does not ask to own.
			pages, err := w.tx.Pages(ctx, inc.ID)
			if err != nil {
				return err
			}
			for _, p := range pages {
				if p.AckedAt != nil || p.StoppedAt != nil {
					continue
				}
				var since *time.Time
				if p.Reason == ReasonAudience {
					since = &p.PagedAt
				}
				if _, err := w.tx.CancelQueued(ctx, inc.ID, p.PersonID, since, at, "owned by "+name+" before it was sent"); err != nil {
					return err
				}
			}
			if _, err := w.tx.StopPages(ctx, inc.ID, "", at, "owned: acknowledged by "+name); err != nil {
				return err
			}
			if err := w.record(ctx, EventOwned, inc, optimum.System, at, map[string]any{
				"by": map[string]string{"person_id": personID, "name": name}, "acks": acks, "quorum": quorum, "step": r.Step + 1,
			}); err != nil {
				return err
			}
		}
	}
	_, err = w.tx.SaveRun(ctx, r, "", at)
	return err
}

// owned reports whether the acknowledgements so far own the run's current step: any one
// (or N) acknowledgements of people paged by the ladder, by hand or by an SLA breach, or
// every person the current step paged. The audience's acknowledgements inform; they do
// not own a ladder (they do own an incident no ladder fits).
func (w *work) owned(ctx context.Context, r Run) (bool, int, int, error) {
	pages, err := w.tx.Pages(ctx, r.IncidentID)
	if err != nil {
		return false, 0, 0, err
	}
	acks, stepPaged, stepAcked := 0, 0, 0
	for _, p := range pages {
		counts := p.Reason != ReasonAudience || r.State == StateManual
		if counts && p.AckedAt != nil {
			acks++
		}
		if p.Reason == ReasonLadder && p.Step == r.Step && p.Round == r.Round {
			stepPaged++
			if p.AckedAt != nil {
				stepAcked++
			}
		}
	}
	if r.Step < 0 || r.Step >= len(r.Ladder.Steps) {
		return acks >= 1, acks, 1, nil
	}
	s := r.Ladder.Steps[r.Step]
	q := s.Quorum(stepPaged)
	if stepPaged > 0 && q > stepPaged {
		q = stepPaged // people left the team since the ladder was saved
	}
	if q < 1 {
		q = 1
	}
	if s.Owned == "all" {
		return stepAcked >= q, stepAcked, q, nil
	}
	return acks >= q, acks, q, nil
}

// stop ends an incident's escalation when it is resolved, closed or cancelled.
func (w *work) stop(ctx context.Context, inc incident.Incident, at time.Time) error {
	r, err := w.tx.Run(ctx, inc.ID)
	if optimum.ErrorCode(err) == optimum.ENOTFOUND {
		return nil
	} else if err != nil || r.State == StateStopped {
		return err
	}
	if err := w.stopRun(ctx, &r, inc, at); err != nil {
		return err
	}
	_, err = w.tx.SaveRun(ctx, r, "", at)
	return err
}

func (w *work) stopRun(ctx context.Context, r *Run, inc incident.Incident, at time.Time) error {
	r.State, r.NextStepAt = StateStopped, nil
	if r.AckSLA == SLAPending {
		r.AckSLA = SLAMet
	}
	if r.ResolveSLA == SLAPending {
		r.ResolveSLA = SLAMet
	}
	_, err := w.tx.StopPages(ctx, inc.ID, "", at, "incident "+string(inc.Status))
	return err
}
