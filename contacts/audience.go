package contacts

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/optimum-bcp/optimum"
)

// Audience names who an alert is for: whole teams (optionally only some team roles),
// and people by id or email.
//
// Sites adds everyone at those sites (by site id or name, or a city for every site of
// that city: "Torre Norte", "CDMX"), their primary site or another. Teams, sites and
// people add up: the audience is everyone any of them names.
type Audience struct {
	Teams  []string `json:"teams"`
	Roles  []string `json:"roles"`
	People []string `json:"people"`
	Sites  []string `json:"sites"`
}

// Recipient is one person an alert must reach, with the channels usable now.
type Recipient struct {
	PersonID string   `json:"person_id"`
	Name     string   `json:"name"`
	Language string   `json:"language"`
	Phone    string   `json:"-"`
	Teams    []string `json:"teams"`
	// Site is the person's primary site, "" when they have none.
	Site     string   `json:"site,omitempty"`
	Channels []string `json:"channels"`
	// Verified is true when at least one channel has been proved to reach the person.
	Verified bool `json:"verified"`
}

// Resolve turns an audience into the distinct active people it names, sorted by name.
// Unknown teams or people are an EINVALID error naming them. With a store that finds an
// audience's people in the database (PlanStore), it reads only them: a declaration to a
// team of three during a 100,000-person alert read the whole directory, and took seconds
// to answer (issue 16.4).
func (s *Directory) Resolve(ctx context.Context, a Audience) ([]Recipient, error) {
	if ps, ok := s.store.(PlanStore); ok {
		plan, err := s.plan(ctx, ps, a)
		if err != nil {
			return nil, err
		}
		return s.ResolvePlan(ctx, plan)
	}
	snap, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	idx := newIndex(snap)
	plan, err := planOf(idx, a, func(ref string) (Person, bool) {
		p, ok := idx.byID[ref]
		if !ok {
			p, ok = idx.byEmail[strings.ToLower(ref)]
		}
		return p, ok
	})
	if err != nil {
		return nil, err
	}
	return recipientsIn(snap.People, plan), nil
}

// ResolvePlan is Resolve for an audience already checked (Plan): the plan's people, found
// from its teams, sites and ids by a PlanStore, sorted by name. With another store it
// reads the directory.
func (s *Directory) ResolvePlan(ctx context.Context, plan Plan) ([]Recipient, error) {
	ps, ok := s.store.(PlanStore)
	if !ok {
		snap, err := s.snapshot(ctx)
		if err != nil {
			return nil, err
		}
		return recipientsIn(snap.People, plan), nil
	}
	people, err := ps.PlanPeople(ctx, plan)
	if err != nil {
		return nil, err
	}
	return recipientsIn(people, plan), nil
}

// recipientsIn is the people in the plan, as recipients sorted by name.
func recipientsIn(people []Person, plan Plan) []Recipient {
	out := []Recipient{}
	for _, p := range people {
		if plan.Includes(p) {
			out = append(out, RecipientOf(p))
		}
	}
	sortRecipients(out)
	return out
}

// sortRecipients orders recipients by name, then id.
func sortRecipients(rs []Recipient) {
	slices.SortFunc(rs, func(a, b Recipient) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.PersonID, b.PersonID)
	})
}

// planOf checks the audience's references against the directory idx holds (its teams
// and sites; person finds people) and returns them as ids, or an EINVALID error naming
// every unknown one.
func planOf(idx *index, a Audience, person func(ref string) (Person, bool)) (Plan, error) {
	var (
		f    []optimum.FieldError
		plan Plan
	)
	for i, ref := range a.Teams {
		t, ok := idx.team(ref)
		if !ok {
			f = append(f, optimum.FieldError{Field: fmt.Sprintf("teams[%d]", i), Message: "\"" + clip(ref) + "\" is not a team"})
			continue
		}
		plan.Teams = appendNew(plan.Teams, t.ID)
	}
	for _, r := range a.Roles {
		if !slices.Contains(TeamRoles, r) {
			f = append(f, optimum.FieldError{Field: "roles", Message: "\"" + clip(r) + "\" is not lead, member or backup"})
			continue
		}
		plan.Roles = appendNew(plan.Roles, r)
	}
	for i, ref := range a.Sites {
		ids := idx.sitesOf(ref)
		if len(ids) == 0 {
			f = append(f, optimum.FieldError{Field: fmt.Sprintf("sites[%d]", i), Message: "\"" + clip(ref) + "\" is neither a site nor the city of one"})
		}
		for _, id := range ids {
			plan.Sites = appendNew(plan.Sites, id)
		}
	}
	for i, ref := range a.People {
		p, ok := person(ref)
		if !ok {
			f = append(f, optimum.FieldError{Field: fmt.Sprintf("people[%d]", i), Message: "\"" + clip(ref) + "\" is not in the directory"})
			continue
		}
		plan.People = appendNew(plan.People, p.ID)
	}
	if err := optimum.Invalid("The audience has errors.", f); err != nil {
		return Plan{}, err
	}
	return plan, nil
}

