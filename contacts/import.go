package contacts

import (
	"context"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/optimum-bcp/optimum"
)

// ImportReport says what an import did, or, when it had errors, why it did nothing.
type ImportReport struct {
	Rows            int        `json:"rows"`
	Created         int        `json:"created"`
	Updated         int        `json:"updated"`
	Unchanged       int        `json:"unchanged"`
	TeamsCreated    []string   `json:"teams_created"`
	ServicesChanged int        `json:"services_changed"`
	DryRun          bool       `json:"dry_run"`
	ErrorCount      int        `json:"error_count"`
	Errors          []RowError `json:"errors"`
}

// maxReportedErrors caps the rows listed in a report; ErrorCount has them all.
const maxReportedErrors = 1000

// Import upserts people (matched by external id, else by email), the teams they name
// (created when new) and the services of a file, all or nothing: with any invalid row,
// nothing changes and the report lists every problem by line. Importing the same file
// again changes nothing. With dryRun, it reports what it would do and writes nothing.
//
// The sites a file defines are saved before its people, who may name them (by id or
// name); a person's sites must exist (they need a city and a time zone, which a CSV row
// cannot say).
func (s *Directory) Import(ctx context.Context, rows []Row, teams []TeamInput, services []ServiceInput, dryRun bool, sites ...SiteInput) (ImportReport, error) {
	actor := actorOf(ctx)
	if actor.Limited() != nil {
		return ImportReport{TeamsCreated: []string{}, Errors: []RowError{}}, optimum.Errorf(optimum.EFORBIDDEN,
			"A manager limited to some teams or sites cannot import directory files; ask a manager of the whole organisation.")
	}
	rep := ImportReport{Rows: len(rows), DryRun: dryRun, TeamsCreated: []string{}, Errors: []RowError{}}
	err := s.store.Tx(ctx, func(tx Tx) error {
		snap, err := tx.Snapshot(ctx)
		if err != nil {
			return err
		}
		rep, err = s.importIn(ctx, tx, snap, rows, teams, services, dryRun, sites)
		return err
	})
	if err == nil && !dryRun && rep.Created+rep.Updated >= bulkWrite {
		if a, ok := s.store.(Analyzer); ok {
			// Not the import's failure: the statistics catch up by themselves within minutes.
			_ = a.Analyze(ctx)
		}
	}
	return rep, err
}

// bulkWrite is how many people an import creates or changes before the store is asked
// to refresh its query planner's statistics (Analyzer).
const bulkWrite = 500

// Analyzer is a store whose query planner keeps statistics about the directory's tables.
// After a bulk import they are stale until the database refreshes them by itself (about a
// minute on PostgreSQL), and a plan made on them can be a thousand times slower: the
// first declaration after importing 20,000 people waited 57 s for the directory (issue
// 16). Import refreshes them after a large file.
type Analyzer interface {
	Analyze(ctx context.Context) error
}

