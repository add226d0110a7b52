package drill

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/incident"
)

// Run statuses.
const (
	StatusStarting  = "starting"  // claimed; its incident is being declared
	StatusRunning   = "running"   // the window is open
	StatusEnded     = "ended"     // the window closed
	StatusCancelled = "cancelled" // stopped by hand before the window closed
	StatusSkipped   = "skipped"   // a scheduled firing that did not start (overlap, missed)
	StatusFailed    = "failed"    // the declaration was refused
)

// Triggers of a run.
const (
	TriggerManual   = "manual"
	TriggerSchedule = "schedule"
)

// Event types appended by this package (besides the incident's own).
const (
	EventPlanSaved   = "drill.plan_saved"
	EventPlanDeleted = "drill.plan_deleted"
	EventStarted     = "drill.started"
	EventEnded       = "drill.ended"
	EventCancelled   = "drill.cancelled"
	EventSkipped     = "drill.skipped"
)

// Run is one execution of a plan.
type Run struct {
	ID           string        `json:"id"`
	PlanID       string        `json:"plan_id"`
	Plan         Plan          `json:"plan"` // as it was when the run started
	Status       string        `json:"status"`
	Trigger      string        `json:"trigger"`
	ScheduledFor *time.Time    `json:"scheduled_for,omitempty"`
	Announced    bool          `json:"announced"`
	IncidentID   string        `json:"incident_id"`
	Folio        string        `json:"folio"`
	Title        string        `json:"title"`
	Reason       string        `json:"reason,omitempty"`
	StartedBy    optimum.Actor `json:"started_by"`
	CreatedAt    time.Time     `json:"created_at"`
	StartedAt    *time.Time    `json:"started_at"`
	EndsAt       *time.Time    `json:"ends_at"`
	EndedAt      *time.Time    `json:"ended_at"`
}

// Active reports whether the run still holds its plan (starting or running).
func (r Run) Active() bool { return r.Status == StatusStarting || r.Status == StatusRunning }

// Store keeps plans and runs. Every change appends its event in the same transaction.
type Store interface {
	// SavePlan inserts or replaces a plan with its next scheduled time; ENOTFOUND when
	// replacing one that does not exist, ECONFLICT when creating one that does.
	SavePlan(ctx context.Context, p Plan, create bool, actor optimum.Actor, at time.Time) error
	Plan(ctx context.Context, id string) (Plan, error)
	Plans(ctx context.Context) ([]Plan, error)
	// DeletePlan hides a plan (its runs and reports stay); ECONFLICT while it runs.
	DeletePlan(ctx context.Context, id string, actor optimum.Actor, at time.Time) error

	// CreateRun inserts a starting run holding a lease until leaseUntil. ECONFLICT when
	// the plan already has an active run.
	CreateRun(ctx context.Context, r Run, owner string, leaseUntil time.Time) error
	// FireSchedule claims the firing of a plan at r.ScheduledFor and moves the plan's
	// next time to next, in one transaction. false when another node already claimed
	// that firing. A run whose status is skipped is recorded with its reason and event.
	FireSchedule(ctx context.Context, r Run, next *time.Time, owner string, leaseUntil time.Time) (bool, error)
	// DuePlans returns the plans whose next scheduled time is at or before now.
	DuePlans(ctx context.Context, now time.Time) ([]Plan, error)
	// ClaimStale leases starting runs whose lease expired at now (their node died).
	ClaimStale(ctx context.Context, owner string, now, leaseUntil time.Time) ([]Run, error)
	// MarkRunning records the run's incident, snapshots its targets (the incident's
	// recipients and their team roles within teams) and appends drill.started.
	MarkRunning(ctx context.Context, r Run, owner string, at time.Time) (bool, error)
	// MarkFailed ends a starting run that could not start, with the reason.
	MarkFailed(ctx context.Context, runID, reason string, at time.Time) error
	// Finish moves a running run to status (ended or cancelled) at at, puts its incident
	// in incStatus, and appends the event, all at once; false when the run was no longer
	// running (another node finished it).
	Finish(ctx context.Context, runID, status string, incStatus incident.Status, actor optimum.Actor, at time.Time, event string) (Run, bool, error)
	// DueRuns returns the running runs whose window closed at or before now.
	DueRuns(ctx context.Context, now time.Time) ([]Run, error)
	// ActiveRuns returns the starting and running runs.
	ActiveRuns(ctx context.Context) ([]Run, error)
	Run(ctx context.Context, id string) (Run, error)
	// Runs returns a plan's runs (every plan's when planID is ""), newest first.
	Runs(ctx context.Context, planID string, limit int) ([]Run, error)
	// Facts returns what a report is computed from.
	Facts(ctx context.Context, run Run) (Facts, error)
}

