package store

import (
	"context"
	"fmt"

	"github.com/optimum-bcp/optimum/contacts"
)

// alertEmail is the address alerts by email go to, from a people row p: the email the
// person chose in "Mi perfil" (contact_email), else the directory's (docs/sites.md).
const alertEmail = "CASE WHEN p.contact_email <> '' THEN p.contact_email ELSE p.email END"

// sites lists the sites with their active people counts.
func sites(ctx context.Context, q rowQueryer) ([]contacts.Site, error) {
	// Counted in one grouped pass, as teams are (contacts.go): a correlated count per site
	// is the plan PostgreSQL got wrong on stale statistics.
	return sitesBy(ctx, q, `SELECT s.id, s.name, s.city, s.time_zone, s.active, COALESCE(c.n, 0)
		FROM sites s LEFT JOIN (SELECT ps.site_id, count(*) AS n FROM person_sites ps JOIN people p ON p.id = ps.person_id
			WHERE p.active = 1 GROUP BY ps.site_id) c ON c.site_id = s.id
		ORDER BY s.id`)
}

// siteRefs is sites without their people counts (People 0), as teamRefs.
func siteRefs(ctx context.Context, q rowQueryer) ([]contacts.Site, error) {
	return sitesBy(ctx, q, `SELECT id, name, city, time_zone, active, 0 FROM sites ORDER BY id`)
}

func sitesBy(ctx context.Context, q rowQueryer, query string) ([]contacts.Site, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("sites: %w", err)
	}
	defer rows.Close()
	out := []contacts.Site{}
	for rows.Next() {
		var st contacts.Site
		var active int
		if err := rows.Scan(&st.ID, &st.Name, &st.City, &st.TimeZone, &active, &st.People); err != nil {
			return nil, fmt.Errorf("sites: %w", err)
		}
		st.Active = active == 1
		out = append(out, st)
	}
	return out, rows.Err()
}

// withSites fills in the sites of people (pos: index of each person id), the primary
// first. ids, when not empty, are the people's ids as query arguments.
func withSites(ctx context.Context, q rowQueryer, people []contacts.Person, pos map[string]int, ids []any) error {
	query := "SELECT person_id, site_id FROM person_sites ORDER BY person_id, position"
	if len(ids) > 0 {
		query = "SELECT person_id, site_id FROM person_sites WHERE person_id IN (" + placeholders(1, len(ids)) + ") ORDER BY person_id, position"
	}
	rows, err := q.QueryContext(ctx, query, ids...)
	if err != nil {
		return fmt.Errorf("person sites: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var pid, site string
		if err := rows.Scan(&pid, &site); err != nil {
			return fmt.Errorf("person sites: %w", err)
		}
		if i, ok := pos[pid]; ok {
			people[i].Sites = append(people[i].Sites, site)
			if len(people[i].Sites) == 1 {
				people[i].PrimarySite = site
			}
		}
	}
	return rows.Err()
}

// withTeamSites fills in where each team works.
func withTeamSites(ctx context.Context, q rowQueryer, teams []contacts.Team) error {
	rows, err := q.QueryContext(ctx, "SELECT team_id, site_id FROM team_sites ORDER BY team_id, site_id")
	if err != nil {
		return fmt.Errorf("team sites: %w", err)
	}
	defer rows.Close()
	pos := map[string]int{}
	for i, t := range teams {
		pos[t.ID] = i
	}
	for rows.Next() {
		var tid, site string
		if err := rows.Scan(&tid, &site); err != nil {
			return fmt.Errorf("team sites: %w", err)
		}
		if i, ok := pos[tid]; ok {
			teams[i].Sites = append(teams[i].Sites, site)
		}
	}
	return rows.Err()
}

func (t contactsTx) savePersonSites(ctx context.Context, p contacts.Person, isNew bool) error {
	if !isNew {
		if _, err := t.tx.ExecContext(ctx, "DELETE FROM person_sites WHERE person_id = $1", p.ID); err != nil {
			return fmt.Errorf("save person sites: %w", err)
		}
	}
	for i, site := range p.Sites {
		if _, err := t.tx.ExecContext(ctx, "INSERT INTO person_sites (person_id, site_id, position) VALUES ($1, $2, $3)", p.ID, site, i); err != nil {
			return fmt.Errorf("save person sites: %w", err)
		}
	}
	return nil
}

func (t contactsTx) saveTeamSites(ctx context.Context, tm contacts.Team) error {
	if _, err := t.tx.ExecContext(ctx, "DELETE FROM team_sites WHERE team_id = $1", tm.ID); err != nil {
		return fmt.Errorf("save team sites: %w", err)
	}
	for _, site := range tm.Sites {
		if _, err := t.tx.ExecContext(ctx, "INSERT INTO team_sites (team_id, site_id) VALUES ($1, $2)", tm.ID, site); err != nil {
			return fmt.Errorf("save team sites: %w", err)
		}
	}
	return nil
}

// SaveSite creates or changes a site.
func (t contactsTx) SaveSite(ctx context.Context, st contacts.Site, isNew bool) error {
	var err error
	if isNew {
		_, err = t.tx.ExecContext(ctx, "INSERT INTO sites (id, name, city, time_zone, active, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
			st.ID, st.Name, st.City, st.TimeZone, boolInt(st.Active), millis(nowUTC()))
	} else {
		_, err = t.tx.ExecContext(ctx, "UPDATE sites SET name = $2, city = $3, time_zone = $4, active = $5 WHERE id = $1",
			st.ID, st.Name, st.City, st.TimeZone, boolInt(st.Active))
	}
	if err != nil {
		return fmt.Errorf("save site: %w", err)
	}
	return nil
}

// KnownSites returns the ids of the active sites, for checking ladder targets.
func (s *Escalation) KnownSites(ctx context.Context) (map[string]bool, error) {
	rows, err := s.db.read.QueryContext(ctx, "SELECT id FROM sites WHERE active = 1")
	if err != nil {
		return nil, fmt.Errorf("known sites: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}
