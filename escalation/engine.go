package escalation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/incident"
)

// States of an incident's escalation.
const (
	StateRunning   = "running"   // steps still to page unless owned
	StateOwned     = "owned"     // enough acknowledgements: no more steps, nagging stopped
	StateExhausted = "exhausted" // every step (and repeat) paged, nobody owns it
	StateStopped   = "stopped"   // the incident was resolved, closed or cancelled
	StateManual    = "manual"    // no ladder fits: only manual escalation
)

// SLA clock states.
const (
	SLAPending  = "pending"
	SLAMet      = "met"
	SLABreached = "breached"
)

// Why a person was paged.
const (
	ReasonAudience = "audience" // the declaration's audience
	ReasonLadder   = "ladder"   // a step of the ladder
	ReasonManual   = "manual"   // someone escalated by hand
	ReasonSLA      = "sla"      // an SLA deadline passed
	ReasonSelf     = "self"     // acknowledged without being paged (from the web app)
)

// Event types the engine appends. Each carries the incident snapshot, so live boards
// update from the stream alone.
const (
	EventEscalated = "incident.escalated"            // a step (ladder or manual) paged people
	EventEmpty     = "incident.escalation_empty"     // a step had nobody to page
	EventOwned     = "incident.escalation_owned"     // enough acknowledgements
	EventExhausted = "incident.escalation_exhausted" // the ladder ran out, nobody owns it
	EventBreached  = "incident.sla_breached"         // ack_by or resolve_by passed
)

// Run is the state of one incident's escalation, as stored.
type Run struct {
	IncidentID string
	Ladder     Ladder // a snapshot: editing the ladder later does not change a running one
	State      string
	Step       int // index of the step paged last; -1 before the first
	Round      int
	StepAt     time.Time
	NextStepAt *time.Time
	AckBy      time.Time
	ResolveBy  time.Time
	AckSLA     string
	ResolveSLA string
	LeaseOwner string
}

// Due returns when the run next needs the engine, nil for never.
func (r Run) Due() *time.Time {
	var due *time.Time
	min := func(t time.Time) {
		if due == nil || t.Before(*due) {
			due = &t
		}
	}
	if r.State == StateStopped {
		return nil
	}
	if r.State == StateRunning && r.NextStepAt != nil {
		min(*r.NextStepAt)
	}
	if r.AckSLA == SLAPending {
		min(r.AckBy)
	}
	if r.ResolveSLA == SLAPending {
		min(r.ResolveBy)
	}
	return due
}

// Page is one person paged for an incident and their reminder schedule.
type Page struct {
	IncidentID string
	PersonID   string
	Name       string
	Step       int // the step that paged them; -1 for the audience
	Round      int
	Reason     string
	Schedule   []Reminder
	Reminder   int // index of the next reminder to send
	PagedAt    time.Time
	NextAt     *time.Time
	AckedAt    *time.Time
	StoppedAt  *time.Time
	StopReason string
	LeaseOwner string
}

// PageKey names a page.
type PageKey struct{ IncidentID, PersonID string }

// Tx is the engine's work in one transaction: state changes, the deliveries they queue
// and the events that record them are committed together or not at all.
type Tx interface {
	// Targets returns the active recipients of an incident (its audience) with addresses.
	Targets(ctx context.Context, incidentID string) ([]Contact, error)
	// StartAudience records that the incident's audience is to be paged at at on
	// schedule, in batches (PageAudiences); a second call changes nothing.
	StartAudience(ctx context.Context, incidentID string, schedule []Reminder, at time.Time) error
	// AudienceAfter returns up to limit of the incident's active recipients whose person
	// id sorts after after, in person id order, with addresses, leaving out anyone who has
	// a page for the incident already.
	AudienceAfter(ctx context.Context, incidentID, after string, limit int) ([]Contact, error)
	Enqueue(ctx context.Context, ds []broadcast.Delivery) error

	Incident(ctx context.Context, idOrFolio string) (incident.Incident, error)
	Ladders(ctx context.Context) ([]Ladder, error)
	// StartRun inserts a run; false when the incident already has one.
	StartRun(ctx context.Context, r Run, at time.Time) (bool, error)
	// Run reads (and in PostgreSQL locks) an incident's run; ENOTFOUND when none.
	Run(ctx context.Context, incidentID string) (Run, error)
	// SaveRun writes the run and its due time. With owner set it only writes while owner
	// holds the lease, and releases it; false when the lease was lost.
	SaveRun(ctx context.Context, r Run, owner string, at time.Time) (bool, error)
	Pages(ctx context.Context, incidentID string) ([]Page, error)
	// Page reads one page; ENOTFOUND when the person was not paged.
	Page(ctx context.Context, incidentID, personID string) (Page, error)
	// SavePage inserts or replaces a page. With owner set it only writes while owner holds
	// the lease, and releases it; false when the lease was lost.
	SavePage(ctx context.Context, p Page, owner string, at time.Time) (bool, error)
	// StopPages ends the reminders of the incident's unacknowledged pages (of one person,
	// or all when personID is ""), recording why.
	StopPages(ctx context.Context, incidentID, personID string, at time.Time, reason string) (int, error)
	// CancelQueued marks the person's deliveries for the incident that were not sent yet
	// (only those due after since, when given) as cancelled, kept with the reason. It
	// returns how many.
	CancelQueued(ctx context.Context, incidentID, personID string, since *time.Time, at time.Time, reason string) (int, error)
	// Resolve returns the active people a target names, with addresses; paged are the
	// people paged so far (for managers_of_paged). An unknown team or person is EINVALID.
	Resolve(ctx context.Context, t Target, paged []string) ([]Contact, error)
	// Contact returns a person with addresses; ENOTFOUND when inactive or unknown.
	Contact(ctx context.Context, personID string) (Contact, error)
	// FailedPhones returns the numbers on which an SMS or a call of the person about the
	// incident failed for good: an SMS failed or undelivered, a call failed (a call not
	// answered does not count: the number works).
	FailedPhones(ctx context.Context, incidentID, personID string) ([]string, error)
	// FirstAcker returns the earliest person who acknowledged, "" when nobody did.
	FirstAcker(ctx context.Context, incidentID string) (string, error)
	Append(ctx context.Context, e optimum.Event) (int64, error)
}