// Declarer declares the drill's incident. *incident.Service implements it.
type Declarer interface {
	Declare(ctx context.Context, d incident.Declaration, idempotencyKey string) (incident.Incident, bool, error)
}

// Audience resolves teams to people. *contacts.Directory implements it.
type Audience interface {
	Resolve(ctx context.Context, a contacts.Audience) ([]contacts.Recipient, error)
}

// Stopper stops an incident's escalation: no more steps or reminders, queued deliveries
// cancelled. *escalation.Engine implements it.
type Stopper interface {
	Stop(ctx context.Context, incidentID, reason string, at time.Time) (int, error)
}

// LadderChecker tells whether a ladder exists (ENOTFOUND when not).
type LadderChecker func(ctx context.Context, id string) error

// Options configure a Service.
type Options struct {
	// Location is the time zone of schedules and of the scenario's {date} and {time}.
	Location *time.Location
	// Owner names this process in leases; Lease is how long a start is held (30 s).
	Owner string
	Lease time.Duration
	// MissedAfter is how late a scheduled firing may still start (after a restart);
	// later, it is recorded as skipped. Default 10 minutes.
	MissedAfter time.Duration
	// MinInterval is the shortest time allowed between two firings of a plan's schedule
	// (drills.min_interval); default DefaultMinInterval.
	MinInterval time.Duration
	Ladder      LadderChecker
	Logger      *slog.Logger
	Now         func() time.Time
}

// Service plans, starts, ends and reports drills.
type Service struct {
	store    Store
	declarer Declarer
	audience Audience
	stopper  Stopper
	opt      Options
}

// NewService returns a drill service.
func NewService(store Store, declarer Declarer, audience Audience, stopper Stopper, opt Options) *Service {
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	if opt.Owner == "" {
		opt.Owner = optimum.NewID("drl")
	}
	if opt.Lease <= 0 {
		opt.Lease = 30 * time.Second
	}
	if opt.MissedAfter <= 0 {
		opt.MissedAfter = 10 * time.Minute
	}
	if opt.MinInterval <= 0 {
		opt.MinInterval = DefaultMinInterval
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{store: store, declarer: declarer, audience: audience, stopper: stopper, opt: opt}
}

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Millisecond) }

// Plans lists the plans.
func (s *Service) Plans(ctx context.Context) ([]Plan, error) { return s.store.Plans(ctx) }

// Plan returns one plan.
func (s *Service) Plan(ctx context.Context, id string) (Plan, error) { return s.store.Plan(ctx, id) }

// SavePlan creates (create) or replaces a plan after checking it against the directory
// and the ladders; a refused plan changes nothing.
func (s *Service) SavePlan(ctx context.Context, p Plan, create bool) (Plan, error) {
	return s.save(ctx, p, create, SourceAPI)
}

// Seed stores the plans of the configuration file: new ones are created, those that came
// from the file before are replaced, and those edited in the app since are kept. A plan
// with problems stops the start with all of them.
func (s *Service) Seed(ctx context.Context, plans []Plan) error {
	ctx = optimum.WithActor(ctx, optimum.System)
	var errs []error
	for i, p := range plans {
		p.Normalize()
		old, err := s.store.Plan(ctx, p.ID)
		switch {
		case optimum.ErrorCode(err) == optimum.ENOTFOUND:
			_, err = s.save(ctx, p, true, SourceConfig)
		case err != nil:
		case old.Source == SourceAPI:
			continue
		default:
			_, err = s.save(ctx, p, false, SourceConfig)
		}
		if err != nil {
			msg := err.Error()
			for _, f := range optimum.ErrorFields(err) {
				msg += "; " + f.Field + ": " + f.Message
			}
			errs = append(errs, fmt.Errorf("drills.plans[%d] (%s): %s", i, p.ID, msg))
		}
	}
	return errors.Join(errs...)
}

