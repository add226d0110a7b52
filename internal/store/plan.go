package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/optimum-bcp/optimum/contacts"
)

// Audiences by plan (issue 16.4, contacts.Plan): a declaration to a large audience
// stores the audience's plan (incident_audience_plans, migration 0062) instead of one
// incident_recipients row a person, and the paging of the audience writes the rows
// batch by batch (escalationTx.AudienceAfter), each batch in its own transaction.

// argList appends vs to args and returns their placeholders, numbered from next on after
// the arguments already in args.
func argList(args *[]any, next int, vs []string) string {
	s := placeholders(next+len(*args), len(vs))
	for _, v := range vs {
		*args = append(*args, v)
	}
	return s
}

// planWhere is the SQL of contacts.Plan.Includes for the people row p, with its
// arguments numbered from next.
func planWhere(pl contacts.Plan, next int) (string, []any) {
	var (
		or   []string
		args []any
	)
	list := func(vs []string) string { return argList(&args, next, vs) }
	if len(pl.People) > 0 {
		or = append(or, "p.id IN ("+list(pl.People)+")")
	}
	if len(pl.Sites) > 0 {
		or = append(or, "EXISTS (SELECT 1 FROM person_sites ps WHERE ps.person_id = p.id AND ps.site_id IN ("+list(pl.Sites)+"))")
	}
	if len(pl.Teams) > 0 {
		q := "EXISTS (SELECT 1 FROM team_members m WHERE m.person_id = p.id AND m.team_id IN (" + list(pl.Teams) + ")"
		if len(pl.Roles) > 0 {
			q += " AND m.role IN (" + list(pl.Roles) + ")"
		}
		or = append(or, q+")")
	}
	if len(or) == 0 {
		return "p.active = 1 AND 1 = 0", nil
	}
	return "p.active = 1 AND (" + strings.Join(or, " OR ") + ")", args
}

// planIDs is the SQL of a query whose one column, person_id, holds once each (DISTINCT
// within a part, UNION across them) the people the plan names, active or not, found from
// the plan's side (the teams' memberships, the sites' people, the ids), with its arguments
// numbered from next. Joined to people it reads as many rows as the audience has, not the
// directory: with planWhere, a declaration to a team of three read every one of 100,000
// people twice, to count and to resolve them (issue 16.4).
func planIDs(pl contacts.Plan, next int) (string, []any) {
	var (
		parts []string
		args  []any
	)
	list := func(vs []string) string { return argList(&args, next, vs) }
	if len(pl.Teams) > 0 {
		q := "SELECT DISTINCT m.person_id AS person_id FROM team_members m WHERE m.team_id IN (" + list(pl.Teams) + ")"
		if len(pl.Roles) > 0 {
			q += " AND m.role IN (" + list(pl.Roles) + ")"
		}
		parts = append(parts, q)
	}
	if len(pl.Sites) > 0 {
		parts = append(parts, "SELECT DISTINCT ps.person_id AS person_id FROM person_sites ps WHERE ps.site_id IN ("+list(pl.Sites)+")")
	}
	if len(pl.People) > 0 {
		parts = append(parts, "SELECT p0.id AS person_id FROM people p0 WHERE p0.id IN ("+list(pl.People)+")")
	}
	if len(parts) == 0 {
		return "SELECT p0.id AS person_id FROM people p0 WHERE 1 = 0", nil
	}
	return strings.Join(parts, " UNION "), args
}

// planJoin is the FROM clause of the plan's active people as p, driven by planIDs (CROSS
// JOIN: SQLite keeps the order written, so the people are looked up by id, never scanned).
func planJoin(pl contacts.Plan, next int) (string, []any) {
	ids, args := planIDs(pl, next)
	return "(" + ids + ") x CROSS JOIN people p WHERE p.id = x.person_id AND p.active = 1", args
}

// CountAudience counts the people of the plan (contacts.PlanStore).
func (s *Contacts) CountAudience(ctx context.Context, pl contacts.Plan) (int, error) {
	from, args := planJoin(pl, 1)
	var n int
	if err := s.db.read.QueryRowContext(ctx, "SELECT count(*) FROM "+from, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count audience: %w", err)
	}
	return n, nil
}

// PlanPeople returns every person of the plan, in no particular order
// (contacts.PlanStore).
func (s *Contacts) PlanPeople(ctx context.Context, pl contacts.Plan) ([]contacts.Person, error) {
	from, args := planJoin(pl, 1)
	people, err := loadPeople(ctx, s.db.read, "SELECT "+personColumnsOfP+" FROM "+from, args...)
	if err != nil {
		return nil, fmt.Errorf("plan people: %w", err)
	}
	return people, nil
}

