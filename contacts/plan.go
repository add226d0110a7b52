package contacts

import (
	"context"
	"slices"

	"github.com/optimum-bcp/optimum"
)

// Plan is an audience checked against the directory, each reference turned into ids:
// whole teams (only the roles named, when Roles is set), everyone at the sites, and the
// people named. A person is in it when active and named by any of them.
//
// A declaration to a large audience stores its plan instead of its people (issue 16.4):
// resolving 100,000 people and writing them in the declaration's transaction took
// seconds while the store's only writer waited. The people are then turned into
// recipients batch by batch as they are paged (RecipientsAfter), in person id order.
type Plan struct {
	Teams  []string `json:"teams,omitempty"`
	Roles  []string `json:"roles,omitempty"`
	Sites  []string `json:"sites,omitempty"`
	People []string `json:"people,omitempty"`
}

// Includes reports whether the person is in the plan: active, and named by a team
// membership (of a role the plan names, when it names some), a site, or by id. The
// stores' PlanStore queries say the same in SQL.
func (pl Plan) Includes(p Person) bool {
	if !p.Active {
		return false
	}
	if slices.Contains(pl.People, p.ID) {
		return true
	}
	for _, st := range p.Sites {
		if slices.Contains(pl.Sites, st) {
			return true
		}
	}
	for _, m := range p.Memberships {
		if slices.Contains(pl.Teams, m.Team) && (len(pl.Roles) == 0 || slices.Contains(pl.Roles, m.Role)) {
			return true
		}
	}
	return false
}

// PlanStore is a Store that finds a plan's people in the database, without reading the
// whole directory.
type PlanStore interface {
	// CountAudience counts the people in the plan.
	CountAudience(ctx context.Context, p Plan) (int, error)
	// AudiencePeople returns up to limit people of the plan whose id sorts after after,
	// in id order, with their memberships, sites and channels.
	AudiencePeople(ctx context.Context, p Plan, after string, limit int) ([]Person, error)
	// PlanPeople returns every person of the plan, found from the plan's teams, sites and
	// ids rather than by reading the directory, with their memberships, sites and channels.
	PlanPeople(ctx context.Context, p Plan) ([]Person, error)
	// AudienceRefs returns the directory's teams and sites, to check references against,
	// without their member counts (0).
	AudienceRefs(ctx context.Context) ([]Team, []Site, error)
}

// Plan checks the audience against the directory and returns it as ids, with how many
// people it names now, reading neither the whole directory nor its people. It returns
// the same EINVALID error as Resolve for unknown references; ok is false when the store
// cannot count in the database (use Resolve).
func (s *Directory) Plan(ctx context.Context, a Audience) (plan Plan, n int, ok bool, err error) {
	ps, ok := s.store.(PlanStore)
	if !ok {
		return Plan{}, 0, false, nil
	}
	plan, err = s.plan(ctx, ps, a)
	if err != nil {
		return Plan{}, 0, true, err
	}
	n, err = ps.CountAudience(ctx, plan)
	return plan, n, true, err
}

// plan checks the audience's references against the teams and sites of ps and a lookup
// per person named, and returns them as ids.
func (s *Directory) plan(ctx context.Context, ps PlanStore, a Audience) (Plan, error) {
	teams, sites, err := ps.AudienceRefs(ctx)
	if err != nil {
		return Plan{}, err
	}
	idx := newIndex(Snapshot{Teams: teams, Sites: sites})
	var lookupErr error
	plan, err := planOf(idx, a, func(ref string) (Person, bool) {
		p, err := s.store.Person(ctx, ref)
		if err != nil && optimum.ErrorCode(err) != optimum.ENOTFOUND && lookupErr == nil {
			lookupErr = err
		}
		return p, err == nil
	})
	if lookupErr != nil {
		return Plan{}, lookupErr
	}
	return plan, err
}