func (s *Service) save(ctx context.Context, p Plan, create bool, source string) (Plan, error) {
	actor, _ := optimum.ActorFrom(ctx)
	p.Normalize()
	p.Source = source
	err := p.Validate()
	var fields []optimum.FieldError
	if err != nil {
		if optimum.ErrorCode(err) != optimum.EINVALID {
			return Plan{}, err
		}
		fields = optimum.ErrorFields(err)
	}
	if gap := s.tooFrequent(p); gap > 0 {
		fields = append(fields, optimum.FieldError{Field: "schedule", Message: fmt.Sprintf(
			"fires every %s; drills may run at most once every %s", gap, s.opt.MinInterval)})
	}
	if len(p.Teams)+len(p.Sites) > 0 && s.audience != nil {
		if _, aerr := s.audience.Resolve(ctx, contacts.Audience{Teams: p.Teams, Sites: p.Sites}); aerr != nil {
			f := optimum.ErrorFields(aerr)
			if len(f) == 0 {
				return Plan{}, aerr
			}
			fields = append(fields, f...)
		}
	}
	if p.Ladder != "" && s.opt.Ladder != nil {
		if lerr := s.opt.Ladder(ctx, p.Ladder); optimum.ErrorCode(lerr) == optimum.ENOTFOUND {
			fields = append(fields, optimum.FieldError{Field: "ladder", Message: "is not an escalation ladder"})
		} else if lerr != nil {
			return Plan{}, lerr
		}
	}
	if err := optimum.Invalid("The drill plan has errors.", fields); err != nil {
		return Plan{}, err
	}
	now := s.now()
	p.UpdatedAt = now
	if create {
		p.CreatedAt = now
	} else if old, err := s.store.Plan(ctx, p.ID); err != nil {
		return Plan{}, err
	} else {
		p.CreatedAt = old.CreatedAt
	}
	p.NextRunAt = s.next(p, now)
	if err := s.store.SavePlan(ctx, p, create, actor, now); err != nil {
		return Plan{}, err
	}
	return p, nil
}

// tooFrequent returns the shortest time between two firings of the plan's schedule when
// it is below MinInterval, and 0 when the schedule is fine (or absent, or unparsable).
func (s *Service) tooFrequent(p Plan) time.Duration {
	if p.Schedule == "" {
		return 0
	}
	sched, err := ParseSchedule(p.Schedule)
	if err != nil {
		return 0
	}
	if gap := ShortestInterval(sched, s.opt.Now().In(s.opt.Location)); gap > 0 && gap < s.opt.MinInterval {
		return gap
	}
	return 0
}

// next returns the plan's first firing after t, nil when it has no schedule.
func (s *Service) next(p Plan, t time.Time) *time.Time {
	if p.Schedule == "" {
		return nil
	}
	sched, err := ParseSchedule(p.Schedule)
	if err != nil {
		return nil
	}
	r := time.Duration(p.Randomize)
	if r <= 0 {
		n := sched.Next(t.In(s.opt.Location))
		if n.IsZero() {
			return nil
		}
		n = n.UTC()
		return &n
	}
	// Each cron time b fires at b + offset(b), offset in [0, r): the first such time after
	// t comes from a cron time after t - r. The offset is derived from the plan and b, so
	// every node computes the same firing.
	for b := sched.Next(t.Add(-r).In(s.opt.Location)); !b.IsZero(); b = sched.Next(b) {
		if at := b.Add(jitter(p, b, r)).UTC().Truncate(time.Second); at.After(t) {
			return &at
		}
	}
	return nil
}

// jitter is the plan's offset for the cron time b: uniform in [0, r), in seconds,
// unknown to whoever does not have the plan's id and creation time.
func jitter(p Plan, b time.Time, r time.Duration) time.Duration {
	sum := sha256.Sum256([]byte(p.ID + "|" + p.CreatedAt.UTC().Format(time.RFC3339Nano) + "|" + b.UTC().Format(time.RFC3339)))
	secs := uint64(r / time.Second)
	if secs == 0 {
		return 0
	}
	return time.Duration(binary.BigEndian.Uint64(sum[:8])%secs) * time.Second
}

