// Package indicators computes what executives and continuity managers read on one
// screen: open incidents against their SLA, volume over time, response times (median and
// p90) against the SLA targets, acknowledgement rates per team and delivery figures per
// channel. Only real incidents count: drills are kept apart, always.
//
// The store hands over plain facts (incidents with their times, recipients and
// deliveries); every figure is computed here in Go, so the SQL stays portable and the
// arithmetic is tested without a database.
package indicators

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/contacts"
)

// MaxRange is the longest time range a query may cover.
const MaxRange = 2 * 366 * 24 * time.Hour

// DefaultRange is the range covered when a query names no start.
const DefaultRange = 7 * 24 * time.Hour

// Store reads the facts indicators are computed from. Implementations return real
// incidents only (drill incidents are never returned), with times in UTC.
type Store interface {
	// Incidents returns the real incidents declared in [from, to), with their recipients,
	// deliveries, resolution time (when resolved) and escalation count.
	Incidents(ctx context.Context, from, to time.Time) ([]Incident, error)
	// OpenIncidents returns every real incident whose status is still open (declared,
	// acknowledged, investigating…), wherever it was declared in time.
	OpenIncidents(ctx context.Context) ([]Incident, error)
}

// Incident is what indicators need of one incident.
type Incident struct {
	ID        string
	Folio     string
	Title     string
	Priority  string
	Status    string
	Services  []string
	Causes    []string
	Teams     []string // the audience teams
	Sites     []string // the sites it was declared to, as declared (ids, names or cities)
	CreatedAt time.Time
	AckBy     time.Time // SLA deadlines fixed at declaration
	ResolveBy time.Time
	// AcknowledgedAt is the first acknowledgement; ResolvedAt the first time the incident
	// reached resolved (or a later state). Nil until then.
	AcknowledgedAt *time.Time
	ResolvedAt     *time.Time
	Recipients     []Recipient
	Deliveries     []Delivery
	// Escalations is how many escalations were triggered for the incident.
	Escalations int
}

// Recipient is a person the incident was for, with the teams they were reached through.
type Recipient struct {
	PersonID       string
	Teams          []string
	AcknowledgedAt *time.Time
}

// Delivery is one message of the incident to one person on one channel.
type Delivery struct {
	Channel     string
	Status      string // queued, sending, sent, delivered, undelivered, failed, cancelled
	CreatedAt   time.Time
	SentAt      *time.Time
	DeliveredAt *time.Time
	FailedAt    *time.Time
}

// Open reports whether a status still needs work. Unknown statuses count as open, so a
// status added later is never silently dropped from the open list.
func Open(status string) bool {
	switch status {
	case "resolved", "verified", "closed", "cancelled":
		return false
	}
	return true
}

// Query selects what to compute. The zero Priorities, Service and Team select all.
type Query struct {
	From, To   time.Time
	Priorities []string
	Service    string
	Team       string
	// Site keeps the incidents declared to a site: its id, its name, or a city for all
	// its sites, compared as the directory compares them (case and accents aside). An
	// incident declared to a city is at each site of it (sites.go).
	Site string
	// KnownSites are the directory's sites, to resolve what incidents were declared to;
	// without them each declared word is a site of its own.
	KnownSites []contacts.Site
	// Scope, when it limits anything, keeps only the incidents declared to its teams or
	// sites, and only their rows in the per-team and per-site tables: a manager limited
	// to Mexico City sees Mexico City's figures (docs/security.md, "Roles"). Filters
	// narrow within the scope, never beyond it.
	Scope *optimum.Scope
	// Bucket is "hour" or "day"; empty picks hour for ranges up to two days, else day.
	Bucket string
}

// Priorities are the priorities a filter may name.
var Priorities = []string{"P1", "P2", "P3", "P4", "P5"}

