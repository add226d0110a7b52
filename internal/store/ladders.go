package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
)

var (
	_ escalation.Tx          = escalationTx{}
	_ escalation.LadderStore = (*Escalation)(nil)
)

// errLeaseLost rolls back work done for a row whose lease another node took meanwhile.
var errLeaseLost = errors.New("escalation: lease lost; another node took the work")

// Work runs fn in one write transaction that may append events.
func (s *Escalation) Work(ctx context.Context, fn func(escalation.Tx) error) error {
	return s.db.eventsTx(ctx, func(tx *eventTx) error { return fn(escalationTx{tx}) })
}

// ClaimRuns leases up to limit escalations due at now whose lease is free or expired.
// On PostgreSQL the rows are locked as they are picked and rows another node is claiming
// are skipped (dialect.skipLocked); the lease condition is repeated in the outer WHERE,
// so a row claimed meanwhile is never taken twice.
func (s *Escalation) ClaimRuns(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]string, error) {
	var ids []string
	err := s.db.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE escalations SET lease_owner = $1, lease_until = $2
			WHERE (lease_until IS NULL OR lease_until < $3) AND incident_id IN (
				SELECT incident_id FROM escalations WHERE due_at <= $3 AND (lease_until IS NULL OR lease_until < $3)
				ORDER BY due_at LIMIT $4`+s.db.d.skipLocked+`)
			RETURNING incident_id`, owner, millis(now.Add(lease)), millis(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim escalations: %w", err)
	}
	return ids, nil
}

// ClaimPages leases up to limit pages whose next reminder is due at now.
func (s *Escalation) ClaimPages(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]escalation.PageKey, error) {
	var keys []escalation.PageKey
	err := s.db.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE escalation_pages SET lease_owner = $1, lease_until = $2
			WHERE (lease_until IS NULL OR lease_until < $3) AND (incident_id, person_id) IN (
				SELECT incident_id, person_id FROM escalation_pages WHERE next_at <= $3 AND (lease_until IS NULL OR lease_until < $3)
				ORDER BY next_at LIMIT $4`+s.db.d.skipLocked+`)
			RETURNING incident_id, person_id`, owner, millis(now.Add(lease)), millis(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k escalation.PageKey
			if err := rows.Scan(&k.IncidentID, &k.PersonID); err != nil {
				return err
			}
			keys = append(keys, k)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim reminders: %w", err)
	}
	return keys, nil
}

// RunView returns an incident's escalation and pages; ENOTFOUND when it has none.
func (s *Escalation) RunView(ctx context.Context, incidentID string) (escalation.Run, []escalation.Page, error) {
	r, err := getRun(ctx, s.db.read, incidentID)
	if err != nil {
		return r, nil, err
	}
	pages, err := getPages(ctx, s.db.read, incidentID)
	return r, pages, err
}

// RunSummaries returns the escalation of each of the incidents that has one.
func (s *Escalation) RunSummaries(ctx context.Context, incidentIDs []string) (map[string]escalation.Summary, error) {
	args := make([]any, len(incidentIDs))
	for i, id := range incidentIDs {
		args[i] = id
	}
	rows, err := s.db.read.QueryContext(ctx, `SELECT e.incident_id, e.ladder_id, e.ladder, e.state, e.step, e.next_step_at,
		(SELECT count(*) FROM escalation_pages g WHERE g.incident_id = e.incident_id AND g.reason <> 'audience' AND g.reason <> 'self'
			AND g.acked_at IS NULL)
		FROM escalations e WHERE e.incident_id IN (`+placeholders(1, len(args))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("escalation summaries: %w", err)
	}
	defer rows.Close()
	out := map[string]escalation.Summary{}
	for rows.Next() {
		var (
			id     string
			sum    escalation.Summary
			ladder []byte
			next   sql.NullInt64
		)
		if err := rows.Scan(&id, &sum.Ladder, &ladder, &sum.State, &sum.Step, &next, &sum.Pending); err != nil {
			return nil, err
		}
		var l struct{ Steps []json.RawMessage }
		_ = json.Unmarshal(ladder, &l)
		sum.Step, sum.Steps, sum.NextStepAt = sum.Step+1, len(l.Steps), timePtr(next)
		out[id] = sum
	}
	return out, rows.Err()
}