// DeletePlan removes a plan from the list; its runs and reports are kept.
func (s *Service) DeletePlan(ctx context.Context, id string) error {
	actor, _ := optimum.ActorFrom(ctx)
	return s.store.DeletePlan(ctx, id, actor, s.now())
}

// StartOptions tune a run started by hand.
type StartOptions struct {
	// Force starts even when another plan's drill is running for one of the same teams.
	Force bool
}

// Start runs a plan now, as the actor of ctx. It refuses (ECONFLICT) while the plan has a
// run going, or another drill is running for one of its teams unless forced; and
// (EINVALID) when the audience has nobody active. Nothing starts when it refuses.
func (s *Service) Start(ctx context.Context, planID string, o StartOptions) (Run, error) {
	actor, ok := optimum.ActorFrom(ctx)
	if !ok {
		return Run{}, optimum.Errorf(optimum.EUNAUTHORIZED, "Sign in to start a drill.")
	}
	p, err := s.store.Plan(ctx, planID)
	if err != nil {
		return Run{}, err
	}
	if err := s.checkAudience(ctx, p); err != nil {
		return Run{}, err
	}
	active, err := s.store.ActiveRuns(ctx)
	if err != nil {
		return Run{}, err
	}
	for _, r := range active {
		if r.PlanID == p.ID {
			return Run{}, optimum.Errorf(optimum.ECONFLICT, "Drill plan %q already has a run going: cancel it or wait for its window to close.", p.ID)
		}
		if shared := sharedTeams(r.Plan.Teams, p.Teams); len(shared) > 0 && !o.Force {
			return Run{}, optimum.Errorf(optimum.ECONFLICT, "Drill %q is running for the same teams (%s): wait, cancel it, or start with force.", r.Plan.Name, strings.Join(shared, ", "))
		}
	}
	now := s.now()
	r := Run{ID: optimum.NewID("drr"), PlanID: p.ID, Plan: p, Status: StatusStarting, Trigger: TriggerManual,
		Announced: p.Announced, StartedBy: actor, CreatedAt: now}
	if err := s.store.CreateRun(ctx, r, s.opt.Owner, now.Add(s.opt.Lease)); err != nil {
		return Run{}, err
	}
	return s.begin(ctx, r)
}

func sharedTeams(a, b []string) []string {
	var out []string
	for _, t := range a {
		if slices.Contains(b, t) {
			out = append(out, t)
		}
	}
	return out
}

// checkAudience refuses a plan whose teams no longer exist or have nobody active.
func (s *Service) checkAudience(ctx context.Context, p Plan) error {
	if s.audience == nil {
		return nil
	}
	rs, err := s.audience.Resolve(ctx, contacts.Audience{Teams: p.Teams, Sites: p.Sites})
	if f := optimum.ErrorFields(err); len(f) > 0 {
		return optimum.Invalid("The drill's audience has errors.", f)
	} else if err != nil {
		return err
	}
	if len(rs) == 0 {
		return optimum.Invalid("The drill's audience has errors.", []optimum.FieldError{{Field: "teams", Message: "the audience is empty: nobody active is in these teams or sites"}})
	}
	return nil
}

// begin declares a claimed run's incident and marks the run running. The declaration's
// idempotency key is the run id, so a second node finishing a dead node's start gets the
// same incident.
func (s *Service) begin(ctx context.Context, r Run) (Run, error) {
	actor := r.StartedBy
	if actor.ID == "" {
		actor = scheduler
	}
	ctx = optimum.WithActor(ctx, actor)
	started := r.CreatedAt
	if r.ScheduledFor != nil {
		started = *r.ScheduledFor
	}
	p := r.Plan
	d := incident.Declaration{
		Title:       s.expand(p.Scenario.Title, p, started),
		Description: s.describe(p, started),
		Impact:      p.Impact,
		Urgency:     p.Urgency,
		Teams:       p.Teams,
		Sites:       p.Sites,
		Drill:       true,
		Ladder:      p.Ladder,
		Channels:    p.Channels,
	}
	inc, _, err := s.declarer.Declare(ctx, d, "drill:"+r.ID)
	if err != nil {
		if code := optimum.ErrorCode(err); code == optimum.EINVALID || code == optimum.ECONFLICT {
			_ = s.store.MarkFailed(ctx, r.ID, optimum.ErrorMessage(err), s.now())
		}
		return Run{}, err
	}
	at := inc.CreatedAt
	ends := at.Add(time.Duration(p.Window))
	r.Status, r.IncidentID, r.Folio, r.Title = StatusRunning, inc.ID, inc.Folio, inc.Title
	r.StartedAt, r.EndsAt = &at, &ends
	ok, err := s.store.MarkRunning(ctx, r, s.opt.Owner, at)
	if err != nil {
		return Run{}, err
	}
	if !ok {
		return s.store.Run(ctx, r.ID) // another node finished the start
	}
	s.opt.Logger.Info("drill started", "run", r.ID, "plan", p.ID, "incident", inc.Folio, "ends_at", ends)
	return r, nil
}

