package contacts

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/optimum-bcp/optimum"
)

// Provisioning: what an identity provider (SCIM, internal/scim) and the scheduled
// directory sync need beyond the forms: the whole directory at once, team membership
// changed from the team's side, teams retired, and a "replace" import that deactivates
// whoever the file no longer lists.

// Event types of provisioning.
const (
	// EventTeamMembers records members added to or removed from a team from the team's
	// side (a SCIM group): {"id", "added": [person ids], "removed": [person ids]}.
	EventTeamMembers = "team.members_changed"
	// EventDirectorySyncRefused records a replace import refused because it would have
	// deactivated too many people: {"source", "active", "would_deactivate", "percent",
	// "max_percent"}.
	EventDirectorySyncRefused = "directory.sync_refused"
)

// Snapshot reads the whole directory: every person (active or not, with memberships),
// team and service.
func (s *Directory) Snapshot(ctx context.Context) (Snapshot, error) { return s.store.Snapshot(ctx) }

// ChangeMembers adds people to a team and removes others, all or nothing, in one event.
// With replace, the team's members become exactly add. People are given by id; a new
// member joins as a member, an existing member keeps their role. Each person named must
// exist (ENOTFOUND otherwise, naming them), and so must the team.
func (s *Directory) ChangeMembers(ctx context.Context, teamID string, add, remove []string, replace bool) error {
	actor := actorOf(ctx)
	return s.store.Tx(ctx, func(tx Tx) error {
		snap, err := tx.Snapshot(ctx)
		if err != nil {
			return err
		}
		idx := newIndex(snap)
		team, ok := idx.teams[teamID]
		if !ok || team.ID != teamID {
			return optimum.Errorf(optimum.ENOTFOUND, "No team has the id %q.", clip(teamID))
		}
		for _, id := range slices.Concat(add, remove) {
			if _, ok := idx.byID[id]; !ok {
				return optimum.Errorf(optimum.ENOTFOUND, "No person has the id %q.", clip(id))
			}
		}
		in := func(id string) bool { return slices.Contains(add, id) }
		var added, removed []string
		now := s.now().UTC().Truncate(time.Millisecond)
		for _, p := range snap.People {
			member := slices.ContainsFunc(p.Memberships, func(m Membership) bool { return m.Team == teamID })
			want := member
			switch {
			case in(p.ID):
				want = true
			case replace || slices.Contains(remove, p.ID):
				want = false
			}
			if want == member {
				continue
			}
			if want {
				p.Memberships = append(slices.Clone(p.Memberships), Membership{Team: teamID, Role: RoleMember})
				slices.SortFunc(p.Memberships, func(a, b Membership) int {
					if a.Team < b.Team {
						return -1
					}
					if a.Team > b.Team {
						return 1
					}
					return 0
				})
				added = append(added, p.ID)
			} else {
				p.Memberships = slices.DeleteFunc(slices.Clone(p.Memberships), func(m Membership) bool { return m.Team == teamID })
				removed = append(removed, p.ID)
			}
			p.Teams = p.Teams[:0:0]
			for _, m := range p.Memberships {
				p.Teams = append(p.Teams, m.Team)
			}
			p.UpdatedAt = now
			if err := tx.SavePerson(ctx, p, false); err != nil {
				return err
			}
		}
		if len(added)+len(removed) == 0 {
			return nil
		}
		return appendEvent(ctx, tx, EventTeamMembers, now, actor, map[string]any{"id": teamID, "added": nonNil(added), "removed": nonNil(removed)})
	})
}

// RetireTeam deactivates a team (a group deleted at the identity provider): it is kept,
// with the history of what was sent to it, but it no longer has members.
func (s *Directory) RetireTeam(ctx context.Context, teamID string) error {
	if err := s.ChangeMembers(ctx, teamID, nil, nil, true); err != nil {
		return err
	}
	actor := actorOf(ctx)
	return s.store.Tx(ctx, func(tx Tx) error {
		snap, err := tx.Snapshot(ctx)
		if err != nil {
			return err
		}
		for _, t := range snap.Teams {
			if t.ID != teamID {
				continue
			}
			if !t.Active {
				return nil
			}
			t.Active = false
			if err := tx.SaveTeam(ctx, t, false); err != nil {
				return err
			}
			return appendEvent(ctx, tx, EventTeamUpdated, s.now().UTC().Truncate(time.Millisecond), actor,
				map[string]any{"id": t.ID, "name_es": t.NameES, "name_en": t.NameEN, "active": false})
		}
		return optimum.Errorf(optimum.ENOTFOUND, "No team has the id %q.", clip(teamID))
	})
}

