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
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/incident"
)

// Incidents implements incident.Store.
type Incidents struct{ db *DB }

// Incidents returns the incident store.
func (db *DB) Incidents() *Incidents { return &Incidents{db: db} }

var _ incident.Store = (*Incidents)(nil)

// Tx runs fn in one write transaction.
func (s *Incidents) Tx(ctx context.Context, fn func(incident.Tx) error) error {
	return s.db.eventsTx(ctx, func(tx *eventTx) error { return fn(deskTx{incidentTx{tx}}) })
}

// Incident returns the incident with the id or folio.
func (s *Incidents) Incident(ctx context.Context, idOrFolio string) (incident.Incident, error) {
	return getIncident(ctx, s.db.read, idOrFolio)
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getIncident(ctx context.Context, q queryer, idOrFolio string) (incident.Incident, error) {
	var doc []byte
	err := q.QueryRowContext(ctx, "SELECT doc FROM incidents WHERE id = $1 OR folio = $2", idOrFolio, strings.ToUpper(idOrFolio)).Scan(&doc)
	if err != nil {
		return incident.Incident{}, notFound(err, "No incident has the id or folio %q.", truncate(idOrFolio, 60))
	}
	var inc incident.Incident
	if err := json.Unmarshal(doc, &inc); err != nil {
		return incident.Incident{}, fmt.Errorf("decode incident: %w", err)
	}
	return inc, nil
}

// Incidents lists incidents matching the filter, newest first.
func (s *Incidents) Incidents(ctx context.Context, f incident.Filter) ([]incident.Incident, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if len(f.Status) > 0 {
		ph := make([]string, len(f.Status))
		for i, st := range f.Status {
			ph[i] = arg(string(st))
		}
		where = append(where, "status IN ("+strings.Join(ph, ", ")+")")
	}
	if len(f.Priority) > 0 {
		ph := make([]string, len(f.Priority))
		for i, p := range f.Priority {
			ph[i] = arg(string(p))
		}
		where = append(where, "priority IN ("+strings.Join(ph, ", ")+")")
	}
	if f.Drill != nil {
		where = append(where, "drill = "+arg(boolInt(*f.Drill)))
	}
	switch {
	case f.Reporter != "" && f.Audience != "":
		p := arg(f.Audience)
		where = append(where, "(reporter_id = "+arg(f.Reporter)+" OR id IN (SELECT incident_id FROM incident_recipients WHERE person_id = "+p+
			") OR id IN (SELECT incident_id FROM escalation_pages WHERE person_id = "+p+"))")
	case f.Reporter != "":
		where = append(where, "reporter_id = "+arg(f.Reporter))
	}
	if !f.From.IsZero() {
		where = append(where, "created_at >= "+arg(millis(f.From)))
	}
	if !f.To.IsZero() {
		where = append(where, "created_at < "+arg(millis(f.To)))
	}
	for _, word := range strings.Fields(strings.ToLower(f.Text)) {
		where = append(where, "search LIKE "+arg("%"+escapeLike(word)+"%")+" ESCAPE '\\'")
	}
	if f.Before != "" {
		var (
			created int64
			folio   string
		)
		err := s.db.read.QueryRowContext(ctx, "SELECT created_at, folio FROM incidents WHERE id = $1", f.Before).Scan(&created, &folio)
		if err != nil {
			return nil, notFound(err, "The paging cursor %q is not an incident id.", truncate(f.Before, 60))
		}
		c, fo := arg(created), arg(folio)
		where = append(where, fmt.Sprintf("(created_at < %s OR (created_at = %s AND folio < %s))", c, c, fo))
	}
	q := "SELECT doc FROM incidents"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	// Folios grow in declaration order, so they break ties within a millisecond.
	q += " ORDER BY created_at DESC, folio DESC LIMIT " + arg(f.Limit)
	rows, err := s.db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	defer rows.Close()
	out := []incident.Incident{}
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("list incidents: %w", err)
		}
		var inc incident.Incident
		if err := json.Unmarshal(doc, &inc); err != nil {
			return nil, fmt.Errorf("decode incident: %w", err)
		}
		out = append(out, inc)
	}
	return out, rows.Err()
}

// Timeline returns the incident's events, oldest first.
func (s *Incidents) Timeline(ctx context.Context, id string) ([]optimum.Event, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT id, type, at, incident_id, actor, NULL, data
		FROM events WHERE incident_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	return scanEvents(rows)
}

