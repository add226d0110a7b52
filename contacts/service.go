package contacts

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
)

// Event types appended by the directory. Their data names what changed, never phones.
const (
	EventPersonCreated   = "person.created"
	EventPersonUpdated   = "person.updated"
	EventTeamCreated     = "team.created"
	EventTeamUpdated     = "team.updated"
	EventServiceCreated  = "service.created"
	EventServiceUpdated  = "service.updated"
	EventDirectoryImport = "directory.imported"
)

// Store keeps the directory.
type Store interface {
	Tx(ctx context.Context, fn func(Tx) error) error
	People(ctx context.Context, f Filter) ([]Person, error)
	Person(ctx context.Context, idOrEmail string) (Person, error)
	Teams(ctx context.Context) ([]Team, error)
	Services(ctx context.Context) ([]Service, error)
	// Snapshot reads the whole directory, outside any write transaction.
	Snapshot(ctx context.Context) (Snapshot, error)
	// SharedPhones lists the phones more than one active person has (phones.go).
	SharedPhones(ctx context.Context) ([]SharedPhone, error)
}

// Tx is the work done atomically with the events that record it.
type Tx interface {
	// Snapshot returns every person (with memberships), team and service.
	Snapshot(ctx context.Context) (Snapshot, error)
	Person(ctx context.Context, idOrEmail string) (Person, error)
	SavePerson(ctx context.Context, p Person, isNew bool) error
	SaveTeam(ctx context.Context, t Team, isNew bool) error
	SaveService(ctx context.Context, s Service, isNew bool) error
	// SaveSite creates or changes a site (sites.go).
	SaveSite(ctx context.Context, s Site, isNew bool) error
	Append(ctx context.Context, e optimum.Event) (int64, error)
}

// Snapshot is the whole directory at one moment.
type Snapshot struct {
	People   []Person
	Teams    []Team
	Services []Service
	Sites    []Site
}

// Filter selects people. Zero fields do not filter.
type Filter struct {
	Teams []string // members of any of these teams
	Roles []string // with any of these team roles (within Teams when given)
	Sites []string // with any of these sites (ids), primary or not
	// Scope keeps only the people in it (scope.go); the directory sets it from the actor.
	Scope  *optimum.Scope
	IDs    []string
	Active *bool
	Text   string // in name or email
	Limit  int
	After  string // paging: people whose id sorts after this one
}

// Directory manages people, teams and services.
type Directory struct {
	store Store
	now   func() time.Time
}

// NewDirectory returns a Directory; now nil means time.Now.
func NewDirectory(store Store, now func() time.Time) *Directory {
	if now == nil {
		now = time.Now
	}
	return &Directory{store: store, now: now}
}

// People lists people by name.
func (s *Directory) People(ctx context.Context, f Filter) ([]Person, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 1000
	}
	if sc := scopeOf(ctx); sc != nil {
		f.Scope = sc
	}
	return s.store.People(ctx, f)
}

// Person returns a person by id or email.
// A scoped actor finds only the people in their scope, and themself.
func (s *Directory) Person(ctx context.Context, idOrEmail string) (Person, error) {
	p, err := s.store.Person(ctx, idOrEmail)
	if err == nil && !visible(ctx, p) {
		return Person{}, errOutOfScope(idOrEmail)
	}
	return p, err
}

// Teams lists the teams with their member counts.
func (s *Directory) Teams(ctx context.Context) ([]Team, error) { return s.store.Teams(ctx) }

// Services lists the catalogue of services.
func (s *Directory) Services(ctx context.Context) ([]Service, error) { return s.store.Services(ctx) }

// CreatePerson adds a person. Their teams must exist.
func (s *Directory) CreatePerson(ctx context.Context, in PersonInput) (Person, error) {
	return s.savePerson(ctx, "", in)
}

// UpdatePerson replaces a person's details with in (fields left empty are cleared).
func (s *Directory) UpdatePerson(ctx context.Context, id string, in PersonInput) (Person, error) {
	return s.savePerson(ctx, id, in)
}

