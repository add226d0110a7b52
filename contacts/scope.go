package contacts

import (
	"context"
	"slices"
	"strings"

	"github.com/optimum-bcp/optimum"
)

// A manager may be limited to some teams and sites (optimum.Scope, docs/security.md
// "Roles"). The directory applies the limit itself, whatever the entry point: a scoped
// actor sees and changes only the people of their teams and sites (others do not exist
// for them: ENOTFOUND), may not place a person outside them (EFORBIDDEN), changes only
// their own teams and sites, imports no files, and reads the readiness of their people.
// Resolving an audience is not limited: anyone may alert anyone.

// InScope reports whether p is in one of the scope's teams or at one of its sites. A nil
// scope holds everyone.
func InScope(p Person, sc *optimum.Scope) bool {
	if sc == nil {
		return true
	}
	for _, t := range p.Teams {
		if slices.Contains(sc.Teams, t) {
			return true
		}
	}
	for _, st := range p.Sites {
		if slices.Contains(sc.Sites, st) {
			return true
		}
	}
	return false
}

// scopeOf returns the limit of the actor of ctx, nil when there is none.
func scopeOf(ctx context.Context) *optimum.Scope { return actorOf(ctx).Limited() }

// visible reports whether the actor of ctx may see p: unscoped, p is themself, or p is
// in their scope.
func visible(ctx context.Context, p Person) bool {
	a := actorOf(ctx)
	return (a.PersonID != "" && a.PersonID == p.ID) || InScope(p, a.Limited())
}

func errOutOfScope(id string) error {
	return optimum.Errorf(optimum.ENOTFOUND, "No person has the id %q.", clip(id))
}

func errPlaceOutOfScope(sc *optimum.Scope) error {
	return optimum.Errorf(optimum.EFORBIDDEN, "You manage only the teams %s and the sites %s: the person must be in one of them.",
		listOrNone(sc.Teams), listOrNone(sc.Sites))
}

func listOrNone(ids []string) string {
	if len(ids) == 0 {
		return "(none)"
	}
	return strings.Join(ids, ", ")
}

// Covers reports whether an audience of teams and sites (ids or names; a site may be a
// city) lies wholly in the actor's scope: every team one of its teams, every site one of
// its sites. Unknown names are left to the audience's own validation. An unscoped actor
// is covered everywhere; a scoped one never by an empty audience.
func (s *Directory) Covers(ctx context.Context, teams, sites []string) (bool, error) {
	sc := scopeOf(ctx)
	if sc == nil {
		return true, nil
	}
	if len(teams)+len(sites) == 0 {
		return false, nil
	}
	snap, err := s.store.Snapshot(ctx)
	if err != nil {
		return false, err
	}
	idx := newIndex(snap)
	for _, ref := range teams {
		t, ok := idx.team(ref)
		if ok && !slices.Contains(sc.Teams, t.ID) || !ok && !slices.Contains(sc.Teams, Slug(ref)) {
			return false, nil
		}
	}
	for _, ref := range sites {
		ids := idx.sitesOf(ref)
		if len(ids) == 0 {
			ids = []string{Slug(ref)}
		}
		for _, id := range ids {
			if !slices.Contains(sc.Sites, id) {
				return false, nil
			}
		}
	}
	return true, nil
}

// CoversService reports whether the team owning a service is in the actor's scope.
func (s *Directory) CoversService(ctx context.Context, service string) (bool, error) {
	if scopeOf(ctx) == nil {
		return true, nil
	}
	svcs, err := s.store.Services(ctx)
	if err != nil {
		return false, err
	}
	for _, sv := range svcs {
		if sv.ID == service {
			return s.Covers(ctx, []string{sv.OwnerTeam}, nil)
		}
	}
	return true, nil // unknown: the ladder's validation says so
}
