// Package canary is the scheduled end-to-end test alert: on a cron spec it declares a
// small incident marked canary (and drill, so it stays out of the indicators) for a test
// person or team, lets the normal path send it, and checks every message through to its
// provider's acceptance and its delivery report. The run passes or fails with its
// timings, stored for the Indicadores page, /api/v1/canary and the metrics; a failure
// pages the continuity team on every channel that still works.
package canary

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
)

// Run statuses.
const (
	StatusRunning = "running"
	StatusPassed  = "passed"
	StatusFailed  = "failed"
)

// Run is one canary and how it went.
type Run struct {
	ID         string    `json:"id"`
	Slot       time.Time `json:"scheduled_for"`
	Manual     bool      `json:"manual"`
	IncidentID string    `json:"incident_id,omitempty"`
	Status     string    `json:"status"`
	Reason     string    `json:"reason,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	// Accepted is the time from the declaration to the last provider acceptance; Delivered
	// to the last delivery report (a push service's acceptance is its report).
	Accepted   *Seconds   `json:"accepted_seconds,omitempty"`
	Delivered  *Seconds   `json:"delivered_seconds,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// PagedIncidentID is the alert to the continuity team about a failure.
	PagedIncidentID string    `json:"paged_incident_id,omitempty"`
	Messages        []Message `json:"messages"`
}

// Seconds is a duration shown in seconds, to the millisecond.
type Seconds float64

func secondsOf(d time.Duration) *Seconds {
	s := Seconds(float64(d.Milliseconds()) / 1000)
	return &s
}