const runColumns = `incident_id, ladder, state, step, round, step_at, next_step_at, ack_by, resolve_by, ack_sla, resolve_sla, coalesce(lease_owner, '')`

func getRun(ctx context.Context, q queryer, incidentID string) (escalation.Run, error) {
	var (
		r                        escalation.Run
		ladder                   []byte
		stepAt, ackBy, resolveBy int64
		next                     sql.NullInt64
	)
	err := q.QueryRowContext(ctx, "SELECT "+runColumns+" FROM escalations WHERE incident_id = $1", incidentID).
		Scan(&r.IncidentID, &ladder, &r.State, &r.Step, &r.Round, &stepAt, &next, &ackBy, &resolveBy, &r.AckSLA, &r.ResolveSLA, &r.LeaseOwner)
	if err != nil {
		return r, notFound(err, "Incident %s has no escalation.", incidentID)
	}
	r.StepAt, r.AckBy, r.ResolveBy, r.NextStepAt = fromMillis(stepAt), fromMillis(ackBy), fromMillis(resolveBy), timePtr(next)
	return r, json.Unmarshal(ladder, &r.Ladder)
}

const pageColumns = `incident_id, person_id, name, step, round, reason, schedule, reminder, paged_at, next_at, acked_at, stopped_at, stop_reason, coalesce(lease_owner, '')`

func scanPage(row interface{ Scan(...any) error }) (escalation.Page, error) {
	var (
		p                    escalation.Page
		schedule             []byte
		paged                int64
		next, acked, stopped sql.NullInt64
	)
	if err := row.Scan(&p.IncidentID, &p.PersonID, &p.Name, &p.Step, &p.Round, &p.Reason, &schedule, &p.Reminder, &paged, &next, &acked, &stopped, &p.StopReason, &p.LeaseOwner); err != nil {
		return p, err
	}
	p.PagedAt, p.NextAt, p.AckedAt, p.StoppedAt = fromMillis(paged), timePtr(next), timePtr(acked), timePtr(stopped)
	return p, json.Unmarshal(schedule, &p.Schedule)
}