// importIn is Import inside tx, on the directory as snap has it.
func (s *Directory) importIn(ctx context.Context, tx Tx, snap Snapshot, rows []Row, teams []TeamInput, services []ServiceInput, dryRun bool, sites []SiteInput) (ImportReport, error) {
	actor := actorOf(ctx)
	rep := ImportReport{Rows: len(rows), DryRun: dryRun, TeamsCreated: []string{}, Errors: []RowError{}}
	err := func() error {
		p := &importPlan{idx: newIndex(snap), rep: &rep, now: s.now().UTC().Truncate(time.Millisecond)}
		p.sites(sites)
		p.teams(teams)
		p.people(rows)
		p.services(services, snap.Services)
		rep.ErrorCount = len(rep.Errors)
		if len(rep.Errors) > maxReportedErrors {
			rep.Errors = rep.Errors[:maxReportedErrors]
		}
		if rep.ErrorCount > 0 && rep.ErrorCount == p.conflicts {
			return optimum.Errorf(optimum.ECONFLICT, "The file gives %d phone numbers to a second active person; nothing was imported.", rep.ErrorCount)
		}
		if rep.ErrorCount > 0 {
			return optimum.Errorf(optimum.EINVALID, "The file has %d errors; nothing was imported.", rep.ErrorCount)
		}
		if dryRun {
			return nil
		}
		for _, st := range p.siteChanges {
			if err := tx.SaveSite(ctx, st.site, st.isNew); err != nil {
				return err
			}
		}
		for _, t := range p.newTeams {
			if err := tx.SaveTeam(ctx, t, true); err != nil {
				return err
			}
		}
		for _, t := range p.changedTeams {
			if err := tx.SaveTeam(ctx, t, false); err != nil {
				return err
			}
		}
		for _, c := range p.changes {
			if err := tx.SavePerson(ctx, c.person, c.isNew); err != nil {
				return err
			}
		}
		for _, sv := range p.svc {
			if err := tx.SaveService(ctx, sv.service, sv.isNew); err != nil {
				return err
			}
		}
		if rep.Created+rep.Updated+len(p.newTeams)+len(p.changedTeams)+rep.ServicesChanged+len(p.siteChanges) == 0 {
			return nil
		}
		return appendEvent(ctx, tx, EventDirectoryImport, p.now, actor, map[string]any{
			"rows": rep.Rows, "created": rep.Created, "updated": rep.Updated, "unchanged": rep.Unchanged,
			"teams_created": rep.TeamsCreated, "services_changed": rep.ServicesChanged, "sites_changed": len(p.siteChanges),
		})
	}()
	return rep, err
}

type personChange struct {
	person Person
	isNew  bool
}

type siteChange struct {
	site  Site
	isNew bool
}

type serviceChange struct {
	service Service
	isNew   bool
}

type importPlan struct {
	idx          *index
	rep          *ImportReport
	now          time.Time
	newTeams     []Team
	changedTeams []Team
	changes      []personChange
	svc          []serviceChange
	siteChanges  []siteChange
	conflicts    int // errors that are phones shared with another active person
}

func (p *importPlan) fail(line int, email, field, format string, args ...any) {
	p.rep.Errors = append(p.rep.Errors, RowError{Line: line, Email: email, Field: field, Message: fmt.Sprintf(format, args...)})
}

// sites upserts the sites the file defines.
func (p *importPlan) sites(in []SiteInput) {
	for i, st := range in {
		st.normalize()
		bad := false
		for _, f := range st.validate() {
			p.fail(i+1, "", "sites."+f.Field, "site %s: %s", clip(st.ID), f.Message)
			bad = true
		}
		if bad {
			continue
		}
		site := Site{ID: st.ID, Name: st.Name, City: st.City, TimeZone: st.TimeZone, Active: true}
		old, ok := p.idx.sites[st.ID]
		if ok && old.ID == st.ID {
			site.People = old.People
			if old == site {
				continue
			}
		}
		p.siteChanges = append(p.siteChanges, siteChange{site, !ok || old.ID != st.ID})
		p.idx.putSite(site)
	}
}

// teams upserts the teams the file defines.
func (p *importPlan) teams(in []TeamInput) {
	for i, t := range in {
		line := i + 1
		switch {
		case !ValidID(t.ID):
			p.fail(line, "", "teams.id", "%q must be lower-case letters, digits, '-' or '_'", clip(t.ID))
			continue
		case t.NameES == "" || t.NameEN == "" || utf8.RuneCountInString(t.NameES) > 100 || utf8.RuneCountInString(t.NameEN) > 100:
			p.fail(line, "", "teams.name", "team %s needs name_es and name_en (at most 100 characters)", t.ID)
			continue
		}
		old, ok := p.idx.teams[t.ID]
		team := Team{ID: t.ID, NameES: t.NameES, NameEN: t.NameEN, Active: true, Sites: old.Sites}
		if t.Sites != nil {
			ids, sf := p.idx.personSites(cleanSites(t.Sites), "teams.sites")
			for _, f := range sf {
				p.fail(line, "", f.Field, "team %s: %s", t.ID, f.Message)
			}
			team.Sites = append([]string{}, ids...)
		}
		switch {
		case !ok:
			p.newTeams = append(p.newTeams, team)
			p.rep.TeamsCreated = append(p.rep.TeamsCreated, t.ID)
		case old.NameES != t.NameES || old.NameEN != t.NameEN || !old.Active || (t.Sites != nil && !slices.Equal(old.Sites, team.Sites)):
			p.changedTeams = append(p.changedTeams, team)
		}
		p.idx.putTeam(team)
	}
}