// Message is one message of a canary as the delivery queue recorded it.
type Message struct {
	Channel     string     `json:"channel"`
	Status      string     `json:"status"`
	Error       string     `json:"error,omitempty"`
	SentAt      *time.Time `json:"accepted_at,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
}

// Store keeps the runs and reads the canary's messages.
type Store interface {
	// Claim records a new run for its slot; false when another node has that slot.
	Claim(ctx context.Context, r Run, owner string) (bool, error)
	// Started names the run's incident.
	Started(ctx context.Context, runID, incidentID string) error
	// Finish records the outcome of a run still running; false when it was not (another
	// node finished it). Paged records the alert about a failure.
	Finish(ctx context.Context, r Run) (bool, error)
	Paged(ctx context.Context, runID, incidentID string) error
	// Messages returns the deliveries of the canary's incident.
	Messages(ctx context.Context, incidentID string) ([]Message, error)
	// Abandoned returns the runs still running that started before (their node stopped).
	Abandoned(ctx context.Context, before time.Time) ([]Run, error)
}

// Incidents declares the canary and the page about its failure.
type Incidents interface {
	Declare(ctx context.Context, d incident.Declaration, idempotencyKey string) (incident.Incident, bool, error)
}

// Desk ends the canary's incident once it is checked.
type Desk interface {
	Transition(ctx context.Context, idOrFolio string, to incident.Status, note string) (incident.Incident, error)
}

// Options configure the canary.
type Options struct {
	// Schedule is the cron spec with seconds, in Location; empty runs on demand only.
	Schedule string
	Location *time.Location
	// Person (an id or email) or Team receives it, on Channels.
	Person, Team string
	Channels     []string
	// Timeout is how long every message has to be accepted and reported delivered.
	Timeout time.Duration
	// PageTeam is paged when a canary fails, on Available channels that did not fail.
	PageTeam  string
	Available []string
	// Poll is how often a running canary reads its messages; default 1 s.
	Poll   time.Duration
	Owner  string
	Now    func() time.Time
	Logger *slog.Logger
}

// Canary runs the canaries of one node.
type Canary struct {
	store     Store
	incidents Incidents
	desk      Desk
	opt       Options
	sched     cron.Schedule
	trigger   chan struct{}
}

// Actor is who declares and ends canaries (and pages about their failures).
var Actor = optimum.Actor{ID: "system:canary", Name: "OPTIMUM (canario)", Role: optimum.RoleAdmin}

// New returns the canary; a bad schedule is an error.
func New(store Store, incidents Incidents, desk Desk, opt Options) (*Canary, error) {
	c := &Canary{store: store, incidents: incidents, desk: desk, trigger: make(chan struct{}, 1)}
	if opt.Schedule != "" {
		p := cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
		s, err := p.Parse(opt.Schedule)
		if err != nil {
			return nil, fmt.Errorf("canary schedule %q: %w", opt.Schedule, err)
		}
		c.sched = s
	}
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 5 * time.Minute
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Owner == "" {
		opt.Owner = optimum.NewID("node")
	}
	c.opt = opt
	return c, nil
}

// Trigger asks for a canary now (a manager's "test the alert path"). It reports false
// when one is already waiting to start on this node.
func (c *Canary) Trigger() bool {
	select {
	case c.trigger <- struct{}{}:
		return true
	default:
		return false
	}
}

// Run runs the scheduled and triggered canaries until ctx is done, one at a time, and
// every minute fails the runs whose node stopped in the middle of them.
func (c *Canary) Run(ctx context.Context) error {
	abandoned := time.NewTicker(time.Minute)
	defer abandoned.Stop()
	var (
		slot  time.Time
		timer *time.Timer
	)
	schedule := func() {
		if c.sched == nil {
			return
		}
		now := c.opt.Now()
		slot = c.sched.Next(now.In(c.opt.Location))
		timer = time.NewTimer(slot.Sub(now))
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	c.failAbandoned(ctx)
	schedule()
	for {
		var due <-chan time.Time
		if timer != nil {
			due = timer.C
		}
		select {
		case <-ctx.Done():
			return nil
		case <-abandoned.C:
			c.failAbandoned(ctx)
		case <-c.trigger:
			c.Check(ctx, c.opt.Now(), true)
		case <-due:
			c.Check(ctx, slot, false)
			schedule()
		}
	}
}

// Check runs one canary for slot, unless another node claimed that slot, and returns it.
func (c *Canary) Check(ctx context.Context, slot time.Time, manual bool) (Run, bool) {
	now := c.opt.Now().UTC()
	r := Run{ID: optimum.NewID("can"), Slot: slot.UTC().Truncate(time.Millisecond), Manual: manual, Status: StatusRunning,
		StartedAt: now.Truncate(time.Millisecond), Messages: []Message{}}
	ok, err := c.store.Claim(ctx, r, c.opt.Owner)
	if err != nil || !ok {
		if err != nil && ctx.Err() == nil {
			c.opt.Logger.Error("canary: claiming the run", "err", err)
		}
		return r, false
	}
	actx := optimum.WithActor(ctx, Actor)
	d := incident.Declaration{
		Title:       "PRUEBA / TEST: verificación automática de las alertas",
		Description: "Alerta de prueba programada de OPTIMUM: no requiere ninguna acción. Scheduled OPTIMUM test alert: no action needed.",
		Impact:      incident.Low, Urgency: incident.Low, Drill: true, Canary: true, Channels: c.opt.Channels,
	}
	if c.opt.Person != "" {
		d.People = []string{c.opt.Person}
	} else {
		d.Teams = []string{c.opt.Team}
	}
	inc, _, err := c.incidents.Declare(actx, d, "")
	if err != nil {
		return c.finish(actx, r, time.Time{}, nil, "the canary could not be declared: "+describe(err)), true
	}
	r.IncidentID = inc.ID
	if err := c.store.Started(ctx, r.ID, inc.ID); err != nil && ctx.Err() == nil {
		c.opt.Logger.Error("canary: recording its incident", "err", err)
	}
	if inc.Audience == 0 {
		return c.finish(actx, r, inc.CreatedAt, nil, "nobody to alert: the canary's person or team has no active member"), true
	}
	deadline := inc.CreatedAt.Add(c.opt.Timeout)
	poll := time.NewTicker(c.opt.Poll)
	defer poll.Stop()
	for {
		msgs, err := c.store.Messages(ctx, inc.ID)
		if err == nil {
			if done, reason := c.verdict(msgs, c.opt.Now().After(deadline)); done {
				return c.finish(actx, r, inc.CreatedAt, msgs, reason), true
			}
		} else if ctx.Err() == nil {
			c.opt.Logger.Warn("canary: reading its messages", "err", err)
		}
		select {
		case <-ctx.Done():
			return r, true // the node stops: another fails it as abandoned
		case <-poll.C:
		}
	}
}

// verdict says whether the messages settle the run, and the reason it failed ("" when it
// passed). A channel passes when each of its messages was accepted and reported
// delivered (a push service's acceptance is the report push has); one failed message
// fails the run at once; at the deadline whatever is missing fails it.
func (c *Canary) verdict(msgs []Message, late bool) (bool, string) {
	var failed, waiting []string
	for _, ch := range c.opt.Channels {
		n := 0
		for _, m := range msgs {
			if m.Channel != ch {
				continue
			}
			n++
			switch {
			case m.Status == "failed" || m.Status == "undelivered" || m.Status == "cancelled":
				failed = append(failed, fmt.Sprintf("%s %s: %s", ch, m.Status, clip(m.Error, 200)))
			case !finalOK(m):
				waiting = append(waiting, fmt.Sprintf("%s %s", ch, m.Status))
			}
		}
		if n == 0 {
			waiting = append(waiting, ch+": no message (no address on this channel?)")
		}
	}
	switch {
	case len(failed) > 0:
		return true, "failed: " + strings.Join(failed, "; ")
	case len(waiting) == 0:
		return true, ""
	case late:
		return true, fmt.Sprintf("not done within %v: %s", c.opt.Timeout, strings.Join(waiting, "; "))
	}
	return false, ""
}

func finalOK(m Message) bool {
	// A push service's or an SMTP server's acceptance is all the report they give.
	if m.Channel == "webpush" || m.Channel == "email" {
		return m.Status == "sent" || m.Status == "delivered"
	}
	return m.Status == "delivered"
}

// finish records the outcome with its timings, ends the incident and, on a failure,
// pages the continuity team.
func (c *Canary) finish(ctx context.Context, r Run, declared time.Time, msgs []Message, reason string) Run {
	now := c.opt.Now().UTC().Truncate(time.Millisecond)
	r.FinishedAt, r.Status, r.Reason = &now, StatusPassed, reason
	if reason != "" {
		r.Status = StatusFailed
	}
	if msgs != nil {
		r.Messages = msgs
	}
	var accepted, delivered time.Time
	allAccepted, allDelivered := len(msgs) > 0, len(msgs) > 0
	for _, m := range msgs {
		switch {
		case m.SentAt == nil:
			allAccepted = false
		case m.SentAt.After(accepted):
			accepted = *m.SentAt
		}
		at := m.DeliveredAt
		if at == nil && m.Channel == "webpush" && m.SentAt != nil {
			at = m.SentAt
		}
		switch {
		case at == nil:
			allDelivered = false
		case at.After(delivered):
			delivered = *at
		}
	}
	if allAccepted && !declared.IsZero() {
		r.Accepted = secondsOf(accepted.Sub(declared))
	}
	if allDelivered && !declared.IsZero() {
		r.Delivered = secondsOf(delivered.Sub(declared))
	}
	if r.IncidentID != "" {
		if _, err := c.desk.Transition(ctx, r.IncidentID, incident.StatusCancelled, "Canario terminado: "+r.Status+". Canary finished: "+r.Status+"."); err != nil && ctx.Err() == nil {
			c.opt.Logger.Warn("canary: ending its incident", "incident", r.IncidentID, "err", err)
		}
	}
	won, err := c.store.Finish(ctx, r)
	if err != nil && ctx.Err() == nil {
		c.opt.Logger.Error("canary: recording the outcome", "run", r.ID, "err", err)
	}
	if !won {
		return r // another node finished it (an abandoned run found twice)
	}
	if r.Status == StatusFailed {
		c.opt.Logger.Error("canary: the end-to-end test alert failed", "run", r.ID, "reason", r.Reason)
		if r.PagedIncidentID = c.page(ctx, r); r.PagedIncidentID != "" {
			if err := c.store.Paged(ctx, r.ID, r.PagedIncidentID); err != nil && ctx.Err() == nil {
				c.opt.Logger.Error("canary: recording the page", "run", r.ID, "err", err)
			}
		}
	} else {
		c.opt.Logger.Info("canary: the end-to-end test alert passed", "run", r.ID, "accepted_s", deref(r.Accepted), "delivered_s", deref(r.Delivered))
	}
	return r
}

// page alerts the continuity team that the canary failed, on every available channel
// that did not fail in it (all of them if none is left), and returns the incident id.
func (c *Canary) page(ctx context.Context, r Run) string {
	var working []string
	for _, ch := range c.opt.Available {
		bad := false
		for _, m := range r.Messages {
			if m.Channel == ch && m.Status != "delivered" && !(ch == "webpush" && m.Status == "sent") {
				bad = true
			}
		}
		if !bad {
			working = append(working, ch)
		}
	}
	if len(working) == 0 {
		working = slices.Clone(c.opt.Available)
	}
	inc, _, err := c.incidents.Declare(ctx, incident.Declaration{
		Title: "Falla del canario: las alertas de prueba no llegaron",
		Description: "La alerta de prueba programada de OPTIMUM falló (" + clip(r.Reason, 300) + "). Revisa los canales y el proveedor. " +
			"The scheduled OPTIMUM test alert failed; check the channels and the provider. Detalle / details: GET /api/v1/canary.",
		Impact: incident.High, Urgency: incident.High, Teams: []string{c.opt.PageTeam}, Channels: working,
		Ladder: escalation.NoLadder, // the continuity team at once on each working channel, nobody else
	}, "canary-failure:"+r.ID)
	if err != nil {
		c.opt.Logger.Error("canary: paging the continuity team about the failure", "err", err)
		return ""
	}
	return inc.ID
}

// failAbandoned fails the runs a stopped node left running.
func (c *Canary) failAbandoned(ctx context.Context) {
	runs, err := c.store.Abandoned(ctx, c.opt.Now().Add(-2*c.opt.Timeout-time.Minute))
	if err != nil {
		if ctx.Err() == nil {
			c.opt.Logger.Warn("canary: looking for abandoned runs", "err", err)
		}
		return
	}
	for _, r := range runs {
		c.finish(optimum.WithActor(ctx, Actor), r, time.Time{}, nil, "abandoned: the node running it stopped")
	}
}

func describe(err error) string {
	msg := optimum.ErrorMessage(err)
	for _, f := range optimum.ErrorFields(err) {
		msg += " " + f.Field + ": " + f.Message
	}
	return clip(msg, 300)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func deref(s *Seconds) float64 {
	if s == nil {
		return -1
	}
	return float64(*s)
}
