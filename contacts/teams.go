package contacts

import (
	"context"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/optimum-bcp/optimum"
)

func (in TeamInput) validate() error {
	var f []optimum.FieldError
	if !ValidID(in.ID) {
		f = append(f, optimum.FieldError{Field: "id", Message: "must be 1-64 lower-case letters, digits, '-' or '_', starting with a letter or digit"})
	}
	for field, v := range map[string]string{"name_es": in.NameES, "name_en": in.NameEN} {
		if n := utf8.RuneCountInString(v); n == 0 || n > 100 {
			f = append(f, optimum.FieldError{Field: field, Message: "is required, at most 100 characters"})
		}
	}
	return optimum.Invalid("The team has errors.", f)
}

// SaveTeam creates the team, or renames it when it exists.
func (s *Directory) SaveTeam(ctx context.Context, in TeamInput) (Team, error) {
	actor := actorOf(ctx)
	if err := in.validate(); err != nil {
		return Team{}, err
	}
	if sc := scopeOf(ctx); sc != nil && !slices.Contains(sc.Teams, in.ID) {
		return Team{}, optimum.Errorf(optimum.EFORBIDDEN, "You manage only the teams %s.", listOrNone(sc.Teams))
	}
	var out Team
	err := s.store.Tx(ctx, func(tx Tx) error {
		snap, err := tx.Snapshot(ctx)
		if err != nil {
			return err
		}
		var old *Team
		for i := range snap.Teams {
			if snap.Teams[i].ID == in.ID {
				old = &snap.Teams[i]
			}
		}
		out = Team{ID: in.ID, NameES: in.NameES, NameEN: in.NameEN, Active: true, Sites: []string{}}
		if old != nil {
			out.Members, out.Sites = old.Members, old.Sites
		}
		if in.Sites != nil {
			ids, f := newIndex(snap).personSites(cleanSites(in.Sites), "sites")
			if err := optimum.Invalid("The team has errors.", f); err != nil {
				return err
			}
			out.Sites = append([]string{}, ids...)
		}
		if old != nil && old.NameES == in.NameES && old.NameEN == in.NameEN && old.Active && slices.Equal(old.Sites, out.Sites) {
			return nil
		}
		if err := tx.SaveTeam(ctx, out, old == nil); err != nil {
			return err
		}
		typ := EventTeamUpdated
		if old == nil {
			typ = EventTeamCreated
		}
		return appendEvent(ctx, tx, typ, s.now().UTC().Truncate(time.Millisecond), actor, map[string]any{"id": out.ID, "name_es": out.NameES, "name_en": out.NameEN, "sites": out.Sites})
	})
	return out, err
}

// EnsureTeams creates the configured teams that do not exist yet; it never renames an
// existing team, so names edited in the directory survive a restart.
func (s *Directory) EnsureTeams(ctx context.Context, teams []TeamInput) error {
	existing, err := s.store.Teams(ctx)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, t := range existing {
		have[t.ID] = true
	}
	for _, t := range teams {
		if have[t.ID] {
			continue
		}
		if _, err := s.SaveTeam(optimum.WithActor(ctx, optimum.System), t); err != nil {
			return err
		}
	}
	return nil
}

// SaveService creates or updates a service of the catalogue; its owner must be a team.
func (s *Directory) SaveService(ctx context.Context, in ServiceInput) (Service, error) {
	actor := actorOf(ctx)
	var out Service
	err := s.store.Tx(ctx, func(tx Tx) error {
		snap, err := tx.Snapshot(ctx)
		if err != nil {
			return err
		}
		idx := newIndex(snap)
		var f []optimum.FieldError
		if !ValidID(in.ID) {
			f = append(f, optimum.FieldError{Field: "id", Message: "must be 1-64 lower-case letters, digits, '-' or '_'"})
		}
		if n := utf8.RuneCountInString(in.Name); n == 0 || n > 200 {
			f = append(f, optimum.FieldError{Field: "name", Message: "is required, at most 200 characters"})
		}
		owner, ok := idx.team(in.OwnerTeam)
		if !ok {
			f = append(f, optimum.FieldError{Field: "owner_team", Message: "is not a team"})
		}
		if err := optimum.Invalid("The service has errors.", f); err != nil {
			return err
		}
		out = Service{ID: in.ID, Name: in.Name, OwnerTeam: owner.ID, Active: true}
		isNew := true
		for _, sv := range snap.Services {
			if sv.ID == in.ID {
				isNew = false
				if sv == out {
					return nil
				}
			}
		}
		if err := tx.SaveService(ctx, out, isNew); err != nil {
			return err
		}
		typ := EventServiceUpdated
		if isNew {
			typ = EventServiceCreated
		}
		return appendEvent(ctx, tx, typ, s.now().UTC().Truncate(time.Millisecond), actor, map[string]any{"id": out.ID, "name": out.Name, "owner_team": out.OwnerTeam})
	})
	return out, err
}