func (s *Directory) savePerson(ctx context.Context, id string, in PersonInput) (Person, error) {
	actor := actorOf(ctx)
	in.Normalize()
	problems := in.Validate()
	var out Person
	err := s.store.Tx(ctx, func(tx Tx) error {
		dir, err := tx.Snapshot(ctx)
		if err != nil {
			return err
		}
		idx := newIndex(dir)
		var before Person
		isNew := id == ""
		if !isNew {
			p, ok := idx.byID[id]
			if !ok || !visible(ctx, p) {
				return optimum.Errorf(optimum.ENOTFOUND, "No person has the id %q.", clip(id))
			}
			before = p
		}
		if other, ok := idx.byEmail[in.Email]; ok && other.ID != before.ID {
			problems = append(problems, optimum.FieldError{Field: "email", Message: fmt.Sprintf("%s already belongs to %s", in.Email, other.Name)})
		}
		if in.ExternalID != "" {
			if other, ok := idx.byExternal[in.ExternalID]; ok && other.ID != before.ID {
				problems = append(problems, optimum.FieldError{Field: "external_id", Message: fmt.Sprintf("%q already belongs to %s", in.ExternalID, other.Name)})
			}
		}
		teams := make([]Membership, 0, len(in.Teams))
		for i, m := range in.Teams {
			t, ok := idx.team(m.Team)
			if !ok {
				problems = append(problems, optimum.FieldError{Field: fmt.Sprintf("teams[%d]", i), Message: fmt.Sprintf("%q is not a team", clip(m.Team))})
				continue
			}
			teams = append(teams, Membership{Team: t.ID, Role: m.Role})
		}
		var sites []string
		if in.Sites != nil {
			var sf []optimum.FieldError
			sites, sf = idx.personSites(in.Sites, "sites")
			problems = append(problems, sf...)
			sites = append([]string{}, sites...) // non-nil: replace the person's sites
		}
		managerID := ""
		if in.ManagerEmail != "" {
			m, ok := idx.byEmail[in.ManagerEmail]
			switch {
			case !ok:
				problems = append(problems, optimum.FieldError{Field: "manager_email", Message: fmt.Sprintf("nobody in the directory has the email %s", in.ManagerEmail)})
			case !isNew && idx.managedBy(m.ID, before.ID):
				problems = append(problems, optimum.FieldError{Field: "manager_email", Message: fmt.Sprintf("%s reports (directly or not) to this person: that would be a cycle", m.Name)})
			default:
				managerID = m.ID
			}
		}
		if in.own != nil {
			problems = append(problems, in.own.validate(in)...)
		}
		if err := optimum.Invalid("The person has errors.", problems); err != nil {
			return err
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		p := before
		if isNew {
			p = Person{ID: optimum.NewID("per"), Active: true, CreatedAt: now}
		}
		changed := apply(&p, in, teams, managerID, sites)
		if !isNew && len(changed) == 0 {
			out = p
			return nil
		}
		if sc := actor.Limited(); sc != nil && !visible(ctx, p) {
			return errPlaceOutOfScope(sc)
		}
		if claimsPhone(before, isNew, p) {
			if other, taken := idx.phoneTaken(p.Phone, p.ID); taken {
				return phoneConflict(actor, other)
			}
		}
		if p.Active && p.Phone2 != "" && (p.Phone2 != before.Phone2 || !before.Active) {
			if other, taken := idx.phoneTaken(p.Phone2, p.ID); taken {
				return onField(phoneConflict(actor, other), "phone2")
			}
		}
		p.UpdatedAt = now
		if err := tx.SavePerson(ctx, p, isNew); err != nil {
			return err
		}
		out = p
		typ := EventPersonUpdated
		if isNew {
			typ = EventPersonCreated
		}
		return appendEvent(ctx, tx, typ, now, actor, map[string]any{"id": p.ID, "name": p.Name, "changed": changed})
	})
	return out, err
}

// UpdateProfile changes a person's own phone and language (self-service "Mi perfil").
// A new phone must be verified again.
func (s *Directory) UpdateProfile(ctx context.Context, personID string, pr Profile) (Person, error) {
	p, err := s.store.Person(ctx, personID)
	if err != nil {
		return Person{}, err
	}
	in := PersonInput{ExternalID: p.ExternalID, Name: p.Name, Email: p.Email, Phone: pr.Phone, Language: pr.Language, TimeZone: p.TimeZone, own: &pr}
	for _, m := range p.Memberships {
		in.Teams = append(in.Teams, m)
	}
	if p.ManagerID != "" {
		if m, err := s.store.Person(ctx, p.ManagerID); err == nil {
			in.ManagerEmail = m.Email
		}
	}
	return s.savePerson(ctx, p.ID, in)
}

// SetActive deactivates (or reactivates) a person: an inactive person is kept, with their
// history, but no longer alerted.
func (s *Directory) SetActive(ctx context.Context, id string, active bool) (Person, error) {
	actor := actorOf(ctx)
	var out Person
	err := s.store.Tx(ctx, func(tx Tx) error {
		p, err := tx.Person(ctx, id)
		if err != nil {
			return err
		}
		if !visible(ctx, p) {
			return errOutOfScope(id)
		}
		out = p
		if p.Active == active {
			return nil
		}
		if active && p.Phone != "" {
			// Coming back must not share a number someone took meanwhile.
			dir, err := tx.Snapshot(ctx)
			if err != nil {
				return err
			}
			if other, taken := newIndex(dir).phoneTaken(p.Phone, p.ID); taken {
				return phoneConflict(actor, other)
			}
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		p.Active, p.UpdatedAt = active, now
		if err := tx.SavePerson(ctx, p, false); err != nil {
			return err
		}
		out = p
		return appendEvent(ctx, tx, EventPersonUpdated, now, actor, map[string]any{"id": p.ID, "name": p.Name, "changed": []string{"active"}, "active": active})
	})
	return out, err
}

// apply copies the input onto p and returns the names of the fields that changed. sites
// are site ids, the primary first; nil keeps the person's sites.
func apply(p *Person, in PersonInput, teams []Membership, managerID string, sites []string) []string {
	var changed []string
	set := func(name string, dst *string, v string) {
		if *dst != v {
			*dst = v
			changed = append(changed, name)
		}
	}
	phone := ""
	if in.Phone != "" {
		phone, _ = E164(in.Phone)
	}
	if p.Phone != phone {
		p.Channels.PhoneVerifiedAt = nil // a new number must be verified again
	}
	set("name", &p.Name, in.Name)
	set("email", &p.Email, in.Email)
	set("phone", &p.Phone, phone)
	set("language", &p.Language, in.Language)
	set("time_zone", &p.TimeZone, in.TimeZone)
	set("manager", &p.ManagerID, managerID)
	if in.ExternalID != "" {
		set("external_id", &p.ExternalID, in.ExternalID)
	}
	if in.own != nil {
		changed = append(changed, in.own.apply(p)...)
	}
	if in.Active != nil && *in.Active != p.Active {
		p.Active = *in.Active
		changed = append(changed, "active")
	}
	slices.SortFunc(teams, func(a, b Membership) int { return strings.Compare(a.Team, b.Team) })
	if !slices.Equal(teams, p.Memberships) {
		p.Memberships = teams
		changed = append(changed, "teams")
	}
	p.Teams = make([]string, 0, len(p.Memberships))
	for _, m := range p.Memberships {
		p.Teams = append(p.Teams, m.Team)
	}
	if p.Sites == nil {
		p.Sites = []string{}
	}
	if sites != nil && !slices.Equal(sites, p.Sites) {
		p.Sites = sites
		changed = append(changed, "sites")
	}
	p.PrimarySite = ""
	if len(p.Sites) > 0 {
		p.PrimarySite = p.Sites[0]
	}
	return changed
}

// index finds people and teams of a directory by their keys.
type index struct {
	byID, byEmail, byExternal map[string]Person
	byPhone                   map[string][]Person // every person with the phone, active or not
	teams                     map[string]Team     // by id, and by slug of each name
	sites                     map[string]Site     // by id, and by slug of the name (sites.go)
	cities                    map[string][]Site   // by slug of the city
}

func newIndex(d Snapshot) *index {
	x := &index{byID: map[string]Person{}, byEmail: map[string]Person{}, byExternal: map[string]Person{}, byPhone: map[string][]Person{}, teams: map[string]Team{},
		sites: map[string]Site{}, cities: map[string][]Site{}}
	for _, st := range d.Sites {
		x.putSite(st)
	}
	for _, p := range d.People {
		x.put(p)
	}
	for _, t := range d.Teams {
		x.putTeam(t)
	}
	return x
}

func (x *index) put(p Person) {
	x.byID[p.ID], x.byEmail[p.Email] = p, p
	if p.ExternalID != "" {
		x.byExternal[p.ExternalID] = p
	}
	if p.Phone != "" {
		x.byPhone[p.Phone] = append(x.byPhone[p.Phone], p)
	}
	if p.Phone2 != "" && p.Phone2 != p.Phone {
		x.byPhone[p.Phone2] = append(x.byPhone[p.Phone2], p)
	}
}

func (x *index) putTeam(t Team) {
	for _, k := range []string{Slug(t.NameEN), Slug(t.NameES)} {
		if _, taken := x.teams[k]; !taken && k != "" {
			x.teams[k] = t
		}
	}
	x.teams[t.ID] = t
}

// team finds a team by id or by either name, ignoring case and accents.
func (x *index) team(ref string) (Team, bool) {
	if t, ok := x.teams[ref]; ok {
		return t, true
	}
	t, ok := x.teams[Slug(ref)]
	return t, ok
}

// managedBy reports whether person id reports to boss, directly or not.
func (x *index) managedBy(id, boss string) bool {
	seen := map[string]bool{}
	for cur := id; cur != "" && !seen[cur]; cur = x.byID[cur].ManagerID {
		if cur == boss {
			return true
		}
		seen[cur] = true
	}
	return false
}

func actorOf(ctx context.Context) optimum.Actor {
	if a, ok := optimum.ActorFrom(ctx); ok {
		return a
	}
	return optimum.System
}

func appendEvent(ctx context.Context, tx Tx, typ string, at time.Time, actor optimum.Actor, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	_, err = tx.Append(ctx, optimum.Event{Type: typ, At: at, Actor: &actor, Data: raw})
	return err
}
