package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/drill"
	"github.com/optimum-bcp/optimum/incident"
)

// Drills implements drill.Store.
type Drills struct{ db *DB }

// Drills returns the drill store.
func (db *DB) Drills() *Drills { return &Drills{db: db} }

var _ drill.Store = (*Drills)(nil)

const activeRun = "status IN ('starting', 'running')"

// SavePlan inserts (create) or replaces a plan and appends drill.plan_saved.
func (s *Drills) SavePlan(ctx context.Context, p drill.Plan, create bool, actor optimum.Actor, at time.Time) error {
	doc, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode drill plan: %w", err)
	}
	return s.db.eventsTx(ctx, func(tx *eventTx) error {
		if create {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM drill_plans WHERE id = $1", p.ID).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return optimum.Errorf(optimum.ECONFLICT, "A drill plan with the id %q exists already.", p.ID)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO drill_plans (id, name, doc, schedule, next_at, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $6)`, p.ID, p.Name, string(doc), p.Schedule, nullMillis(p.NextRunAt), millis(at)); err != nil {
				return fmt.Errorf("insert drill plan: %w", err)
			}
		} else {
			res, err := tx.ExecContext(ctx, `UPDATE drill_plans SET name = $2, doc = $3, schedule = $4, next_at = $5, updated_at = $6
				WHERE id = $1 AND deleted_at IS NULL`, p.ID, p.Name, string(doc), p.Schedule, nullMillis(p.NextRunAt), millis(at))
			if err != nil {
				return fmt.Errorf("update drill plan: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return optimum.Errorf(optimum.ENOTFOUND, "No drill plan has the id %q.", truncate(p.ID, 60))
			}
		}
		_, err := tx.appendEvent(ctx, optimum.Event{Type: drill.EventPlanSaved, At: at, Actor: &actor, Data: doc})
		return err
	})
}

func scanPlan(row interface{ Scan(...any) error }) (drill.Plan, error) {
	var (
		doc  []byte
		next sql.NullInt64
		p    drill.Plan
	)
	if err := row.Scan(&doc, &next); err != nil {
		return p, err
	}
	if err := json.Unmarshal(doc, &p); err != nil {
		return p, fmt.Errorf("decode drill plan: %w", err)
	}
	p.NextRunAt = nil
	if next.Valid {
		t := fromMillis(next.Int64)
		p.NextRunAt = &t
	}
	return p, nil
}

// Plan returns a plan that was not deleted.
func (s *Drills) Plan(ctx context.Context, id string) (drill.Plan, error) {
	p, err := scanPlan(s.db.read.QueryRowContext(ctx, "SELECT doc, next_at FROM drill_plans WHERE id = $1 AND deleted_at IS NULL", id))
	return p, notFound(err, "No drill plan has the id %q.", truncate(id, 60))
}

// Plans returns the plans that were not deleted, by name.
func (s *Drills) Plans(ctx context.Context) ([]drill.Plan, error) {
	return s.plans(ctx, "SELECT doc, next_at FROM drill_plans WHERE deleted_at IS NULL ORDER BY name, id")
}

// DuePlans returns the plans whose next firing is at or before now.
func (s *Drills) DuePlans(ctx context.Context, now time.Time) ([]drill.Plan, error) {
	return s.plans(ctx, `SELECT doc, next_at FROM drill_plans WHERE next_at IS NOT NULL AND next_at <= $1
		AND deleted_at IS NULL ORDER BY next_at, id`, millis(now))
}