// people validates every row, then plans the changes; managers are resolved once every
// row has an id, so a file may name a manager further down.
func (p *importPlan) people(rows []Row) {
	var plan []importedRow
	seenEmail, seenExternal := map[string]int{}, map[string]int{}
	inFile := map[string]string{} // email -> id of the person as imported
	for _, r := range rows {
		in := r.Input
		in.Normalize()
		bad := false
		for _, f := range in.Validate() {
			p.fail(r.Line, in.Email, f.Field, "%s", f.Message)
			bad = true
		}
		if prev, dup := seenEmail[in.Email]; dup && in.Email != "" {
			p.fail(r.Line, in.Email, "email", "%s is also on line %d", in.Email, prev)
			bad = true
		}
		seenEmail[in.Email] = r.Line
		if in.ExternalID != "" {
			if prev, dup := seenExternal[in.ExternalID]; dup {
				p.fail(r.Line, in.Email, "external_id", "%q is also on line %d", in.ExternalID, prev)
				bad = true
			}
			seenExternal[in.ExternalID] = r.Line
		}
		var existing Person
		found := false
		if in.ExternalID != "" {
			existing, found = p.idx.byExternal[in.ExternalID]
		}
		if !found {
			existing, found = p.idx.byEmail[in.Email]
		}
		if other, ok := p.idx.byEmail[in.Email]; ok && found && other.ID != existing.ID {
			p.fail(r.Line, in.Email, "email", "%s belongs to %s, not to the person with external id %q", in.Email, other.Name, in.ExternalID)
			bad = true
		}
		var teams []Membership
		for i, m := range in.Teams {
			t, ok := p.idx.team(m.Team)
			if !ok {
				id := Slug(m.Team)
				if id == "" {
					p.fail(r.Line, in.Email, fmt.Sprintf("teams[%d]", i), "%q cannot be a team name", clip(m.Team))
					bad = true
					continue
				}
				t = Team{ID: id, NameES: m.Team, NameEN: m.Team, Active: true}
				p.newTeams = append(p.newTeams, t)
				p.rep.TeamsCreated = append(p.rep.TeamsCreated, id)
				p.idx.putTeam(t)
			}
			if slices.ContainsFunc(teams, func(x Membership) bool { return x.Team == t.ID }) {
				p.fail(r.Line, in.Email, fmt.Sprintf("teams[%d]", i), "%q names the same team twice", clip(m.Team))
				bad = true
				continue
			}
			teams = append(teams, Membership{Team: t.ID, Role: m.Role})
		}
		var sites []string
		if in.Sites != nil {
			ids, sf := p.idx.personSites(in.Sites, "sites")
			for _, f := range sf {
				p.fail(r.Line, in.Email, f.Field, "%s", f.Message)
				bad = true
			}
			sites = append([]string{}, ids...)
		}
		if bad {
			continue
		}
		person := existing
		if !found {
			person = Person{ID: optimum.NewID("per"), Active: true, CreatedAt: p.now}
		}
		r.Input = in
		inFile[in.Email] = person.ID
		plan = append(plan, importedRow{row: r, person: person, isNew: !found, teams: teams, sites: sites})
	}
	// Managers, and the management chain after the import, must not loop.
	manager := map[string]string{} // person id -> manager id, after the import
	for id, per := range p.idx.byID {
		manager[id] = per.ManagerID
	}
	for i, pl := range plan {
		m := pl.row.Input.ManagerEmail
		id := ""
		if m != "" {
			if fid, ok := inFile[m]; ok {
				id = fid
			} else if per, ok := p.idx.byEmail[m]; ok {
				id = per.ID
			} else {
				p.fail(pl.row.Line, pl.row.Input.Email, "manager_email", "nobody in the file or the directory has the email %s", m)
				continue
			}
		}
		manager[pl.person.ID] = id
		plan[i].person.ManagerID = id
	}
	for _, pl := range plan {
		seen := map[string]bool{}
		for cur := manager[pl.person.ID]; cur != ""; cur = manager[cur] {
			if cur == pl.person.ID {
				p.fail(pl.row.Line, pl.row.Input.Email, "manager_email", "the management chain loops back to %s", pl.row.Input.Email)
				break
			}
			if seen[cur] {
				break
			}
			seen[cur] = true
		}
	}
	p.sharedPhones(plan)
	for _, pl := range plan {
		per := pl.person
		changed := apply(&per, pl.row.Input, pl.teams, per.ManagerID, pl.sites)
		if pl.isNew {
			per.UpdatedAt = p.now
			p.changes = append(p.changes, personChange{per, true})
			p.rep.Created++
			continue
		}
		// ManagerID was set on the plan before apply compared it; compare with the stored one.
		if old := p.idx.byID[per.ID]; old.ManagerID != per.ManagerID && !slices.Contains(changed, "manager") {
			changed = append(changed, "manager")
		}
		if len(changed) == 0 {
			p.rep.Unchanged++
			continue
		}
		per.UpdatedAt = p.now
		p.changes = append(p.changes, personChange{per, false})
		p.rep.Updated++
	}
}

