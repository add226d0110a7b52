package escalation

import (
	"context"
	"time"

	"github.com/optimum-bcp/optimum"
)

// View is an incident's escalation as the API and the incident page show it: the current
// step, who was paged when, who is still pending, and when the next step is due.
type View struct {
	Ladder     string     `json:"ladder"`
	LadderName Names      `json:"ladder_name"`
	State      string     `json:"state"`
	Step       int        `json:"step"` // 1-based; 0 before the first step
	Steps      int        `json:"steps"`
	Round      int        `json:"round"`
	StepAt     time.Time  `json:"step_at"`
	NextStepAt *time.Time `json:"next_step_at"`
	SLA        struct {
		Acknowledge string `json:"acknowledge"` // pending, met, breached
		Resolve     string `json:"resolve"`
	} `json:"sla"`
	Paged []PageView `json:"paged"`
	// Pending names the people paged (not the audience) who have not acknowledged.
	Pending []string `json:"pending"`
}

// PageView is one paged person.
type PageView struct {
	PersonID       string     `json:"person_id"`
	Name           string     `json:"name"`
	Reason         string     `json:"reason"`
	Step           int        `json:"step"` // 1-based; 0 for the audience
	PagedAt        time.Time  `json:"paged_at"`
	RemindersSent  int        `json:"reminders_sent"`
	NextReminderAt *time.Time `json:"next_reminder_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
	StoppedAt      *time.Time `json:"stopped_at"`
	StopReason     string     `json:"stop_reason,omitempty"`
}

// Viewer reads an incident's escalation.
type Viewer interface {
	// RunView returns the run and pages of an incident; ENOTFOUND when it has no run.
	RunView(ctx context.Context, incidentID string) (Run, []Page, error)
}

// View returns the incident's escalation; nil when it has none.
func (e *Engine) View(ctx context.Context, incidentID string) (*View, error) {
	return ViewOf(ctx, e.store, incidentID)
}

// ViewOf reads an incident's escalation from v; nil when it has none.
func ViewOf(ctx context.Context, v Viewer, incidentID string) (*View, error) {
	r, pages, err := v.RunView(ctx, incidentID)
	if optimum.ErrorCode(err) == optimum.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	out := &View{Ladder: r.Ladder.ID, LadderName: r.Ladder.Name, State: r.State, Step: r.Step + 1, Steps: len(r.Ladder.Steps),
		Round: r.Round, StepAt: r.StepAt, NextStepAt: r.NextStepAt, Paged: []PageView{}, Pending: []string{}}
	out.SLA.Acknowledge, out.SLA.Resolve = r.AckSLA, r.ResolveSLA
	for _, p := range pages {
		out.Paged = append(out.Paged, PageView{PersonID: p.PersonID, Name: p.Name, Reason: p.Reason, Step: p.Step + 1,
			PagedAt: p.PagedAt, RemindersSent: p.Reminder, NextReminderAt: p.NextAt, AcknowledgedAt: p.AckedAt,
			StoppedAt: p.StoppedAt, StopReason: p.StopReason})
		if p.Reason != ReasonAudience && p.Reason != ReasonSelf && p.AckedAt == nil {
			out.Pending = append(out.Pending, p.Name)
		}
	}
	return out, nil
}