func (s *Drills) plans(ctx context.Context, q string, args ...any) ([]drill.Plan, error) {
	rows, err := s.db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("drill plans: %w", err)
	}
	defer rows.Close()
	out := []drill.Plan{}
	for rows.Next() {
		p, err := scanPlan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// DeletePlan hides a plan; its runs stay. ECONFLICT while it has a run going.
func (s *Drills) DeletePlan(ctx context.Context, id string, actor optimum.Actor, at time.Time) error {
	return s.db.eventsTx(ctx, func(tx *eventTx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM drill_runs WHERE plan_id = $1 AND "+activeRun, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return optimum.Errorf(optimum.ECONFLICT, "Drill plan %q has a run going: cancel it first.", truncate(id, 60))
		}
		res, err := tx.ExecContext(ctx, "UPDATE drill_plans SET deleted_at = $2, next_at = NULL WHERE id = $1 AND deleted_at IS NULL", id, millis(at))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return optimum.Errorf(optimum.ENOTFOUND, "No drill plan has the id %q.", truncate(id, 60))
		}
		data, _ := json.Marshal(map[string]string{"id": id})
		_, err = tx.appendEvent(ctx, optimum.Event{Type: drill.EventPlanDeleted, At: at, Actor: &actor, Data: data})
		return err
	})
}

func insertRun(ctx context.Context, tx *eventTx, r drill.Run, owner string, leaseUntil time.Time, onConflict string) (bool, error) {
	doc, err := json.Marshal(r)
	if err != nil {
		return false, fmt.Errorf("encode drill run: %w", err)
	}
	var lease sql.NullInt64
	var leaseOwner sql.NullString
	if r.Status == drill.StatusStarting {
		lease, leaseOwner = sql.NullInt64{Int64: millis(leaseUntil), Valid: true}, sql.NullString{String: owner, Valid: true}
	}
	var ended sql.NullInt64
	if r.Status == drill.StatusSkipped {
		ended = sql.NullInt64{Int64: millis(r.CreatedAt), Valid: true}
	}
	rows, err := tx.QueryContext(ctx, `INSERT INTO drill_runs (id, plan_id, status, trigger_kind, scheduled_for, reason, doc,
		lease_owner, lease_until, created_at, ended_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) `+onConflict+` RETURNING id`,
		r.ID, r.PlanID, r.Status, r.Trigger, nullMillis(r.ScheduledFor), r.Reason, string(doc), leaseOwner, lease, millis(r.CreatedAt), ended)
	if err != nil {
		return false, fmt.Errorf("insert drill run: %w", err)
	}
	inserted := rows.Next()
	rows.Close()
	return inserted, rows.Err()
}

// CreateRun inserts a starting run; ECONFLICT when its plan has one going.
func (s *Drills) CreateRun(ctx context.Context, r drill.Run, owner string, leaseUntil time.Time) error {
	return s.db.eventsTx(ctx, func(tx *eventTx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM drill_runs WHERE plan_id = $1 AND "+activeRun, r.PlanID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return optimum.Errorf(optimum.ECONFLICT, "Drill plan %q already has a run going: cancel it or wait for its window to close.", r.PlanID)
		}
		_, err := insertRun(ctx, tx, r, owner, leaseUntil, "")
		return err
	})
}

// FireSchedule claims the (plan, scheduled time) of a firing: the unique key lets one
// node win; the winner moves the plan's next time on in the same transaction.
func (s *Drills) FireSchedule(ctx context.Context, r drill.Run, next *time.Time, owner string, leaseUntil time.Time) (bool, error) {
	won := false
	err := s.db.eventsTx(ctx, func(tx *eventTx) error {
		var err error
		if won, err = insertRun(ctx, tx, r, owner, leaseUntil, "ON CONFLICT DO NOTHING"); err != nil || !won {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE drill_plans SET next_at = $3 WHERE id = $1 AND next_at = $2",
			r.PlanID, nullMillis(r.ScheduledFor), nullMillis(next)); err != nil {
			return err
		}
		if r.Status == drill.StatusSkipped {
			data, _ := json.Marshal(map[string]any{"run_id": r.ID, "plan_id": r.PlanID, "scheduled_for": r.ScheduledFor, "reason": r.Reason})
			_, err := tx.appendEvent(ctx, optimum.Event{Type: drill.EventSkipped, At: r.CreatedAt, Actor: &r.StartedBy, Data: data})
			return err
		}
		return nil
	})
	return won, err
}