// scheduler is the actor of scheduled runs.
var scheduler = optimum.Actor{ID: "system:drill", Name: "Simulacro programado", Role: optimum.RoleManager}

func (s *Service) expand(text string, p Plan, at time.Time) string {
	local := at.In(s.opt.Location)
	return strings.NewReplacer("{plan}", p.Name, "{date}", local.Format("2006-01-02"), "{time}", local.Format("15:04")).Replace(text)
}

func (s *Service) describe(p Plan, at time.Time) string {
	d := s.expand(p.Scenario.Description, p, at)
	if p.Scenario.TitleEN != "" || p.Scenario.DescriptionEN != "" {
		en := strings.TrimSpace(s.expand(p.Scenario.TitleEN, p, at) + "\n" + s.expand(p.Scenario.DescriptionEN, p, at))
		d = strings.TrimSpace(d + "\n\n[EN] " + en)
	}
	return d
}

// Cancel stops a running drill before its window closes: its incident is cancelled,
// every reminder and queued delivery is stopped, and drill.cancelled is appended.
func (s *Service) Cancel(ctx context.Context, runID string) (Run, error) {
	actor, _ := optimum.ActorFrom(ctx)
	r, err := s.store.Run(ctx, runID)
	if err != nil {
		return Run{}, err
	}
	if r.Status != StatusRunning {
		return Run{}, optimum.Errorf(optimum.ECONFLICT, "Drill run %s is %s; only a running drill can be cancelled.", r.ID, r.Status)
	}
	done, _, err := s.finish(ctx, r, StatusCancelled, actor)
	return done, err
}

// finish ends a running run; false when another node ended it first.
func (s *Service) finish(ctx context.Context, r Run, status string, actor optimum.Actor) (Run, bool, error) {
	now := s.now()
	incStatus, event := incident.StatusResolved, EventEnded
	if status == StatusCancelled {
		incStatus, event = incident.StatusCancelled, EventCancelled
	}
	done, ok, err := s.store.Finish(ctx, r.ID, status, incStatus, actor, now, event)
	if err != nil {
		return Run{}, false, err
	}
	if !ok {
		cur, err := s.store.Run(ctx, r.ID)
		if err != nil {
			return Run{}, false, err
		}
		if status == StatusCancelled {
			return Run{}, false, optimum.Errorf(optimum.ECONFLICT, "Drill run %s is %s; only a running drill can be cancelled.", cur.ID, cur.Status)
		}
		return cur, false, nil
	}
	if s.stopper != nil {
		if _, err := s.stopper.Stop(ctx, r.IncidentID, "drill "+status, now); err != nil {
			// The drill.ended event carries the closed incident, so the escalation
			// engine stops the ladder when it reads it even if this call failed.
			s.opt.Logger.Error("drill: stopping the escalation", "run", r.ID, "err", err)
		}
	}
	s.opt.Logger.Info("drill "+status, "run", r.ID, "plan", r.PlanID, "incident", r.Folio)
	return done, true, nil
}

// Run returns a run.
func (s *Service) Run(ctx context.Context, id string) (Run, error) { return s.store.Run(ctx, id) }