// personColumnsOfP is personColumns of the people row p.
var personColumnsOfP = qualified("p", personColumns)

// qualified prefixes each of the comma-separated columns with table.
func qualified(table, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = table + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// AudiencePeople returns up to limit people of the plan after the id after, by id
// (contacts.PlanStore).
func (s *Contacts) AudiencePeople(ctx context.Context, pl contacts.Plan, after string, limit int) ([]contacts.Person, error) {
	return audiencePeople(ctx, s.db.read, pl, after, limit)
}

func audiencePeople(ctx context.Context, q rowQueryer, pl contacts.Plan, after string, limit int) ([]contacts.Person, error) {
	where, args := planWhere(pl, 3)
	people, err := loadPeople(ctx, q, "SELECT "+personColumns+" FROM people p WHERE p.id > $1 AND "+where+" ORDER BY p.id LIMIT $2",
		append([]any{after, limit}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("audience people: %w", err)
	}
	return people, nil
}

// AudienceRefs returns the teams and sites an audience may name (contacts.PlanStore).
func (s *Contacts) AudienceRefs(ctx context.Context) ([]contacts.Team, []contacts.Site, error) {
	tx, err := s.db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, nil, fmt.Errorf("audience references: %w", err)
	}
	defer tx.Rollback()
	ts, err := teamRefs(ctx, tx)
	if err != nil {
		return nil, nil, err
	}
	ss, err := siteRefs(ctx, tx)
	return ts, ss, err
}

// DeferRecipients records the plan of the incident's audience, whose people are written
// as recipients while they are paged (incident.Tx).
func (t incidentTx) DeferRecipients(ctx context.Context, incidentID string, pl contacts.Plan) error {
	doc, err := json.Marshal(pl)
	if err != nil {
		return fmt.Errorf("defer recipients: %w", err)
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO incident_audience_plans (incident_id, plan, after_person, created_at)
		VALUES ($1, $2, '', $3)`, incidentID, string(doc), millis(nowUTC())); err != nil {
		return fmt.Errorf("defer recipients: %w", err)
	}
	return nil
}

// writePlannedRecipients writes, in tx, the recipients of the incident's audience plan
// (if it has one still being written) up to the point where want people after after are
// recipients and unpaged, or the plan is exhausted (its row then goes). Nothing when the
// incident's recipients were written with its declaration.
func writePlannedRecipients(ctx context.Context, tx *eventTx, incidentID, after string, want int) error {
	var (
		doc  string
		done string
	)
	err := tx.QueryRowContext(ctx, "SELECT plan, after_person FROM incident_audience_plans WHERE incident_id = $1", incidentID).Scan(&doc, &done)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return fmt.Errorf("audience plan: %w", err)
	}
	var pl contacts.Plan
	if err := json.Unmarshal([]byte(doc), &pl); err != nil {
		return fmt.Errorf("audience plan: %w", err)
	}
	// Written so far: everyone of the plan up to done. Count who is waiting after the
	// cursor already, then write more until want are.
	var waiting int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM incident_recipients r WHERE r.incident_id = $1 AND r.person_id > $2
		AND NOT EXISTS (SELECT 1 FROM escalation_pages g WHERE g.incident_id = r.incident_id AND g.person_id = r.person_id) LIMIT $3) x`,
		incidentID, after, want).Scan(&waiting); err != nil {
		return fmt.Errorf("audience plan: %w", err)
	}
	it := incidentTx{tx}
	for waiting < want {
		people, err := audiencePeople(ctx, tx, pl, max(done, after), want)
		if err != nil {
			return err
		}
		if len(people) == 0 {
			_, err := tx.ExecContext(ctx, "DELETE FROM incident_audience_plans WHERE incident_id = $1", incidentID)
			return err
		}
		rs := make([]contacts.Recipient, 0, len(people))
		for _, p := range people {
			rs = append(rs, contacts.RecipientOf(p))
		}
		if err := it.addRecipients(ctx, incidentID, rs, true); err != nil {
			return err
		}
		done = people[len(people)-1].ID
		waiting = 0
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM incident_recipients r WHERE r.incident_id = $1 AND r.person_id > $2
			AND NOT EXISTS (SELECT 1 FROM escalation_pages g WHERE g.incident_id = r.incident_id AND g.person_id = r.person_id) LIMIT $3) x`,
			incidentID, after, want).Scan(&waiting); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE incident_audience_plans SET after_person = $2 WHERE incident_id = $1", incidentID, done); err != nil {
			return err
		}
		if len(people) < want {
			_, err := tx.ExecContext(ctx, "DELETE FROM incident_audience_plans WHERE incident_id = $1", incidentID)
			return err
		}
	}
	return nil
}