// ClaimStale leases the starting runs whose node's lease expired.
func (s *Drills) ClaimStale(ctx context.Context, owner string, now, leaseUntil time.Time) ([]drill.Run, error) {
	var out []drill.Run
	err := s.db.eventsTx(ctx, func(tx *eventTx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE drill_runs SET lease_owner = $1, lease_until = $2
			WHERE status = 'starting' AND lease_until < $3 RETURNING `+drillRunColumns, owner, millis(leaseUntil), millis(now))
		if err != nil {
			return fmt.Errorf("claim drill runs: %w", err)
		}
		out, err = scanRuns(rows)
		return err
	})
	return out, err
}

// MarkRunning records the started run, snapshots whom it targets and appends
// drill.started, while owner holds the start's lease.
func (s *Drills) MarkRunning(ctx context.Context, r drill.Run, owner string, at time.Time) (bool, error) {
	doc, err := json.Marshal(r)
	if err != nil {
		return false, err
	}
	ok := false
	err = s.db.eventsTx(ctx, func(tx *eventTx) error {
		res, err := tx.ExecContext(ctx, `UPDATE drill_runs SET status = 'running', incident_id = $3, folio = $4, doc = $5,
			started_at = $6, ends_at = $7, lease_owner = NULL, lease_until = NULL
			WHERE id = $1 AND status = 'starting' AND lease_owner = $2`,
			r.ID, owner, r.IncidentID, r.Folio, string(doc), nullMillis(r.StartedAt), nullMillis(r.EndsAt))
		if err != nil {
			return fmt.Errorf("start drill run: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		ok = true
		if err := snapshotTargets(ctx, tx, r); err != nil {
			return err
		}
		inc, err := getIncident(ctx, tx, r.IncidentID)
		if err != nil {
			return err
		}
		return drillEvent(ctx, tx, drill.EventStarted, at, r.StartedBy, inc, r)
	})
	return ok, err
}

func drillEvent(ctx context.Context, tx *eventTx, typ string, at time.Time, actor optimum.Actor, inc incident.Incident, r drill.Run) error {
	snap, err := json.Marshal(inc)
	if err != nil {
		return err
	}
	data, _ := json.Marshal(map[string]any{"run_id": r.ID, "plan_id": r.PlanID, "plan": r.Plan.Name, "status": r.Status,
		"announced": r.Announced, "trigger": r.Trigger, "ends_at": r.EndsAt})
	_, err = tx.appendEvent(ctx, optimum.Event{Type: typ, At: at, Actor: &actor, IncidentID: inc.ID, Incident: snap, Data: data})
	return err
}

// snapshotTargets keeps whom the run targets, with their roles in the drill's teams and
// their channels, as the directory is now: later edits do not change the report.
func snapshotTargets(ctx context.Context, tx *eventTx, r drill.Run) error {
	// A proved second phone counts as a phone, as alerts use it (docs/sites.md).
	rows, err := tx.QueryContext(ctx, `SELECT r.person_id, p.name,
		p.phone <> '' OR (p.phone2 <> '' AND p.phone2_verified_at IS NOT NULL), p.sms_opted_out_at IS NOT NULL,
		(SELECT count(*) FROM push_subscriptions s WHERE s.person_id = r.person_id),
		(p.phone <> '' AND p.phone_verified_at IS NOT NULL) OR (p.phone2 <> '' AND p.phone2_verified_at IS NOT NULL),
		p.email <> ''
		FROM incident_recipients r JOIN people p ON p.id = r.person_id WHERE r.incident_id = $1 ORDER BY p.name, p.id`, r.IncidentID)
	if err != nil {
		return fmt.Errorf("drill targets: %w", err)
	}
	var ts []drill.Target
	pos := map[string]int{}
	for rows.Next() {
		var t drill.Target
		var phoneVerified bool
		if err := rows.Scan(&t.PersonID, &t.Name, &t.HasPhone, &t.SMSOptedOut, &t.Push, &phoneVerified, &t.HasEmail); err != nil {
			rows.Close()
			return err
		}
		t.Verified = phoneVerified || t.Push > 0
		t.Memberships = []contacts.Membership{}
		pos[t.PersonID] = len(ts)
		ts = append(ts, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	ms, err := tx.QueryContext(ctx, `SELECT m.person_id, m.team_id, m.role FROM team_members m
		JOIN incident_recipients r ON r.person_id = m.person_id AND r.incident_id = $1 ORDER BY m.team_id`, r.IncidentID)
	if err != nil {
		return fmt.Errorf("drill targets: %w", err)
	}
	for ms.Next() {
		var pid string
		var m contacts.Membership
		if err := ms.Scan(&pid, &m.Team, &m.Role); err != nil {
			ms.Close()
			return err
		}
		if i, ok := pos[pid]; ok && slices.Contains(r.Plan.Teams, m.Team) {
			ts[i].Memberships = append(ts[i].Memberships, m)
		}
	}
	ms.Close()
	if err := ms.Err(); err != nil {
		return err
	}
	// The sites of each person (sites.go), for the report's figures per site.
	ss, err := tx.QueryContext(ctx, `SELECT s.person_id, s.site_id FROM person_sites s
		JOIN incident_recipients r ON r.person_id = s.person_id AND r.incident_id = $1 ORDER BY s.person_id, s.position`, r.IncidentID)
	if err != nil {
		return fmt.Errorf("drill targets: %w", err)
	}
	for ss.Next() {
		var pid, site string
		if err := ss.Scan(&pid, &site); err != nil {
			ss.Close()
			return err
		}
		if i, ok := pos[pid]; ok {
			ts[i].Sites = append(ts[i].Sites, site)
		}
	}
	ss.Close()
	if err := ss.Err(); err != nil {
		return err
	}
	for _, t := range ts {
		mj, _ := json.Marshal(t.Memberships)
		sj, _ := json.Marshal(nonNil(t.Sites))
		if _, err := tx.ExecContext(ctx, `INSERT INTO drill_run_targets (run_id, person_id, name, memberships, has_phone, sms_opted_out, push, verified, has_email, sites)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, r.ID, t.PersonID, t.Name, string(mj), boolInt(t.HasPhone), boolInt(t.SMSOptedOut), t.Push, boolInt(t.Verified), boolInt(t.HasEmail), string(sj)); err != nil {
			return fmt.Errorf("drill targets: %w", err)
		}
	}
	return nil
}