// Store is what the engine needs of the database.
type Store interface {
	// Consume runs fn for up to limit events after the consumer's cursor, in order, in
	// one transaction that also advances the cursor.
	Consume(ctx context.Context, consumer string, limit int, fn func(Tx, optimum.Event) error) (int, error)
	// Work runs fn in one write transaction.
	Work(ctx context.Context, fn func(Tx) error) error
	// ClaimRuns leases up to limit runs due at now whose lease is free or expired, and
	// returns their incident ids. ClaimPages does the same for due reminders.
	ClaimRuns(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]string, error)
	ClaimPages(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]PageKey, error)
	// PendingAudiences returns the incidents whose audience is still being paged.
	PendingAudiences(ctx context.Context) ([]string, error)
	// AudienceBatch runs fn in one write transaction with the incident's pending audience
	// locked for it; the audience fn returns (its cursor moved, or Done) is saved in the
	// same transaction. False, without running fn, when the audience is not pending or
	// another node is paging a batch of it.
	AudienceBatch(ctx context.Context, incidentID string, fn func(Tx, Audience) (Audience, error)) (bool, error)
	Viewer
}

// Audience is an incident's audience being paged in batches: each batch pages the next
// recipients in person id order after the durable cursor After, and moves it, in one
// transaction; a node killed mid-way leaves the cursor where its last committed batch put
// it, and the next engine continues from there.
type Audience struct {
	IncidentID string
	Schedule   []Reminder // the audience's reminder schedule
	PagedAt    time.Time  // the declaration's time: every audience page is at it
	After      string     // person id of the last recipient handled
	Batches    int        // batches committed so far
	Done       bool       // set by a batch that found nobody left
}

// Options configure an Engine.
type Options struct {
	// PublicURL is the base of the acknowledgement links people receive.
	PublicURL string
	// Channels are the channels with a configured sender; others are not planned.
	Channels []string
	// RetryFor is how long a delivery is retried before giving up; default 1 hour.
	RetryFor time.Duration
	// PushTTL is how long a push service may hold an alert; default 1 hour.
	PushTTL time.Duration
	// Owner names this process in leases; Lease is how long a claim lasts (default 30 s).
	Owner string
	Lease time.Duration
	// Batch is how many due rows a tick claims at once; default 200.
	Batch int
	// AudienceBatch is how many people of an incident's audience one transaction pages;
	// default 100 (issue 16.4: 100,000 people are 1,000 short transactions, not one that
	// holds the writer for many seconds).
	AudienceBatch int
	// SLATeam is told when an SLA deadline passes ("" for nobody); SLAJump pages the next
	// step at once when ack_by passes unowned. DirectorsTeam is where hierarchical
	// escalation goes when nobody has a manager.
	SLATeam       string
	SLAJump       bool
	DirectorsTeam string
	// SMSNoLinkCountries are country calling codes ("52": Mexico) whose alert SMS carry
	// no link and ask for a reply instead ("responde 1"): carriers there block automated
	// messages with URLs. Push and calls are unchanged. sms2.
	SMSNoLinkCountries []string
	// ChannelGap is how long after one channel a person who chose an order of channels
	// is reached on the next (send); default DefaultChannelGap, negative for none.
	ChannelGap time.Duration
	// Wake is called after deliveries were queued (the dispatcher's Wake).
	Wake   func()
	Poll   time.Duration // default 1 s
	Logger *slog.Logger
	// Now is the clock for work triggered by events (manual escalation); Tick takes its
	// time as an argument.
	Now func() time.Time
}