// Acks returns the acknowledgements of the incident, first first.
func (s *Incidents) Acks(ctx context.Context, id string) ([]incident.Ack, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT person_id, name, channel, at FROM incident_acks
		WHERE incident_id = $1 ORDER BY at, person_id`, id)
	if err != nil {
		return nil, fmt.Errorf("acks: %w", err)
	}
	defer rows.Close()
	var out []incident.Ack
	for rows.Next() {
		var (
			a  incident.Ack
			at int64
		)
		if err := rows.Scan(&a.PersonID, &a.Name, &a.Channel, &at); err != nil {
			return nil, fmt.Errorf("acks: %w", err)
		}
		a.At = fromMillis(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// Recipients returns who the incident is for, by name.
func (s *Incidents) Recipients(ctx context.Context, id string) ([]contacts.Recipient, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT person_id, name, language, teams, channels FROM incident_recipients
		WHERE incident_id = $1 ORDER BY name, person_id`, id)
	if err != nil {
		return nil, fmt.Errorf("recipients: %w", err)
	}
	defer rows.Close()
	var out []contacts.Recipient
	for rows.Next() {
		var (
			r               contacts.Recipient
			teams, channels []byte
		)
		if err := rows.Scan(&r.PersonID, &r.Name, &r.Language, &teams, &channels); err != nil {
			return nil, fmt.Errorf("recipients: %w", err)
		}
		if err := errors.Join(json.Unmarshal(teams, &r.Teams), json.Unmarshal(channels, &r.Channels)); err != nil {
			return nil, fmt.Errorf("recipients: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// InAudience reports whether the person was alerted of the incident: a recipient, or
// paged by a ladder step.
func (s *Incidents) InAudience(ctx context.Context, id, personID string) (bool, error) {
	var n int
	err := s.db.read.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM incident_recipients WHERE incident_id = $1 AND person_id = $2)
		+ (SELECT count(*) FROM escalation_pages WHERE incident_id = $1 AND person_id = $2)`, id, personID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("in audience: %w", err)
	}
	return n > 0, nil
}

// Alerted returns the people the incident was sent to, by person id: its recipients and
// the people a ladder step paged, the people InAudience answers true for. The live
// stream shows them the incident whatever their role.
func (s *Incidents) Alerted(ctx context.Context, id string) (map[string]bool, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT person_id FROM incident_recipients WHERE incident_id = $1
		UNION SELECT person_id FROM escalation_pages WHERE incident_id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("alerted: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("alerted: %w", err)
		}
		out[p] = true
	}
	return out, rows.Err()
}

// AckLink returns the one-tap link with the token hash.
func (s *Incidents) AckLink(ctx context.Context, hash string) (incident.AckLink, error) {
	var (
		l       incident.AckLink
		expires int64
	)
	err := s.db.read.QueryRowContext(ctx, `SELECT l.incident_id, l.person_id, p.name, p.language, l.expires_at
		FROM ack_links l JOIN people p ON p.id = l.person_id WHERE l.hash = $1`, hash).Scan(&l.IncidentID, &l.PersonID, &l.Name, &l.Language, &expires)
	if err != nil {
		return l, notFound(err, "No such link.")
	}
	l.ExpiresAt = fromMillis(expires)
	return l, nil
}

// Deliveries returns the incident's deliveries, by person, in channel order.
func (s *Incidents) Deliveries(ctx context.Context, id string) (map[string][]incident.Delivery, error) {
	list, err := s.db.Deliveries().SubjectDeliveries(ctx, id)
	if err != nil {
		return nil, err
	}
	out := map[string][]incident.Delivery{}
	for _, d := range list {
		out[d.Recipient] = append(out[d.Recipient], incident.Delivery{Channel: d.Channel, Status: d.Status, Attempts: d.Attempts, Providers: d.Providers, Error: d.Error, At: d.UpdatedAt})
	}
	return out, nil
}

// incidentTx implements incident.Tx.
type incidentTx struct{ tx *eventTx }

func (t incidentTx) NextFolio(ctx context.Context, year int) (int, error) {
	var n int
	err := t.tx.QueryRowContext(ctx, `INSERT INTO folio_counters (year, last) VALUES ($1, 1)
		ON CONFLICT (year) DO UPDATE SET last = folio_counters.last + 1 RETURNING last`, year).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("next folio: %w", err)
	}
	return n, nil
}

func (t incidentTx) Insert(ctx context.Context, inc incident.Incident) error {
	doc, err := json.Marshal(inc)
	if err != nil {
		return fmt.Errorf("encode incident: %w", err)
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO incidents (id, folio, status, priority, drill, created_at, search, doc, reporter_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		inc.ID, inc.Folio, string(inc.Status), string(inc.Priority), boolInt(inc.Drill), millis(inc.CreatedAt), searchText(inc), string(doc), inc.Reporter.ID)
	if err != nil {
		return fmt.Errorf("insert incident: %w", err)
	}
	return indexIncident(ctx, t.tx, inc)
}

func (t incidentTx) Update(ctx context.Context, inc incident.Incident) error {
	doc, err := json.Marshal(inc)
	if err != nil {
		return fmt.Errorf("encode incident: %w", err)
	}
	res, err := t.tx.ExecContext(ctx, `UPDATE incidents SET status = $2, priority = $3, search = $4, doc = $5 WHERE id = $1`,
		inc.ID, string(inc.Status), string(inc.Priority), searchText(inc), string(doc))
	if err != nil {
		return fmt.Errorf("update incident: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return optimum.Errorf(optimum.ENOTFOUND, "Incident %s does not exist.", inc.ID)
	}
	return indexIncident(ctx, t.tx, inc)
}

// Lock reads the incident inside the write transaction. SQLite's immediate transactions
// already hold the write lock, so no row lock is needed.
func (t incidentTx) Lock(ctx context.Context, idOrFolio string) (incident.Incident, error) {
	return getIncident(ctx, t.tx, idOrFolio)
}

func (t incidentTx) AddRecipients(ctx context.Context, incidentID string, rs []contacts.Recipient) error {
	return t.addRecipients(ctx, incidentID, rs, false)
}

// addRecipients writes the recipients; with again, a person who is a recipient already
// is left as they are (a batch of an audience plan written a second time).
func (t incidentTx) addRecipients(ctx context.Context, incidentID string, rs []contacts.Recipient, again bool) error {
	conflict := ""
	if again {
		conflict = " ON CONFLICT (incident_id, person_id) DO NOTHING"
	}
	// Many rows a statement (issue 16.4), fewer on SQLite: its driver binds a statement's
	// values in time that grows faster than their number (20,000 rows at 500 a statement
	// took 8.9 s, at 10 a statement 0.8–1.3 s, one by one 1.7 s, on the loaded VM).
	perStatement := 500
	if t.tx.d.name == "sqlite" {
		perStatement = 10
	}
	for len(rs) > 0 {
		chunk := rs[:min(perStatement, len(rs))]
		rs = rs[len(chunk):]
		var q strings.Builder
		q.WriteString("INSERT INTO incident_recipients (incident_id, person_id, name, language, teams, channels) VALUES ")
		args := make([]any, 0, 1+5*len(chunk))
		args = append(args, incidentID)
		for i, r := range chunk {
			teams, _ := json.Marshal(nonNil(r.Teams))
			channels, _ := json.Marshal(nonNil(r.Channels))
			if i > 0 {
				q.WriteString(", ")
			}
			n := len(args)
			fmt.Fprintf(&q, "($1, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5)
			args = append(args, r.PersonID, r.Name, r.Language, string(teams), string(channels))
		}
		if _, err := t.tx.ExecContext(ctx, q.String()+conflict, args...); err != nil {
			return fmt.Errorf("add recipients: %w", err)
		}
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (t incidentTx) AddAck(ctx context.Context, incidentID string, a incident.Ack) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `INSERT INTO incident_acks (incident_id, person_id, name, channel, at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (incident_id, person_id) DO NOTHING`,
		incidentID, a.PersonID, a.Name, a.Channel, millis(a.At))
	if err != nil {
		return false, fmt.Errorf("add ack: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t incidentTx) IdempotentResult(ctx context.Context, scope, key string, since time.Time) (string, string, error) {
	var id, hash string
	err := t.tx.QueryRowContext(ctx, `SELECT incident_id, hash FROM idempotency_keys
		WHERE scope = $1 AND key = $2 AND created_at >= $3`, scope, key, millis(since)).Scan(&id, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	return id, hash, err
}

func (t incidentTx) SaveIdempotentResult(ctx context.Context, scope, key, hash, incidentID string, at time.Time) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO idempotency_keys (scope, key, hash, incident_id, created_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (scope, key) DO UPDATE SET hash = excluded.hash, incident_id = excluded.incident_id, created_at = excluded.created_at`,
		scope, key, hash, incidentID, millis(at))
	if err != nil {
		return fmt.Errorf("save idempotency key: %w", err)
	}
	return nil
}

func (t incidentTx) Append(ctx context.Context, e optimum.Event) (int64, error) {
	return t.tx.appendEvent(ctx, e)
}

// PurgeIdempotencyKeys forgets keys older than the cut-off.
func (db *DB) PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.write.ExecContext(ctx, "DELETE FROM idempotency_keys WHERE created_at < $1", millis(before))
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return res.RowsAffected()
}

func searchText(inc incident.Incident) string {
	parts := []string{inc.Folio, inc.Title, inc.Description, inc.Location}
	parts = append(parts, inc.Services...)
	parts = append(parts, inc.Causes...)
	return strings.ToLower(strings.Join(parts, " "))
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