func getPages(ctx context.Context, q rowQueryer, incidentID string) ([]escalation.Page, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+pageColumns+" FROM escalation_pages WHERE incident_id = $1 ORDER BY paged_at, name, person_id", incidentID)
	if err != nil {
		return nil, fmt.Errorf("pages: %w", err)
	}
	defer rows.Close()
	var out []escalation.Page
	for rows.Next() {
		p, err := scanPage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (t escalationTx) Incident(ctx context.Context, idOrFolio string) (incident.Incident, error) {
	return getIncident(ctx, t.tx, idOrFolio)
}

func (t escalationTx) Ladders(ctx context.Context) ([]escalation.Ladder, error) {
	recs, err := ladders(ctx, t.tx)
	out := make([]escalation.Ladder, len(recs))
	for i, r := range recs {
		out[i] = r.Ladder
	}
	return out, err
}

func (t escalationTx) StartRun(ctx context.Context, r escalation.Run, at time.Time) (bool, error) {
	ladder, _ := json.Marshal(r.Ladder)
	res, err := t.tx.ExecContext(ctx, `INSERT INTO escalations (incident_id, ladder_id, ladder, state, step, round, step_at, next_step_at,
		ack_by, resolve_by, ack_sla, resolve_sla, due_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) ON CONFLICT (incident_id) DO NOTHING`,
		r.IncidentID, r.Ladder.ID, string(ladder), r.State, r.Step, r.Round, millis(r.StepAt), nullMillis(r.NextStepAt),
		millis(r.AckBy), millis(r.ResolveBy), r.AckSLA, r.ResolveSLA, nullMillis(r.Due()), millis(at))
	if err != nil {
		return false, fmt.Errorf("start escalation: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t escalationTx) Run(ctx context.Context, incidentID string) (escalation.Run, error) {
	return getRun(ctx, t.tx, incidentID)
}

func (t escalationTx) SaveRun(ctx context.Context, r escalation.Run, owner string, at time.Time) (bool, error) {
	ladder, _ := json.Marshal(r.Ladder)
	q := `UPDATE escalations SET ladder_id = $2, ladder = $3, state = $4, step = $5, round = $6, step_at = $7, next_step_at = $8,
		ack_sla = $9, resolve_sla = $10, due_at = $11, updated_at = $12`
	args := []any{r.IncidentID, r.Ladder.ID, string(ladder), r.State, r.Step, r.Round, millis(r.StepAt), nullMillis(r.NextStepAt),
		r.AckSLA, r.ResolveSLA, nullMillis(r.Due()), millis(at)}
	if owner != "" {
		q += `, lease_owner = NULL, lease_until = NULL WHERE incident_id = $1 AND lease_owner = $13`
		args = append(args, owner)
	} else {
		q += ` WHERE incident_id = $1`
	}
	res, err := t.tx.ExecContext(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("save escalation: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if owner != "" {
			return false, errLeaseLost
		}
		return false, nil
	}
	return true, nil
}

func (t escalationTx) Pages(ctx context.Context, incidentID string) ([]escalation.Page, error) {
	return getPages(ctx, t.tx, incidentID)
}

func (t escalationTx) Page(ctx context.Context, incidentID, personID string) (escalation.Page, error) {
	p, err := scanPage(t.tx.QueryRowContext(ctx, "SELECT "+pageColumns+" FROM escalation_pages WHERE incident_id = $1 AND person_id = $2", incidentID, personID))
	return p, notFound(err, "%s was not paged for %s.", personID, incidentID)
}

func (t escalationTx) SavePage(ctx context.Context, p escalation.Page, owner string, at time.Time) (bool, error) {
	schedule, _ := json.Marshal(p.Schedule)
	if p.Schedule == nil {
		schedule = []byte("[]")
	}
	args := []any{p.IncidentID, p.PersonID, p.Name, p.Step, p.Round, p.Reason, string(schedule), p.Reminder, millis(p.PagedAt),
		nullMillis(p.NextAt), nullMillis(p.AckedAt), nullMillis(p.StoppedAt), p.StopReason, millis(at)}
	if owner != "" {
		res, err := t.tx.ExecContext(ctx, `UPDATE escalation_pages SET name = $3, step = $4, round = $5, reason = $6, schedule = $7,
			reminder = $8, paged_at = $9, next_at = $10, acked_at = $11, stopped_at = $12, stop_reason = $13, updated_at = $14,
			lease_owner = NULL, lease_until = NULL
			WHERE incident_id = $1 AND person_id = $2 AND lease_owner = $15`, append(args, owner)...)
		if err != nil {
			return false, fmt.Errorf("save page: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return false, errLeaseLost
		}
		return true, nil
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO escalation_pages (incident_id, person_id, name, step, round, reason, schedule, reminder,
		paged_at, next_at, acked_at, stopped_at, stop_reason, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (incident_id, person_id) DO UPDATE SET name = excluded.name, step = excluded.step, round = excluded.round,
		reason = excluded.reason, schedule = excluded.schedule, reminder = excluded.reminder, paged_at = excluded.paged_at,
		next_at = excluded.next_at, acked_at = excluded.acked_at, stopped_at = excluded.stopped_at, stop_reason = excluded.stop_reason,
		updated_at = excluded.updated_at, lease_owner = NULL, lease_until = NULL`, args...)
	if err != nil {
		return false, fmt.Errorf("save page: %w", err)
	}
	return true, nil
}

func (t escalationTx) StopPages(ctx context.Context, incidentID, personID string, at time.Time, reason string) (int, error) {
	q := `UPDATE escalation_pages SET stopped_at = $2, stop_reason = $3, next_at = NULL, updated_at = $2
		WHERE incident_id = $1 AND acked_at IS NULL AND stopped_at IS NULL`
	args := []any{incidentID, millis(at), truncate(reason, 200)}
	if personID != "" {
		q += " AND person_id = $4"
		args = append(args, personID)
	}
	res, err := t.tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("stop reminders: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// CancelQueued cancels the person's queued deliveries for the incident; each keeps its
// row (status cancelled, with the reason), and the incident's next delivery progress
// event counts them, so boards show it.
func (t escalationTx) CancelQueued(ctx context.Context, incidentID, personID string, since *time.Time, at time.Time, reason string) (int, error) {
	after := int64(-1 << 62)
	if since != nil {
		after = millis(*since)
	}
	res, err := t.tx.ExecContext(ctx, `UPDATE deliveries SET status = $3, error = $4, updated_at = $5
		WHERE subject = $1 AND recipient = $2 AND status = $6 AND due_at > $7`,
		incidentID, personID, broadcast.StatusCancelled, reason, millis(at), broadcast.StatusQueued, after)
	if err != nil {
		return 0, fmt.Errorf("cancel deliveries: %w", err)
	}
	n, _ := res.RowsAffected()
	if n == 0 {
		return 0, nil
	}
	return int(n), markProgress(ctx, t.tx, incidentID, at)
}

const contactColumns = `p.id, p.name, p.language, p.phone, p.sms_opted_out_at IS NOT NULL, coalesce(p.manager_id, ''), ` + alertEmail + `,
	p.phone_verified_at IS NOT NULL, p.phone2, p.phone2_verified_at IS NOT NULL, p.channel_order`

// contacts loads people (selected by a query over people p with contactColumns) and
// their browsers.
func (t escalationTx) contacts(ctx context.Context, query string, args ...any) ([]escalation.Contact, error) {
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("contacts: %w", err)
	}
	var out []escalation.Contact
	pos := map[string]int{}
	for rows.Next() {
		var (
			c     escalation.Contact
			order string
		)
		if err := rows.Scan(&c.PersonID, &c.Name, &c.Language, &c.Phone, &c.SMSOptedOut, &c.ManagerID, &c.Email,
			&c.PhoneVerified, &c.Phone2, &c.Phone2Verified, &order); err != nil {
			rows.Close()
			return nil, err
		}
		if order != "" {
			// Written by channelOrder from a validated list; a bad value is the default order.
			_ = json.Unmarshal([]byte(order), &c.Order)
		}
		if _, dup := pos[c.PersonID]; dup {
			continue
		}
		pos[c.PersonID] = len(out)
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	ids := make([]any, len(out))
	for i, c := range out {
		ids[i] = c.PersonID
	}
	subs, err := t.tx.QueryContext(ctx, `SELECT person_id, endpoint, p256dh, auth FROM push_subscriptions
		WHERE person_id IN (`+placeholders(1, len(ids))+`) ORDER BY created_at`, ids...)
	if err != nil {
		return nil, fmt.Errorf("push subscriptions: %w", err)
	}
	defer subs.Close()
	for subs.Next() {
		var pid, endpoint, p256dh, auth string
		if err := subs.Scan(&pid, &endpoint, &p256dh, &auth); err != nil {
			return nil, err
		}
		sub, _ := json.Marshal(map[string]any{"endpoint": endpoint, "keys": map[string]string{"p256dh": p256dh, "auth": auth}})
		out[pos[pid]].Push = append(out[pos[pid]].Push, string(sub))
	}
	return out, subs.Err()
}

// placeholders returns "$from, $from+1, …" for n arguments.
func placeholders(from, n int) string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = fmt.Sprintf("$%d", from+i)
	}
	return strings.Join(ps, ", ")
}

func (t escalationTx) Resolve(ctx context.Context, tg escalation.Target, paged []string) ([]escalation.Contact, error) {
	add := func(field, format string, args ...any) error {
		return optimum.Invalid("The target is unknown.", []optimum.FieldError{{Field: field, Message: fmt.Sprintf(format, args...)}})
	}
	switch {
	case tg.Service != "":
		var team string
		err := t.tx.QueryRowContext(ctx, "SELECT owner_team FROM services WHERE id = $1 AND active = 1", tg.Service).Scan(&team)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, add("service", "%q is not a service", tg.Service)
		} else if err != nil {
			return nil, err
		}
		return t.Resolve(ctx, escalation.Target{Team: team}, nil)
	case tg.Team != "":
		var n int
		if err := t.tx.QueryRowContext(ctx, "SELECT count(*) FROM teams WHERE id = $1 AND active = 1", tg.Team).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, add("team", "%q is not a team", tg.Team)
		}
		q := `SELECT ` + contactColumns + ` FROM team_members m JOIN people p ON p.id = m.person_id
			WHERE m.team_id = $1 AND p.active = 1`
		args := []any{tg.Team}
		if tg.Site != "" {
			if err := t.siteExists(ctx, tg.Site); err != nil {
				return nil, err
			}
			args = append(args, tg.Site)
			q += fmt.Sprintf(" AND p.id IN (SELECT person_id FROM person_sites WHERE site_id = $%d)", len(args))
		}
		if len(tg.Roles) > 0 {
			q += " AND m.role IN (" + placeholders(len(args)+1, len(tg.Roles)) + ")"
			for _, r := range tg.Roles {
				args = append(args, r)
			}
		}
		return t.contacts(ctx, q+" ORDER BY p.name, p.id", args...)
	case tg.Site != "":
		if err := t.siteExists(ctx, tg.Site); err != nil {
			return nil, err
		}
		return t.contacts(ctx, `SELECT `+contactColumns+` FROM person_sites s JOIN people p ON p.id = s.person_id
			WHERE s.site_id = $1 AND p.active = 1 ORDER BY p.name, p.id`, tg.Site)
	case tg.Person != "":
		cs, err := t.contacts(ctx, `SELECT `+contactColumns+` FROM people p WHERE (p.id = $1 OR p.email = $2) AND p.active = 1`,
			tg.Person, strings.ToLower(tg.Person))
		if err == nil && len(cs) == 0 {
			return nil, add("person", "%q is not an active person in the directory", tg.Person)
		}
		return cs, err
	case tg.ManagersOfPage:
		if len(paged) == 0 {
			return nil, nil
		}
		args := make([]any, len(paged))
		for i, id := range paged {
			args[i] = id
		}
		return t.contacts(ctx, `SELECT `+contactColumns+` FROM people w JOIN people p ON p.id = w.manager_id
			WHERE w.id IN (`+placeholders(1, len(args))+`) AND p.active = 1 ORDER BY p.name, p.id`, args...)
	}
	return nil, add("target", "names nobody")
}

// siteExists is nil when the site is an active site, else EINVALID naming it.
func (t escalationTx) siteExists(ctx context.Context, site string) error {
	var n int
	if err := t.tx.QueryRowContext(ctx, "SELECT count(*) FROM sites WHERE id = $1 AND active = 1", site).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return optimum.Invalid("The target is unknown.", []optimum.FieldError{{Field: "site", Message: fmt.Sprintf("%q is not a site", site)}})
	}
	return nil
}

func (t escalationTx) Contact(ctx context.Context, personID string) (escalation.Contact, error) {
	cs, err := t.contacts(ctx, `SELECT `+contactColumns+` FROM people p WHERE p.id = $1 AND p.active = 1`, personID)
	if err != nil {
		return escalation.Contact{}, err
	}
	if len(cs) == 0 {
		return escalation.Contact{}, optimum.Errorf(optimum.ENOTFOUND, "No active person has the id %q.", personID)
	}
	return cs[0], nil
}

func (t escalationTx) FirstAcker(ctx context.Context, incidentID string) (string, error) {
	var id string
	err := t.tx.QueryRowContext(ctx, "SELECT person_id FROM incident_acks WHERE incident_id = $1 ORDER BY at, person_id LIMIT 1", incidentID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

func (t escalationTx) Append(ctx context.Context, e optimum.Event) (int64, error) {
	return t.tx.appendEvent(ctx, e)
}

// Ladders returns the stored ladders, by id.
func (s *Escalation) Ladders(ctx context.Context) ([]escalation.LadderRecord, error) {
	return ladders(ctx, s.db.read)
}

func ladders(ctx context.Context, q rowQueryer) ([]escalation.LadderRecord, error) {
	rows, err := q.QueryContext(ctx, "SELECT doc, source, updated_at, updated_by FROM ladders ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("ladders: %w", err)
	}
	defer rows.Close()
	var out []escalation.LadderRecord
	for rows.Next() {
		var (
			r   escalation.LadderRecord
			doc []byte
			at  int64
		)
		if err := rows.Scan(&doc, &r.Source, &at, &r.UpdatedBy); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(doc, &r.Ladder); err != nil {
			return nil, fmt.Errorf("ladder: %w", err)
		}
		r.UpdatedAt = fromMillis(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// SaveLadder inserts or replaces a ladder and appends ladder.saved.
func (s *Escalation) SaveLadder(ctx context.Context, l escalation.Ladder, source string, actor optimum.Actor, at time.Time) error {
	doc, err := json.Marshal(l)
	if err != nil {
		return err
	}
	return s.db.eventsTx(ctx, func(tx *eventTx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ladders (id, doc, source, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, source = excluded.source, updated_at = excluded.updated_at,
			updated_by = excluded.updated_by`, l.ID, string(doc), source, millis(at), actor.Name); err != nil {
			return fmt.Errorf("save ladder: %w", err)
		}
		data, _ := json.Marshal(map[string]any{"ladder": json.RawMessage(doc), "source": source})
		_, err := tx.appendEvent(ctx, optimum.Event{Type: "ladder.saved", At: at, Actor: &actor, Data: data})
		return err
	})
}

// DeleteLadder removes a ladder and appends ladder.deleted.
func (s *Escalation) DeleteLadder(ctx context.Context, id string, actor optimum.Actor, at time.Time) error {
	return s.db.eventsTx(ctx, func(tx *eventTx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM ladders WHERE id = $1", id)
		if err != nil {
			return fmt.Errorf("delete ladder: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return optimum.Errorf(optimum.ENOTFOUND, "No ladder has the id %q.", truncate(id, 60))
		}
		data, _ := json.Marshal(map[string]string{"id": id})
		_, err = tx.appendEvent(ctx, optimum.Event{Type: "ladder.deleted", At: at, Actor: &actor, Data: data})
		return err
	})
}

// TeamSizes returns, per active team, its active members by role (a team without
// members maps to an empty count).
func (s *Escalation) TeamSizes(ctx context.Context) (map[string]map[string]int, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT t.id, coalesce(m.role, ''), count(p.id) FROM teams t
		LEFT JOIN team_members m ON m.team_id = t.id
		LEFT JOIN people p ON p.id = m.person_id AND p.active = 1
		WHERE t.active = 1 GROUP BY t.id, m.role`)
	if err != nil {
		return nil, fmt.Errorf("team sizes: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]int{}
	for rows.Next() {
		var (
			team, role string
			n          int
		)
		if err := rows.Scan(&team, &role, &n); err != nil {
			return nil, err
		}
		if out[team] == nil {
			out[team] = map[string]int{}
		}
		if role != "" {
			out[team][role] = n
		}
	}
	return out, rows.Err()
}

// KnownTargets returns the ids and emails of the active people and the ids of the active
// services, for checking a ladder's targets.
func (s *Escalation) KnownTargets(ctx context.Context) (map[string]bool, map[string]bool, error) {
	people, services := map[string]bool{}, map[string]bool{}
	rows, err := s.db.read.QueryContext(ctx, "SELECT id, email FROM people WHERE active = 1")
	if err != nil {
		return nil, nil, fmt.Errorf("known targets: %w", err)
	}
	for rows.Next() {
		var id, email string
		if err := rows.Scan(&id, &email); err != nil {
			rows.Close()
			return nil, nil, err
		}
		people[id], people[strings.ToLower(email)] = true, true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	rows, err = s.db.read.QueryContext(ctx, "SELECT id FROM services WHERE active = 1")
	if err != nil {
		return nil, nil, fmt.Errorf("known targets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, nil, err
		}
		services[id] = true
	}
	return people, services, rows.Err()
}