// Engine runs the escalation of every incident: it consumes the event log (a declaration
// pages the audience and the first step; an acknowledgement stops that person's
// reminders and may own the incident) and, on each Tick, fires the steps, reminders and
// SLA checks that are due. All state is in the database; work is claimed with leases,
// so several engines share it and a restarted one continues where it was.
type Engine struct {
	store     Store
	templates *Templates
	opt       Options
	ids       <-chan int64
}

// ConsumerName is the engine's cursor in the event log. (The name predates ladders: the
// cursor of a database that ran the first notifier stays valid.)
const ConsumerName = "escalation.notifier"

// New returns an engine; ids (a bus subscription) wakes its log consumer.
func New(store Store, templates *Templates, ids <-chan int64, opt Options) *Engine {
	if opt.RetryFor <= 0 {
		opt.RetryFor = time.Hour
	}
	if opt.PushTTL <= 0 {
		opt.PushTTL = time.Hour
	}
	switch {
	case opt.ChannelGap == 0:
		opt.ChannelGap = DefaultChannelGap
	case opt.ChannelGap < 0:
		opt.ChannelGap = 0
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.Lease <= 0 {
		opt.Lease = 30 * time.Second
	}
	if opt.Batch <= 0 {
		opt.Batch = 200
	}
	if opt.AudienceBatch <= 0 {
		opt.AudienceBatch = 100
	}
	if opt.Owner == "" {
		opt.Owner = optimum.NewID("eng")
	}
	if opt.DirectorsTeam == "" {
		opt.DirectorsTeam = "directors"
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Wake == nil {
		opt.Wake = func() {}
	}
	return &Engine{store: store, templates: templates, opt: opt, ids: ids}
}

// Run consumes the event log until ctx is done. Between rounds of events it pages one
// batch of each audience still being paged, so a new declaration (its ladder's first
// step, the first batch of its audience) never waits for a large audience to finish,
// and audiences left half-paged by a node that died continue at once.
func (e *Engine) Run(ctx context.Context) error {
	poll := time.NewTicker(e.opt.Poll)
	defer poll.Stop()
	for {
		for {
			done, err := e.ConsumeEvents(ctx)
			if err != nil && ctx.Err() == nil {
				e.opt.Logger.Error("escalation: processing the event log", "err", err)
			}
			if done == 0 || err != nil {
				break
			}
		}
		more, err := e.PageAudiences(ctx)
		if err != nil && ctx.Err() == nil {
			e.opt.Logger.Error("escalation: paging an audience", "err", err)
		}
		if more && err == nil {
			if ctx.Err() != nil {
				return nil
			}
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-e.ids:
		case <-poll.C:
		}
	}
}

// Consume processes the next batch of events and pages every audience they started, to
// the end, and returns how many events it processed.
func (e *Engine) Consume(ctx context.Context) (int, error) {
	done, err := e.ConsumeEvents(ctx)
	if err != nil {
		return done, err
	}
	for {
		more, err := e.PageAudiences(ctx)
		if err != nil || !more {
			return done, err
		}
	}
}

// PageAudiences pages one batch of each audience still being paged, each in its own
// transaction, and reports whether any of them has more to page.
func (e *Engine) PageAudiences(ctx context.Context) (bool, error) {
	ids, err := e.store.PendingAudiences(ctx)
	if err != nil {
		return false, err
	}
	more := false
	var errs []error
	for _, id := range ids {
		w := &work{e: e}
		done := false
		found, err := e.store.AudienceBatch(ctx, id, func(tx Tx, a Audience) (Audience, error) {
			w.tx, w.queued = tx, 0
			a, err := w.audienceBatch(ctx, a)
			done = a.Done
			return a, err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("incident %s: %w", id, err))
			continue
		}
		if w.queued > 0 {
			e.opt.Wake()
		}
		more = more || (found && !done)
	}
	return more, errors.Join(errs...)
}

// ConsumeEvents processes the next batch of events and returns how many it processed.
// The audiences their declarations start are left to PageAudiences.
func (e *Engine) ConsumeEvents(ctx context.Context) (int, error) {
	w := &work{e: e}
	done, err := e.store.Consume(ctx, ConsumerName, 100, func(tx Tx, ev optimum.Event) error {
		w.tx = tx
		return w.event(ctx, ev)
	})
	if w.queued > 0 {
		e.opt.Wake()
	}
	return done, err
}

// TickResult counts what a tick did.
type TickResult struct {
	Runs       int // runs processed (steps, SLA checks)
	Reminders  int // pages processed (reminders sent)
	Deliveries int // deliveries queued
}

// Tick does the escalation work due at now: next steps, SLA breaches, reminders. It is
// deterministic in now and the database, and safe to run on several nodes at once: each
// due row is claimed under a lease and written back only while the lease is held.
func (e *Engine) Tick(ctx context.Context, now time.Time) (TickResult, error) {
	now = now.UTC().Truncate(time.Millisecond)
	var res TickResult
	defer func() {
		if res.Deliveries > 0 {
			e.opt.Wake()
		}
	}()
	for range 1000 { // bounded: a tick never spins forever
		ids, err := e.store.ClaimRuns(ctx, e.opt.Owner, now, e.opt.Lease, e.opt.Batch)
		if err != nil {
			return res, err
		}
		res.Runs += len(ids)
		n, err := e.batch(ctx, len(ids), func(w *work, i int) error { return w.advance(ctx, ids[i], now) })
		res.Deliveries += n
		if err != nil {
			return res, err
		}
		if len(ids) < e.opt.Batch {
			break
		}
	}
	for range 1000 {
		keys, err := e.store.ClaimPages(ctx, e.opt.Owner, now, e.opt.Lease, e.opt.Batch)
		if err != nil {
			return res, err
		}
		res.Reminders += len(keys)
		n, err := e.batch(ctx, len(keys), func(w *work, i int) error { return w.remind(ctx, keys[i], now) })
		res.Deliveries += n
		if err != nil {
			return res, err
		}
		if len(keys) < e.opt.Batch {
			break
		}
	}
	return res, nil
}

// batch runs fn for n claimed rows in one transaction; if that fails, each row in its
// own, so one bad row does not hold back the others (its lease expires and it is retried).
func (e *Engine) batch(ctx context.Context, n int, fn func(w *work, i int) error) (int, error) {
	if n == 0 {
		return 0, nil
	}
	w := &work{e: e}
	err := e.store.Work(ctx, func(tx Tx) error {
		w.tx, w.queued = tx, 0
		for i := range n {
			if err := fn(w, i); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		return w.queued, nil
	}
	if ctx.Err() != nil {
		return 0, err
	}
	queued, failed := 0, 0
	for i := range n {
		w := &work{e: e}
		if err := e.store.Work(ctx, func(tx Tx) error { w.tx, w.queued = tx, 0; return fn(w, i) }); err != nil {
			failed++
			e.opt.Logger.Error("escalation: due work failed; retried when its lease expires", "err", err)
			continue
		}
		queued += w.queued
	}
	if failed == n {
		return queued, fmt.Errorf("escalation tick: %w", err)
	}
	return queued, nil
}

// work is the engine's work inside one transaction.
type work struct {
	e      *Engine
	tx     Tx
	queued int
	// collect, when set, keeps the deliveries send makes in pending instead of queueing
	// each person's at once: an audience batch queues its people's in one Enqueue.
	collect bool
	pending []broadcast.Delivery
}

// event handles one event of the log.
func (w *work) event(ctx context.Context, ev optimum.Event) error {
	if ev.IncidentID == "" || len(ev.Incident) == 0 {
		return nil
	}
	var inc incident.Incident
	if err := json.Unmarshal(ev.Incident, &inc); err != nil {
		return fmt.Errorf("decode incident: %w", err)
	}
	switch {
	case ev.Type == incident.EventDeclared:
		return w.start(ctx, inc, ev.At.UTC())
	case ev.Type == incident.EventAcknowledged:
		var d struct {
			PersonID string `json:"person_id"`
			Name     string `json:"name"`
		}
		_ = json.Unmarshal(ev.Data, &d)
		return w.acknowledged(ctx, inc, d.PersonID, d.Name, ev.At.UTC())
	case !inc.Status.Open():
		return w.stop(ctx, inc, ev.At.UTC())
	}
	return nil
}

// record appends an event about the incident with its current snapshot.
func (w *work) record(ctx context.Context, typ string, inc incident.Incident, actor optimum.Actor, at time.Time, data any) error {
	cur, err := w.tx.Incident(ctx, inc.ID)
	if err != nil {
		return err
	}
	snap, _ := json.Marshal(cur)
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	_, err = w.tx.Append(ctx, optimum.Event{Type: typ, At: at, Actor: &actor, IncidentID: inc.ID, Incident: snap, Data: raw})
	return err
}