// MarkFailed ends a start that was refused.
func (s *Drills) MarkFailed(ctx context.Context, runID, reason string, at time.Time) error {
	_, err := s.db.write.ExecContext(ctx, `UPDATE drill_runs SET status = 'failed', reason = $2, ended_at = $3, lease_owner = NULL, lease_until = NULL
		WHERE id = $1 AND status = 'starting'`, runID, truncate(reason, 500), millis(at))
	return err
}

// Finish ends a running run: the run, its incident's status and the event change at once.
func (s *Drills) Finish(ctx context.Context, runID, status string, incStatus incident.Status, actor optimum.Actor, at time.Time, event string) (drill.Run, bool, error) {
	var (
		r  drill.Run
		ok bool
	)
	err := s.db.eventsTx(ctx, func(tx *eventTx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE drill_runs SET status = $2, ended_at = $3 WHERE id = $1 AND status = 'running' RETURNING `+drillRunColumns,
			runID, status, millis(at))
		if err != nil {
			return fmt.Errorf("finish drill run: %w", err)
		}
		runs, err := scanRuns(rows)
		if err != nil || len(runs) == 0 {
			return err
		}
		r, ok = runs[0], true
		inc, err := getIncident(ctx, tx, r.IncidentID)
		if err != nil {
			return err
		}
		if inc.Status.Open() || (incStatus == incident.StatusCancelled && inc.Status != incident.StatusCancelled) {
			inc.Status, inc.UpdatedAt = incStatus, at
			switch incStatus {
			case incident.StatusResolved:
				// Still open to (late) acknowledgements, which the report counts as late.
				inc.Resolution, inc.ResolvedAt = "Drill ended: its window closed.", &at
			case incident.StatusCancelled:
				inc.ClosedAt = &at
			}
			if err := (incidentTx{tx}).Update(ctx, inc); err != nil {
				return err
			}
		}
		return drillEvent(ctx, tx, event, at, actor, inc, r)
	})
	return r, ok, err
}

// DueRuns returns the running runs whose window closed by now.
func (s *Drills) DueRuns(ctx context.Context, now time.Time) ([]drill.Run, error) {
	return s.runs(ctx, "SELECT "+drillRunColumns+" FROM drill_runs WHERE status = 'running' AND ends_at <= $1 ORDER BY ends_at", millis(now))
}

// ActiveRuns returns the starting and running runs.
func (s *Drills) ActiveRuns(ctx context.Context) ([]drill.Run, error) {
	return s.runs(ctx, "SELECT "+drillRunColumns+" FROM drill_runs WHERE "+activeRun+" ORDER BY created_at")
}

// Run returns a run.
func (s *Drills) Run(ctx context.Context, id string) (drill.Run, error) {
	runs, err := s.runs(ctx, "SELECT "+drillRunColumns+" FROM drill_runs WHERE id = $1", id)
	if err != nil {
		return drill.Run{}, err
	}
	if len(runs) == 0 {
		return drill.Run{}, optimum.Errorf(optimum.ENOTFOUND, "No drill run has the id %q.", truncate(id, 60))
	}
	return runs[0], nil
}

// Runs returns a plan's runs (every plan's for ""), newest first.
func (s *Drills) Runs(ctx context.Context, planID string, limit int) ([]drill.Run, error) {
	if planID == "" {
		return s.runs(ctx, "SELECT "+drillRunColumns+" FROM drill_runs ORDER BY created_at DESC, id DESC LIMIT $1", limit)
	}
	return s.runs(ctx, "SELECT "+drillRunColumns+" FROM drill_runs WHERE plan_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2", planID, limit)
}

// drillRunColumns are read over the document: they change after the run is written.
const drillRunColumns = "doc, status, incident_id, folio, reason, started_at, ends_at, ended_at"

func (s *Drills) runs(ctx context.Context, q string, args ...any) ([]drill.Run, error) {
	rows, err := s.db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("drill runs: %w", err)
	}
	return scanRuns(rows)
}

func scanRuns(rows *sql.Rows) ([]drill.Run, error) {
	defer rows.Close()
	out := []drill.Run{}
	for rows.Next() {
		var (
			doc                     []byte
			r                       drill.Run
			status, inc, folio, why string
			started, ends, ended    sql.NullInt64
		)
		if err := rows.Scan(&doc, &status, &inc, &folio, &why, &started, &ends, &ended); err != nil {
			return nil, fmt.Errorf("drill runs: %w", err)
		}
		if err := json.Unmarshal(doc, &r); err != nil {
			return nil, fmt.Errorf("decode drill run: %w", err)
		}
		r.Status, r.IncidentID, r.Folio, r.Reason = status, inc, folio, why
		r.StartedAt, r.EndsAt, r.EndedAt = optMillis(started), optMillis(ends), optMillis(ended)
		out = append(out, r)
	}
	return out, rows.Err()
}

func optMillis(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMillis(v.Int64)
	return &t
}

// Facts reads what the run's report is computed from.
func (s *Drills) Facts(ctx context.Context, r drill.Run) (drill.Facts, error) {
	var f drill.Facts
	rows, err := s.db.read.QueryContext(ctx, `SELECT person_id, name, memberships, has_phone, sms_opted_out, push, verified, has_email, sites
		FROM drill_run_targets WHERE run_id = $1 ORDER BY name, person_id`, r.ID)
	if err != nil {
		return f, fmt.Errorf("drill facts: %w", err)
	}
	for rows.Next() {
		var t drill.Target
		var ms, sj []byte
		if err := rows.Scan(&t.PersonID, &t.Name, &ms, &t.HasPhone, &t.SMSOptedOut, &t.Push, &t.Verified, &t.HasEmail, &sj); err != nil {
			rows.Close()
			return f, err
		}
		if err := json.Unmarshal(sj, &t.Sites); err != nil {
			rows.Close()
			return f, err
		}
		if err := json.Unmarshal(ms, &t.Memberships); err != nil {
			rows.Close()
			return f, err
		}
		f.Targets = append(f.Targets, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil || r.IncidentID == "" {
		return f, err
	}
	ds, err := s.db.read.QueryContext(ctx, `SELECT recipient, channel, status, error, sent_at, delivered_at, updated_at
		FROM deliveries WHERE subject = $1 ORDER BY recipient, channel, created_at`, r.IncidentID)
	if err != nil {
		return f, fmt.Errorf("drill facts: %w", err)
	}
	for ds.Next() {
		var (
			d               drill.DeliveryFact
			sent, delivered sql.NullInt64
			updated         int64
		)
		if err := ds.Scan(&d.PersonID, &d.Channel, &d.Status, &d.Error, &sent, &delivered, &updated); err != nil {
			ds.Close()
			return f, err
		}
		if d.Status == broadcast.StatusSent || d.Status == broadcast.StatusDelivered {
			at := fromMillis(updated)
			if sent.Valid {
				at = fromMillis(sent.Int64)
			} else if delivered.Valid {
				at = fromMillis(delivered.Int64)
			}
			d.ReachedAt = &at
		}
		f.Deliveries = append(f.Deliveries, d)
	}
	ds.Close()
	if err := ds.Err(); err != nil {
		return f, err
	}
	acks, err := s.db.Incidents().Acks(ctx, r.IncidentID)
	if err != nil {
		return f, err
	}
	for _, a := range acks {
		f.Acks = append(f.Acks, drill.AckFact{PersonID: a.PersonID, Name: a.Name, Channel: a.Channel, At: a.At})
	}
	f.Chats, err = s.chatFacts(ctx, r.IncidentID)
	return f, err
}

// chatFacts reads the first post about the incident to each team chat channel (deleted
// ones too: they got it), with its last attempt's reason: the service's answer or why it
// failed.
func (s *Drills) chatFacts(ctx context.Context, incidentID string) ([]drill.ChatFact, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT s.team_id, s.id, s.kind, s.name, p.title, p.status, p.error, p.created_at, p.sent_at,
			COALESCE((SELECT a.reason FROM chat_post_attempts a WHERE a.post_id = p.id ORDER BY a.attempt DESC LIMIT 1), '')
		FROM chat_posts p JOIN chat_subscriptions s ON s.id = p.subscription_id
		WHERE p.incident_id = $1 AND s.kind IN ('teams', 'slack')
			AND p.event_id = (SELECT min(q.event_id) FROM chat_posts q WHERE q.subscription_id = p.subscription_id AND q.incident_id = $1)
		ORDER BY s.team_id, s.name, s.id`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("drill chat facts: %w", err)
	}
	defer rows.Close()
	var out []drill.ChatFact
	for rows.Next() {
		var (
			c       drill.ChatFact
			created int64
			sent    sql.NullInt64
		)
		if err := rows.Scan(&c.Team, &c.Subscription, &c.Kind, &c.Name, &c.Title, &c.Status, &c.Error, &created, &sent, &c.Answer); err != nil {
			return nil, fmt.Errorf("drill chat facts: %w", err)
		}
		c.QueuedAt, c.SentAt = fromMillis(created), optMillis(sent)
		out = append(out, c)
	}
	return out, rows.Err()
}
