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
	// Paged lists who the ladder, a manual escalation or an SLA breach paged (the
	// audience is counted in Audience; each of them is among the recipients).
	Paged []PageView `json:"paged"`
	// Pending names the people paged who have not acknowledged.
	Pending  []string `json:"pending"`
	Audience struct {
		Paged        int `json:"paged"`
		Acknowledged int `json:"acknowledged"`
	} `json:"audience"`
}

// Summary is an incident's escalation in a line, for lists and the live board.
type Summary struct {
	Ladder     string     `json:"ladder"`
	State      string     `json:"state"`
	Step       int        `json:"step"`
	Steps      int        `json:"steps"`
	NextStepAt *time.Time `json:"next_step_at"`
	Pending    int        `json:"pending"`
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
	// RunSummaries returns the escalation of each incident that has one.
	RunSummaries(ctx context.Context, incidentIDs []string) (map[string]Summary, error)
}

// Summaries returns the escalation of each incident that has one, by incident id.
func (e *Engine) Summaries(ctx context.Context, incidentIDs []string) (map[string]Summary, error) {
	if len(incidentIDs) == 0 {
		return map[string]Summary{}, nil
	}
	return e.store.RunSummaries(ctx, incidentIDs)
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
		if p.Reason == ReasonAudience {
			out.Audience.Paged++
			if p.AckedAt != nil {
				out.Audience.Acknowledged++
			}
			continue
		}
		out.Paged = append(out.Paged, PageView{PersonID: p.PersonID, Name: p.Name, Reason: p.Reason, Step: p.Step + 1,
			PagedAt: p.PagedAt, RemindersSent: p.Reminder, NextReminderAt: p.NextAt, AcknowledgedAt: p.AckedAt,
			StoppedAt: p.StoppedAt, StopReason: p.StopReason})
		if p.Reason != ReasonSelf && p.AckedAt == nil {
			out.Pending = append(out.Pending, p.Name)
		}
	}
	return out, nil
}