// SyncRefusedError is a replace import refused because it would deactivate more than the
// allowed share of the active people: nothing was changed.
type SyncRefusedError struct {
	Active, WouldDeactivate int
	Percent, MaxPercent     float64
}

func (e *SyncRefusedError) Error() string {
	return fmt.Sprintf("the sync would deactivate %d of %d active people (%.1f%%, more than the %.1f%% allowed); nothing was changed",
		e.WouldDeactivate, e.Active, e.Percent, e.MaxPercent)
}

// ReplaceReport is what a replace import did (or, with DryRun, would do).
type ReplaceReport struct {
	ImportReport
	Deactivated int `json:"deactivated"`
}

// ReplaceImport makes the directory's people what rows say: the rows are imported as by
// Import, and every active person the rows do not list (by external id or email) is
// deactivated, never deleted. All in one transaction, all or nothing. It is refused,
// changing nothing, when it would deactivate more than maxPercent of the active people
// (a truncated or wrong file must not switch off half the company): the refusal is
// recorded as an EventDirectorySyncRefused event and returned as *SyncRefusedError.
func (s *Directory) ReplaceImport(ctx context.Context, rows []Row, maxPercent float64, dryRun bool, source string) (ReplaceReport, error) {
	actor := actorOf(ctx)
	var rep ReplaceReport
	var refused *SyncRefusedError
	err := s.store.Tx(ctx, func(tx Tx) error {
		snap, err := tx.Snapshot(ctx)
		if err != nil {
			return err
		}
		listedEmail, listedExternal := map[string]bool{}, map[string]bool{}
		for _, r := range rows {
			in := r.Input
			in.Normalize()
			listedEmail[in.Email] = true
			if in.ExternalID != "" {
				listedExternal[in.ExternalID] = true
			}
		}
		var gone []Person
		active := 0
		for _, p := range snap.People {
			if !p.Active {
				continue
			}
			active++
			if !listedEmail[p.Email] && (p.ExternalID == "" || !listedExternal[p.ExternalID]) {
				gone = append(gone, p)
			}
		}
		if active > 0 {
			pct := 100 * float64(len(gone)) / float64(active)
			if pct > maxPercent {
				refused = &SyncRefusedError{Active: active, WouldDeactivate: len(gone), Percent: math.Round(pct*10) / 10, MaxPercent: maxPercent}
				return appendEvent(ctx, tx, EventDirectorySyncRefused, s.now().UTC().Truncate(time.Millisecond), actor, map[string]any{
					"source": source, "active": active, "would_deactivate": len(gone), "percent": refused.Percent, "max_percent": maxPercent})
			}
		}
		// Whoever the file lists is active, unless its "active" column says otherwise.
		rows = slices.Clone(rows)
		for i := range rows {
			if rows[i].Input.Active == nil {
				yes := true
				rows[i].Input.Active = &yes
			}
		}
		// The import sees the people leaving as inactive already, so a row may take the
		// phone number of someone the file no longer lists.
		leaving := map[string]bool{}
		for _, p := range gone {
			leaving[p.ID] = true
		}
		after := snap
		after.People = slices.Clone(snap.People)
		for i := range after.People {
			if leaving[after.People[i].ID] {
				after.People[i].Active = false
			}
		}
		imp, err := s.importIn(ctx, tx, after, rows, nil, nil, dryRun, nil)
		rep = ReplaceReport{ImportReport: imp, Deactivated: len(gone)}
		if err != nil || dryRun {
			return err
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		ids := make([]string, 0, len(gone))
		for _, p := range gone {
			p.Active, p.UpdatedAt = false, now
			if err := tx.SavePerson(ctx, p, false); err != nil {
				return err
			}
			ids = append(ids, p.ID)
		}
		if len(ids) == 0 {
			return nil
		}
		return appendEvent(ctx, tx, EventPersonsDeactivated, now, actor, map[string]any{"source": source, "ids": ids})
	})
	if err == nil && refused != nil {
		return rep, refused
	}
	return rep, err
}

// EventPersonsDeactivated records the people a replace import deactivated: {"source",
// "ids"}.
const EventPersonsDeactivated = "directory.people_deactivated"

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