// Validate reports every problem of the query at once.
func (q Query) Validate() error {
	var fields []optimum.FieldError
	add := func(field, format string, args ...any) {
		fields = append(fields, optimum.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	switch {
	case q.From.IsZero() || q.To.IsZero():
		add("from", "The range needs a start and an end.")
	case !q.From.Before(q.To):
		add("to", "The end of the range must be after its start.")
	case q.To.Sub(q.From) > MaxRange:
		add("from", "The range may cover at most %d days.", int(MaxRange/(24*time.Hour)))
	}
	for _, p := range q.Priorities {
		if !slices.Contains(Priorities, p) {
			add("priority", "%q is not a priority; use P1, P2, P3, P4 or P5.", p)
		}
	}
	if q.Bucket != "" && q.Bucket != "hour" && q.Bucket != "day" {
		add("bucket", "%q is not a bucket; use hour or day.", q.Bucket)
	} else if q.Bucket == "hour" && q.To.Sub(q.From) > maxHourRange {
		add("bucket", "Hour buckets cover at most %d days; use day.", int(maxHourRange/(24*time.Hour)))
	}
	if len(fields) > 0 {
		return optimum.Invalid("The indicators query is not valid.", fields)
	}
	return nil
}

// Service computes indicators from a Store.
type Service struct {
	store Store
	loc   *time.Location
	ack   map[string]time.Duration
	solve map[string]time.Duration
	now   func() time.Time
}

// Options configure a Service.
type Options struct {
	// Location is the time zone of the buckets (days turn at its midnight).
	Location *time.Location
	// AckTargets and ResolveTargets are the configured SLA targets per priority.
	AckTargets, ResolveTargets map[string]time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// New returns a Service reading from store.
func New(store Store, opt Options) *Service {
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{store: store, loc: opt.Location, ack: opt.AckTargets, solve: opt.ResolveTargets, now: opt.Now}
}

// Now returns the service's current time.
func (s *Service) Now() time.Time { return s.now().UTC() }

// Location is the time zone of the buckets.
func (s *Service) Location() *time.Location { return s.loc }

// Compute returns the indicators of q, with the same figures for the period of the same
// length just before it, to compare.
func (s *Service) Compute(ctx context.Context, q Query) (Report, error) {
	if err := q.Validate(); err != nil {
		return Report{}, err
	}
	now := s.Now()
	incs, err := s.store.Incidents(ctx, q.From.UTC(), q.To.UTC())
	if err != nil {
		return Report{}, fmt.Errorf("indicators: %w", err)
	}
	span := q.To.Sub(q.From)
	prevIncs, err := s.store.Incidents(ctx, q.From.Add(-span).UTC(), q.From.UTC())
	if err != nil {
		return Report{}, fmt.Errorf("indicators: %w", err)
	}
	open, err := s.store.OpenIncidents(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("indicators: %w", err)
	}
	x := newSiteIndex(q.KnownSites)
	incs, prevIncs, open = q.filter(incs, x), q.filter(prevIncs, x), q.filter(open, x)

	bucket := q.Bucket
	if bucket == "" {
		bucket = "day"
		if span <= 48*time.Hour {
			bucket = "hour"
		}
	}
	r := Report{
		From: q.From.UTC(), To: q.To.UTC(), GeneratedAt: now, TimeZone: s.loc.String(),
		Filters:    Filters{Priorities: nonNil(q.Priorities), Service: q.Service, Team: q.Team, Site: q.Site, Scope: limits(q.Scope)},
		Summary:    s.summary(incs, now),
		Previous:   s.summary(prevIncs, now),
		Open:       s.open(open, now),
		OverTime:   s.overTime(incs, q.From, q.To, bucket),
		ByPriority: s.byPriority(incs, now),
		ByTeam:     s.byTeam(incs, q.Scope, now),
		BySite:     s.bySite(incs, x, q.Scope, now),
		Channels:   channels(incs),
	}
	r.OpenCounts = openCounts(r.Open)
	r.Previous.From, r.Previous.To = q.From.Add(-span).UTC(), q.From.UTC()
	r.Summary.From, r.Summary.To = r.From, r.To
	return r, nil
}

// filter keeps the incidents q selects, within its scope.
func (q Query) filter(incs []Incident, x siteIndex) []Incident {
	var site []string
	if q.Site != "" {
		site, _ = x.resolve(q.Site)
	}
	out := make([]Incident, 0, len(incs))
	for _, inc := range incs {
		if !x.inScope(inc, q.Scope) {
			continue
		}
		if len(q.Priorities) > 0 && !slices.Contains(q.Priorities, inc.Priority) {
			continue
		}
		if q.Service != "" && !containsFold(inc.Services, q.Service) {
			continue
		}
		if q.Team != "" && !slices.Contains(inc.Teams, q.Team) {
			continue
		}
		if q.Site != "" && !slices.ContainsFunc(x.sitesOf(inc), func(id string) bool { return slices.Contains(site, id) }) {
			continue
		}
		out = append(out, inc)
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
