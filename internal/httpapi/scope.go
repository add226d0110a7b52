package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/drill"
	"github.com/optimum-bcp/optimum/escalation"
)

// Roles scoped to teams and sites (docs/security.md, "Roles"). The directory limits a
// scoped actor by itself (contacts/scope.go); this file limits drills and ladders, whose
// audiences and targets name teams, sites and people:
//
//   - a drill plan, and its runs and reports, is the scoped manager's when its whole
//     audience is theirs; any other does not exist for them (404);
//   - saving a plan whose audience reaches beyond their teams and sites is 403;
//   - ladders are read by every responder, so a ladder beyond their scope is 403 (not
//     404) to change or delete, and so is saving one that pages beyond it.

// errScope is the 403 of a change reaching beyond the caller's teams and sites.
func errScope(what string) error {
	return optimum.Errorf(optimum.EFORBIDDEN, "%s reaches people beyond the teams and sites you manage.", what)
}

func errNoDrill(id string) error {
	return optimum.Errorf(optimum.ENOTFOUND, "No drill has the id %q.", truncateText(id, 60))
}

// planCovered reports whether the drill plan's audience is within the caller's scope.
func (s *Server) planCovered(ctx context.Context, p drill.Plan) (bool, error) {
	return s.Directory.Covers(ctx, p.Teams, p.Sites)
}

// scopedPlan returns the plan when the caller may touch it, ENOTFOUND otherwise.
func (s *Server) scopedPlan(ctx context.Context, id string) (drill.Plan, error) {
	p, err := s.Drills.Plan(ctx, id)
	if err != nil {
		return p, err
	}
	if ok, err := s.planCovered(ctx, p); err != nil {
		return drill.Plan{}, err
	} else if !ok {
		return drill.Plan{}, errNoDrill(id)
	}
	return p, nil
}

// scopedRun is nil when the caller may touch the drill run, ENOTFOUND otherwise.
func (s *Server) scopedRun(ctx context.Context, id string) error {
	if scoped(ctx) == nil {
		return nil
	}
	run, err := s.Drills.Run(ctx, id)
	if err != nil {
		return err
	}
	if ok, err := s.planCovered(ctx, run.Plan); err != nil {
		return err
	} else if !ok {
		return optimum.Errorf(optimum.ENOTFOUND, "No drill run has the id %q.", truncateText(id, 60))
	}
	return nil
}

func scoped(ctx context.Context) *optimum.Scope {
	a, _ := optimum.ActorFrom(ctx)
	return a.Limited()
}

// ladderCovered reports whether every target of the ladder is within the caller's
// scope: teams and sites theirs, people in their scope, services owned by their teams.
// Managers of the paged follow the people paged before, so they are always covered.
func (s *Server) ladderCovered(ctx context.Context, l escalation.Ladder) (bool, error) {
	if scoped(ctx) == nil {
		return true, nil
	}
	for _, st := range l.Steps {
		for _, t := range st.Targets {
			var (
				ok  = true
				err error
			)
			switch {
			case t.Team != "" && t.Site != "":
				// The team's members at the site: theirs through either.
				ok1, err1 := s.Directory.Covers(ctx, []string{t.Team}, nil)
				ok2, err2 := s.Directory.Covers(ctx, nil, []string{t.Site})
				ok, err = ok1 || ok2, errors.Join(err1, err2)
			case t.Team != "" || t.Site != "":
				ok, err = s.Directory.Covers(ctx, nonEmpty(t.Team), nonEmpty(t.Site))
			case t.Service != "":
				ok, err = s.Directory.CoversService(ctx, t.Service)
			case t.Person != "":
				_, perr := s.Directory.Person(ctx, t.Person)
				ok = perr == nil || optimum.ErrorCode(perr) != optimum.ENOTFOUND
			}
			if err != nil || !ok {
				return false, err
			}
		}
	}
	return true, nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// scopedLadderChange is nil when the caller may save l, replacing the stored ladder id
// if there is one.
func (s *Server) scopedLadderChange(r *http.Request, id string, l *escalation.Ladder) error {
	ctx := r.Context()
	if scoped(ctx) == nil {
		return nil
	}
	if id != "" {
		old, err := s.Ladders.Get(ctx, id)
		if err == nil {
			if ok, err := s.ladderCovered(ctx, old.Ladder); err != nil {
				return err
			} else if !ok {
				return errScope("This ladder")
			}
		} else if optimum.ErrorCode(err) != optimum.ENOTFOUND {
			return err
		}
	}
	if l != nil {
		if ok, err := s.ladderCovered(ctx, *l); err != nil {
			return err
		} else if !ok {
			return errScope("The ladder")
		}
	}
	return nil
}
