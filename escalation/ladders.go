package escalation

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
)

// LadderStore keeps ladders.
type LadderStore interface {
	Ladders(ctx context.Context) ([]LadderRecord, error)
	// SaveLadder inserts or replaces a ladder and appends ladder.saved.
	SaveLadder(ctx context.Context, l Ladder, source string, actor optimum.Actor, at time.Time) error
	// DeleteLadder removes a ladder and appends ladder.deleted; ENOTFOUND when none.
	DeleteLadder(ctx context.Context, id string, actor optimum.Actor, at time.Time) error
	// TeamSizes returns, per team, its active members by role.
	TeamSizes(ctx context.Context) (map[string]map[string]int, error)
	// KnownTargets returns the ids and emails of the active people, and the ids of the
	// active services.
	KnownTargets(ctx context.Context) (people, services map[string]bool, err error)
}

// LadderRecord is a stored ladder with where it came from.
type LadderRecord struct {
	Ladder
	Source    string    `json:"source"` // config or api
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
}

// Where a ladder came from.
const (
	SourceConfig = "config"
	SourceAPI    = "api"
)

// Ladders lists, checks and saves ladders. A ladder is checked with all the others (a
// chain through then must not loop) and against the directory (teams exist, a quorum
// fits the team); a refused ladder changes nothing.
type Ladders struct {
	store LadderStore
	now   func() time.Time
}

// NewLadders returns the ladder service; now nil means time.Now.
func NewLadders(store LadderStore, now func() time.Time) *Ladders {
	if now == nil {
		now = time.Now
	}
	return &Ladders{store: store, now: now}
}

// List returns every ladder, by id.
func (s *Ladders) List(ctx context.Context) ([]LadderRecord, error) { return s.store.Ladders(ctx) }

// Get returns one ladder; ENOTFOUND when none has the id.
func (s *Ladders) Get(ctx context.Context, id string) (LadderRecord, error) {
	ls, err := s.store.Ladders(ctx)
	if err != nil {
		return LadderRecord{}, err
	}
	for _, l := range ls {
		if l.ID == id {
			return l, nil
		}
	}
	return LadderRecord{}, optimum.Errorf(optimum.ENOTFOUND, "No ladder has the id %q.", clip(id, 60))
}

// Save checks and stores a ladder edited by the actor of ctx.
func (s *Ladders) Save(ctx context.Context, l Ladder) (LadderRecord, error) {
	actor, _ := optimum.ActorFrom(ctx)
	normalize(&l)
	ls, err := s.store.Ladders(ctx)
	if err != nil {
		return LadderRecord{}, err
	}
	all := []Ladder{}
	for _, o := range ls {
		if o.ID != l.ID {
			all = append(all, o.Ladder)
		}
	}
	if err := s.check(ctx, append(all, l), l.ID); err != nil {
		return LadderRecord{}, err
	}
	at := s.now().UTC().Truncate(time.Millisecond)
	if err := s.store.SaveLadder(ctx, l, SourceAPI, actor, at); err != nil {
		return LadderRecord{}, err
	}
	return LadderRecord{Ladder: l, Source: SourceAPI, UpdatedAt: at, UpdatedBy: actor.Name}, nil
}

// Delete removes a ladder no other ladder continues with.
func (s *Ladders) Delete(ctx context.Context, id string) error {
	actor, _ := optimum.ActorFrom(ctx)
	ls, err := s.store.Ladders(ctx)
	if err != nil {
		return err
	}
	for _, o := range ls {
		if o.Then == id && o.ID != id {
			return optimum.Errorf(optimum.ECONFLICT, "Ladder %s continues with %s: change it first.", o.ID, id)
		}
	}
	return s.store.DeleteLadder(ctx, id, actor, s.now().UTC())
}