func appendNew(list []string, v string) []string {
	if slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

// RecipientOf is the person as an alert's recipient, with the channels usable now.
func RecipientOf(p Person) Recipient {
	return Recipient{PersonID: p.ID, Name: p.Name, Language: p.Language, Phone: p.Phone, Teams: p.Teams, Site: p.PrimarySite, Channels: p.Usable(false), Verified: len(p.Usable(true)) > 0}
}

func (s *Directory) snapshot(ctx context.Context) (Snapshot, error) { return s.store.Snapshot(ctx) }

// Reach counts how a group of people can be reached, before a crisis.
type Reach struct {
	Team   string `json:"team,omitempty"`
	Site   string `json:"site,omitempty"` // with NameES and NameEN both the site's name
	NameES string `json:"name_es,omitempty"`
	NameEN string `json:"name_en,omitempty"`
	People int    `json:"people"`
	// Reachable have at least one usable channel; Verified at least one proved channel.
	Reachable int `json:"reachable"`
	Verified  int `json:"verified"`
	// VerifiedTwo have two independent proved means: a verified phone and a subscribed browser.
	VerifiedTwo     int            `json:"verified_two"`
	ShareVerified   float64        `json:"share_verified"`
	ShareVerified2  float64        `json:"share_verified_two"`
	Channels        map[string]int `json:"channels"`
	WithoutVerified []PersonRef    `json:"without_verified_channel"`
}

// PersonRef names a person in a report.
type PersonRef struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// Readiness is the directory's reachability: overall and per team.
type Readiness struct {
	Overall Reach   `json:"overall"`
	Teams   []Reach `json:"teams"`
	// Sites is the reach of the people of each site (primary or not), by site id.
	Sites []Reach `json:"sites"`
	// SharedPhones are numbers several active people have: replies from them are
	// refused until a manager gives each number to one person (phones.go).
	SharedPhones []SharedPhone `json:"shared_phones"`
}

// Readiness reports, for the whole directory and each team, how many active people can
// be reached on at least one proved channel and on two independent ones.
// sites, when not nil, limits the per-site figures to those sites (ids).
func (s *Directory) Readiness(ctx context.Context, teams []string, sites ...string) (Readiness, error) {
	snap, err := s.snapshot(ctx)
	if err != nil {
		return Readiness{}, err
	}
	sc := scopeOf(ctx)
	if sc != nil {
		// A scoped manager reads the readiness of their people, teams and sites only.
		people := snap.People[:0:0]
		for _, p := range snap.People {
			if InScope(p, sc) {
				people = append(people, p)
			}
		}
		snap.People = people
	}
	var r Readiness
	r.Overall = reach(snap.People, func(Person) bool { return true })
	for _, t := range snap.Teams {
		if len(teams) > 0 && !slices.Contains(teams, t.ID) || sc != nil && !slices.Contains(sc.Teams, t.ID) {
			continue
		}
		tr := reach(snap.People, func(p Person) bool { return slices.Contains(p.Teams, t.ID) })
		tr.Team, tr.NameES, tr.NameEN = t.ID, t.NameES, t.NameEN
		r.Teams = append(r.Teams, tr)
	}
	r.Sites = []Reach{}
	for _, st := range snap.Sites {
		if sites != nil && !slices.Contains(sites, st.ID) || sc != nil && !slices.Contains(sc.Sites, st.ID) {
			continue
		}
		sr := reach(snap.People, func(p Person) bool { return slices.Contains(p.Sites, st.ID) })
		sr.Site, sr.NameES, sr.NameEN = st.ID, st.Name, st.Name
		r.Sites = append(r.Sites, sr)
	}
	if r.SharedPhones, err = s.store.SharedPhones(ctx); err != nil {
		return Readiness{}, err
	}
	return r, nil
}

func reach(people []Person, in func(Person) bool) Reach {
	r := Reach{Channels: map[string]int{}, WithoutVerified: []PersonRef{}}
	for _, p := range people {
		if !p.Active || !in(p) {
			continue
		}
		r.People++
		usable := p.Usable(false)
		for _, c := range usable {
			r.Channels[c]++
		}
		if p.Email != "" {
			// People with an address (issue 17); whether a server sends email is the
			// configuration's, so it makes nobody reachable here.
			r.Channels["email"]++
		}
		if len(usable) > 0 {
			r.Reachable++
		}
		phone := p.HasPhone(true)
		push := p.Channels.PushSubscriptions > 0
		switch {
		case phone && push:
			r.Verified++
			r.VerifiedTwo++
		case phone || push:
			r.Verified++
		default:
			reason := "phone not verified"
			if p.Phone == "" {
				reason = "no phone and no subscribed browser"
			}
			r.WithoutVerified = append(r.WithoutVerified, PersonRef{ID: p.ID, Name: p.Name, Reason: reason})
		}
	}
	if r.People > 0 {
		r.ShareVerified = float64(r.Verified) / float64(r.People)
		r.ShareVerified2 = float64(r.VerifiedTwo) / float64(r.People)
	}
	return r
}