// Runs returns a plan's runs, newest first ("" for every plan).
func (s *Service) Runs(ctx context.Context, planID string) ([]Run, error) {
	if planID != "" {
		if _, err := s.store.Plan(ctx, planID); err != nil {
			return nil, err
		}
	}
	return s.store.Runs(ctx, planID, 100)
}

// TickResult counts what a tick did.
type TickResult struct {
	Started int // scheduled runs started (or recovered)
	Skipped int // scheduled firings recorded as skipped
	Ended   int // runs whose window closed
}

// Tick does the drill work due at now: it fires the scheduled plans, finishes the starts
// of dead nodes and ends the runs whose window closed. Several nodes may tick at once:
// each firing is claimed by a unique (plan, time) row, each end by a status change.
func (s *Service) Tick(ctx context.Context, now time.Time) (TickResult, error) {
	now = now.UTC().Truncate(time.Millisecond)
	var res TickResult
	var errs []error
	due, err := s.store.DuePlans(ctx, now)
	if err != nil {
		return res, err
	}
	for _, p := range due {
		started, skipped, err := s.fire(ctx, p, now)
		res.Started += started
		res.Skipped += skipped
		if err != nil {
			errs = append(errs, fmt.Errorf("drill plan %s: %w", p.ID, err))
		}
	}
	stale, err := s.store.ClaimStale(ctx, s.opt.Owner, now, now.Add(s.opt.Lease))
	if err != nil {
		return res, err
	}
	for _, r := range stale {
		if _, err := s.begin(ctx, r); err != nil {
			errs = append(errs, fmt.Errorf("drill run %s: %w", r.ID, err))
			continue
		}
		res.Started++
	}
	ending, err := s.store.DueRuns(ctx, now)
	if err != nil {
		return res, err
	}
	for _, r := range ending {
		_, ended, err := s.finish(ctx, r, StatusEnded, optimum.System)
		if err != nil {
			errs = append(errs, fmt.Errorf("drill run %s: %w", r.ID, err))
			continue
		}
		if ended {
			res.Ended++
		}
	}
	return res, errors.Join(errs...)
}

// fire claims and starts the due firing of a scheduled plan.
func (s *Service) fire(ctx context.Context, p Plan, now time.Time) (started, skipped int, err error) {
	at := *p.NextRunAt
	next := s.next(p, now)
	r := Run{ID: optimum.NewID("drr"), PlanID: p.ID, Plan: p, Status: StatusStarting, Trigger: TriggerSchedule,
		ScheduledFor: &at, Announced: p.Announced, StartedBy: scheduler, CreatedAt: now}
	switch gap := s.tooFrequent(p); {
	case gap > 0:
		// Saved before drills.min_interval existed (or before it was raised): skipped once,
		// and not scheduled again until someone edits the plan.
		next = nil
		r.Status, r.Reason = StatusSkipped, fmt.Sprintf("too frequent: the schedule fires every %s, more often than drills.min_interval (%s); edit the plan", gap, s.opt.MinInterval)
	case now.Sub(at) > s.opt.MissedAfter:
		r.Status, r.Reason = StatusSkipped, fmt.Sprintf("missed: the scheduled time passed %s ago while no node was running", now.Sub(at).Round(time.Second))
	default:
		active, err := s.store.ActiveRuns(ctx)
		if err != nil {
			return 0, 0, err
		}
		for _, o := range active {
			if o.PlanID == p.ID || len(sharedTeams(o.Plan.Teams, p.Teams)) > 0 {
				r.Status, r.Reason = StatusSkipped, "overlap: drill "+o.Plan.Name+" ("+o.ID+") was still running"
				break
			}
		}
		if r.Status != StatusSkipped && s.checkAudience(ctx, p) != nil {
			r.Status, r.Reason = StatusSkipped, "empty audience: nobody active is in the drill's teams"
		}
	}
	won, err := s.store.FireSchedule(ctx, r, next, s.opt.Owner, now.Add(s.opt.Lease))
	if err != nil || !won {
		return 0, 0, err
	}
	if r.Status == StatusSkipped {
		s.opt.Logger.Warn("drill: a scheduled firing was skipped", "plan", p.ID, "at", at, "reason", r.Reason)
		return 0, 1, nil
	}
	if _, err := s.begin(ctx, r); err != nil {
		return 0, 0, err
	}
	return 1, 0, nil
}