// Seed stores the configuration file's ladders at start: a ladder edited in the app
// (source api) is kept; others take the file's version, and one the file no longer has
// is removed. Every ladder is checked against
// the directory first; on any problem nothing is stored and the error lists them all.
func (s *Ladders) Seed(ctx context.Context, file []Ladder) error {
	ls, err := s.store.Ladders(ctx)
	if err != nil {
		return err
	}
	byID := map[string]LadderRecord{}
	for _, l := range ls {
		byID[l.ID] = l
	}
	var all, save []Ladder
	for _, l := range file {
		normalize(&l)
		if o, ok := byID[l.ID]; ok && o.Source == SourceAPI {
			continue
		}
		save = append(save, l)
		delete(byID, l.ID)
	}
	// A ladder that came from the file and is no longer in it goes away with it.
	var stale []string
	for id, o := range byID {
		if o.Source == SourceConfig {
			stale = append(stale, id)
			continue
		}
		all = append(all, o.Ladder)
	}
	all = append(all, save...)
	if err := s.check(ctx, all, ""); err != nil {
		return err
	}
	at := s.now().UTC().Truncate(time.Millisecond)
	for _, l := range save {
		if err := s.store.SaveLadder(ctx, l, SourceConfig, optimum.System, at); err != nil {
			return err
		}
	}
	for _, id := range stale {
		if err := s.store.DeleteLadder(ctx, id, optimum.System, at); err != nil {
			return err
		}
	}
	return nil
}

// check validates ladders against the directory; only problems of ladder only (when
// not "") are reported, so an unrelated old problem does not block an edit.
func (s *Ladders) check(ctx context.Context, ls []Ladder, only string) error {
	sizes, err := s.store.TeamSizes(ctx)
	if err != nil {
		return err
	}
	known := func(team string, roles []string) (int, bool) {
		byRole, ok := sizes[team]
		if !ok {
			return 0, false
		}
		n := 0
		for role, c := range byRole {
			if len(roles) == 0 || slices.Contains(roles, role) {
				n += c
			}
		}
		return n, true
	}
	f := ValidateLadders(ls, known)
	people, services, err := s.store.KnownTargets(ctx)
	if err != nil {
		return err
	}
	var sites map[string]bool // nil: the store cannot tell, the page will
	if ks, ok := s.store.(interface {
		KnownSites(ctx context.Context) (map[string]bool, error)
	}); ok {
		if sites, err = ks.KnownSites(ctx); err != nil {
			return err
		}
	}
	for _, l := range ls {
		for i, st := range l.Steps {
			for j, t := range st.Targets {
				key := fmt.Sprintf("ladders[%s].steps[%d].targets[%d]", l.ID, i, j)
				if t.Person != "" && !people[t.Person] && !people[strings.ToLower(t.Person)] {
					f = append(f, optimum.FieldError{Field: key + ".person", Message: fmt.Sprintf("%q is not an active person in the directory", t.Person)})
				}
				if t.Site != "" && sites != nil && !sites[t.Site] {
					f = append(f, optimum.FieldError{Field: key + ".site", Message: fmt.Sprintf("%q is not a site", t.Site)})
				}
				if t.Service != "" && !services[t.Service] {
					f = append(f, optimum.FieldError{Field: key + ".service", Message: fmt.Sprintf("%q is not a service", t.Service)})
				}
			}
		}
	}
	if only != "" {
		kept := f[:0]
		for _, e := range f {
			if strings.HasPrefix(e.Field, "ladders["+only+"]") || !strings.HasPrefix(e.Field, "ladders[") {
				kept = append(kept, e)
			}
		}
		f = kept
		for i := range f {
			f[i].Field = strings.TrimPrefix(strings.TrimPrefix(f[i].Field, "ladders["+only+"]"), ".")
		}
	}
	return optimum.Invalid("The ladder has errors.", f)
}

func normalize(l *Ladder) {
	l.ID = strings.TrimSpace(strings.ToLower(l.ID))
	l.Then = strings.TrimSpace(strings.ToLower(l.Then))
	l.Name.ES, l.Name.EN = strings.TrimSpace(l.Name.ES), strings.TrimSpace(l.Name.EN)
}
