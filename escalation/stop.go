package escalation

import (
	"context"
	"slices"
	"time"

	"github.com/optimum-bcp/optimum"
)

// Stop ends an incident's escalation at once, whatever the incident's state: no more
// steps, every reminder stopped, and every delivery not sent yet cancelled with the
// reason. It returns how many deliveries it cancelled. A drill calls it when its window
// closes or it is cancelled, so nobody is nagged for a rehearsal that is over. It is
// idempotent; the event that closed the incident also stops the run when the consumer
// reads it, so a crash between the two loses nothing.
func (e *Engine) Stop(ctx context.Context, incidentID, reason string, at time.Time) (int, error) {
	at = at.UTC().Truncate(time.Millisecond)
	cancelled := 0
	err := e.store.Work(ctx, func(tx Tx) error {
		cancelled = 0
		r, err := tx.Run(ctx, incidentID)
		switch {
		case optimum.ErrorCode(err) == optimum.ENOTFOUND:
		case err != nil:
			return err
		case r.State != StateStopped:
			r.State, r.NextStepAt = StateStopped, nil
			if r.AckSLA == SLAPending {
				r.AckSLA = SLAMet
			}
			if r.ResolveSLA == SLAPending {
				r.ResolveSLA = SLAMet
			}
			if _, err := tx.SaveRun(ctx, r, "", at); err != nil {
				return err
			}
		}
		if _, err := tx.StopPages(ctx, incidentID, "", at, reason); err != nil {
			return err
		}
		pages, err := tx.Pages(ctx, incidentID)
		if err != nil {
			return err
		}
		targets, err := tx.Targets(ctx, incidentID)
		if err != nil {
			return err
		}
		var people []string
		for _, p := range pages {
			people = append(people, p.PersonID)
		}
		for _, c := range targets {
			if !slices.Contains(people, c.PersonID) {
				people = append(people, c.PersonID)
			}
		}
		for _, pid := range people {
			n, err := tx.CancelQueued(ctx, incidentID, pid, nil, at, reason)
			if err != nil {
				return err
			}
			cancelled += n
		}
		return nil
	})
	return cancelled, err
}