// services upserts the services of the file; their owner must be a team.
func (p *importPlan) services(in []ServiceInput, existing []Service) {
	byID := map[string]Service{}
	for _, s := range existing {
		byID[s.ID] = s
	}
	for i, s := range in {
		line := i + 1
		t, ok := p.idx.team(s.OwnerTeam)
		switch {
		case !ValidID(s.ID):
			p.fail(line, "", "services.id", "%q must be lower-case letters, digits, '-' or '_'", clip(s.ID))
			continue
		case s.Name == "" || utf8.RuneCountInString(s.Name) > 200:
			p.fail(line, "", "services.name", "service %s needs a name (at most 200 characters)", s.ID)
			continue
		case !ok:
			p.fail(line, "", "services.owner_team", "service %s: %q is not a team", s.ID, clip(s.OwnerTeam))
			continue
		}
		sv := Service{ID: s.ID, Name: s.Name, OwnerTeam: t.ID, Active: true}
		old, found := byID[s.ID]
		if found && old == sv {
			continue
		}
		p.svc = append(p.svc, serviceChange{sv, !found})
		p.rep.ServicesChanged++
	}
}

// importedRow is a valid row with the person it changes.
type importedRow struct {
	row    Row
	person Person
	isNew  bool
	teams  []Membership
	sites  []string // site ids, primary first; nil keeps the person's
}

// sharedPhones fails every row that would give its phone to a second active person,
// counting the directory as it will be after the whole file: two rows with one number
// both fail, and so does a row taking the number of someone the file does not change.
func (p *importPlan) sharedPhones(plan []importedRow) {
	after := map[string]Person{}
	line := map[string]int{}
	for _, pl := range plan {
		per := pl.person
		apply(&per, pl.row.Input, slices.Clone(pl.teams), per.ManagerID, pl.sites)
		after[per.ID], line[per.ID] = per, pl.row.Line
	}
	holders := map[string][]Person{} // phone -> active holders after the import
	for id, per := range p.idx.byID {
		if _, changed := after[id]; !changed && per.Active && per.Phone != "" {
			holders[per.Phone] = append(holders[per.Phone], per)
		}
		if _, changed := after[id]; !changed && per.Active && per.Phone2 != "" && per.Phone2 != per.Phone {
			holders[per.Phone2] = append(holders[per.Phone2], per)
		}
	}
	for _, pl := range plan {
		if per := after[pl.person.ID]; per.Active && per.Phone != "" {
			holders[per.Phone] = append(holders[per.Phone], per)
		}
	}
	for _, pl := range plan {
		per := after[pl.person.ID]
		if !claimsPhone(p.idx.byID[per.ID], pl.isNew, per) {
			continue
		}
		for _, other := range holders[per.Phone] {
			if other.ID == per.ID {
				continue
			}
			if l, inFile := line[other.ID]; inFile {
				p.fail(pl.row.Line, pl.row.Input.Email, "phone", "%s is also on line %d", per.Phone, l)
			} else {
				p.fail(pl.row.Line, pl.row.Input.Email, "phone", "%s already belongs to %s", per.Phone, other.Name)
			}
			p.conflicts++
			break
		}
	}
}
