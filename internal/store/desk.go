package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/incident"
)

// Desk implements incident.DeskStore: the requester's messages, conformity links,
// scenario templates, the search index and the delivery figures of reports.
type Desk struct{ db *DB }

// Desk returns the incident desk's store.
func (db *DB) Desk() *Desk { return &Desk{db: db} }

var _ incident.DeskStore = (*Desk)(nil)

// Tx runs fn in one write transaction that may append events.
func (s *Desk) Tx(ctx context.Context, fn func(incident.DeskTx) error) error {
	return s.db.eventsTx(ctx, func(tx *eventTx) error { return fn(deskTx{incidentTx{tx}}) })
}

// ConformityLink returns the link with the token hash. A link of a request is used once
// the request is closed (answered, replaced, timed out) and expires with it.
func (s *Desk) ConformityLink(ctx context.Context, hash string) (incident.ConformityLink, error) {
	var (
		l                incident.ConformityLink
		created, expires int64
		used             sql.NullInt64
	)
	err := s.db.read.QueryRowContext(ctx, `SELECT l.hash, l.incident_id, l.requester_id, l.requester_name, l.language, l.created_at,
			COALESCE(r.expires_at, l.expires_at), COALESCE(l.used_at, r.closed_at)
		FROM conformity_links l LEFT JOIN conformity_requests r ON r.id = l.request_id
		WHERE l.hash = $1`, hash).Scan(&l.Hash, &l.IncidentID, &l.Requester.ID, &l.Requester.Name, &l.Language, &created, &expires, &used)
	if err != nil {
		return l, notFound(err, "No such link.")
	}
	l.CreatedAt, l.ExpiresAt = fromMillis(created), fromMillis(expires)
	if used.Valid {
		t := fromMillis(used.Int64)
		l.UsedAt = &t
	}
	return l, nil
}

// MintConformityLink stores the hash of a new link to the incident's newest open,
// unexpired conformity request; false when it has none.
func (s *Desk) MintConformityLink(ctx context.Context, incidentID, hash string, at time.Time) (bool, error) {
	res, err := s.db.write.ExecContext(ctx, `INSERT INTO conformity_links
			(hash, incident_id, requester_id, requester_name, language, created_at, expires_at, request_id)
		SELECT $1, r.incident_id, r.requester_id, r.requester_name, r.language, $2, r.expires_at, r.id
		FROM conformity_requests r
		WHERE r.incident_id = $3 AND r.closed_at IS NULL AND r.expires_at > $2
		ORDER BY r.created_at DESC, r.id DESC LIMIT 1`, hash, millis(at), incidentID)
	if err != nil {
		return false, fmt.Errorf("mint conformity link: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// AskedRequests returns the folios of the open incidents the person declared (as
// themselves or through their user) that asked them a question, newest first.
func (s *Desk) AskedRequests(ctx context.Context, personID string) ([]string, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT i.folio FROM incidents i
		WHERE i.status NOT IN ('closed', 'cancelled')
		AND (i.reporter_id = $1 OR i.reporter_id IN (SELECT u.id FROM users u WHERE `+userPerson("u")+` = $2))
		AND EXISTS (SELECT 1 FROM incident_messages m WHERE m.incident_id = i.id AND m.kind = 'question')
		ORDER BY i.created_at DESC, i.id DESC LIMIT 20`, personID, personID)
	if err != nil {
		return nil, fmt.Errorf("asked requests: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var folio string
		if err := rows.Scan(&folio); err != nil {
			return nil, err
		}
		out = append(out, folio)
	}
	return out, rows.Err()
}

// Messages returns what the incident's requester was told, oldest first.
func (s *Desk) Messages(ctx context.Context, incidentID string) ([]incident.Message, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT id, incident_id, kind, person_id, person_name, language, text, url, at
		FROM incident_messages WHERE incident_id = $1 ORDER BY at, id`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("messages: %w", err)
	}
	defer rows.Close()
	var out []incident.Message
	for rows.Next() {
		var (
			m  incident.Message
			at int64
		)
		if err := rows.Scan(&m.ID, &m.IncidentID, &m.Kind, &m.To.ID, &m.To.Name, &m.Language, &m.Text, &m.URL, &at); err != nil {
			return nil, fmt.Errorf("messages: %w", err)
		}
		m.At = fromMillis(at)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Templates returns the stored scenario templates, by id.
func (s *Desk) Templates(ctx context.Context) ([]incident.Template, error) {
	rows, err := s.db.read.QueryContext(ctx, "SELECT doc FROM incident_templates ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	defer rows.Close()
	var out []incident.Template
	for rows.Next() {
		var (
			doc []byte
			t   incident.Template
		)
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		if err := json.Unmarshal(doc, &t); err != nil {
			return nil, fmt.Errorf("decode template: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeliveryFigures counts the incident's deliveries per channel and status.
func (s *Desk) DeliveryFigures(ctx context.Context, incidentID string) ([]incident.ChannelFigures, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT channel, status, count(*) FROM deliveries
		WHERE subject = $1 GROUP BY channel, status ORDER BY channel, status`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("delivery figures: %w", err)
	}
	defer rows.Close()
	var out []incident.ChannelFigures
	for rows.Next() {
		var (
			channel, status string
			n               int
		)
		if err := rows.Scan(&channel, &status, &n); err != nil {
			return nil, fmt.Errorf("delivery figures: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Channel != channel {
			out = append(out, incident.ChannelFigures{Channel: channel})
		}
		c := &out[len(out)-1]
		c.Total += n
		switch status {
		case broadcast.StatusQueued, broadcast.StatusSending:
			c.Queued += n
		case broadcast.StatusSent:
			c.Sent += n
		case broadcast.StatusDelivered:
			c.Delivered += n
		case broadcast.StatusFailed:
			c.Failed += n
		default:
			c.Other += n
		}
	}
	return out, rows.Err()
}

// deskTx implements incident.DeskTx (and incident.Tx, which it embeds).
type deskTx struct{ incidentTx }

func (t deskTx) PersonName(ctx context.Context, id string) (string, error) {
	var name string
	err := t.tx.QueryRowContext(ctx, "SELECT name FROM people WHERE id = $1 AND active = 1", id).Scan(&name)
	return name, notFound(err, "No person has the id %q.", truncate(id, 60))
}

func (t deskTx) TeamExists(ctx context.Context, id string) (bool, error) {
	var n int
	err := t.tx.QueryRowContext(ctx, "SELECT count(*) FROM teams WHERE id = $1", id).Scan(&n)
	return n > 0, err
}

// PersonLanguage finds the language of the person behind an actor id: a person id, or a
// user linked to a person.
func (t deskTx) PersonLanguage(ctx context.Context, id string) (string, error) {
	var lang string
	err := t.tx.QueryRowContext(ctx, `SELECT p.language FROM people p WHERE p.id = $1
		UNION ALL SELECT p.language FROM users u JOIN people p ON p.id = `+userPerson("u")+` WHERE u.id = $2
		LIMIT 1`, id, id).Scan(&lang)
	if errors.Is(err, sql.ErrNoRows) {
		return "es", nil
	}
	return lang, err
}

func (t deskTx) AddMessage(ctx context.Context, m incident.Message) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO incident_messages (id, incident_id, kind, person_id, person_name, language, text, url, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, m.ID, m.IncidentID, m.Kind, m.To.ID, m.To.Name, m.Language, m.Text, m.URL, millis(m.At))
	if err != nil {
		return fmt.Errorf("add message: %w", err)
	}
	return nil
}

func (t deskTx) CreateConformityRequest(ctx context.Context, r incident.ConformityRequest) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO conformity_requests (id, incident_id, requester_id, requester_name, language, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, r.ID, r.IncidentID, r.Requester.ID, r.Requester.Name, r.Language, millis(r.CreatedAt), millis(r.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create conformity request: %w", err)
	}
	return nil
}

// UseConformityLink marks the link used and closes its request, so that the request's
// other links (one per channel and attempt) stop working too.
func (t deskTx) UseConformityLink(ctx context.Context, hash string, at time.Time) (bool, error) {
	var request sql.NullString
	err := t.tx.QueryRowContext(ctx, "SELECT request_id FROM conformity_links WHERE hash = $1 AND used_at IS NULL", hash).Scan(&request)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("use conformity link: %w", err)
	}
	if request.Valid {
		res, err := t.tx.ExecContext(ctx, "UPDATE conformity_requests SET closed_at = $2 WHERE id = $1 AND closed_at IS NULL", request.String, millis(at))
		if err != nil {
			return false, fmt.Errorf("use conformity link: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return false, err
		}
	}
	if _, err := t.tx.ExecContext(ctx, "UPDATE conformity_links SET used_at = $2 WHERE hash = $1", hash, millis(at)); err != nil {
		return false, fmt.Errorf("use conformity link: %w", err)
	}
	return true, nil
}

func (t deskTx) CloseConformityLinks(ctx context.Context, incidentID string, at time.Time) error {
	if _, err := t.tx.ExecContext(ctx, "UPDATE conformity_requests SET closed_at = $2 WHERE incident_id = $1 AND closed_at IS NULL", incidentID, millis(at)); err != nil {
		return fmt.Errorf("close conformity requests: %w", err)
	}
	_, err := t.tx.ExecContext(ctx, "UPDATE conformity_links SET used_at = $2 WHERE incident_id = $1 AND used_at IS NULL", incidentID, millis(at))
	if err != nil {
		return fmt.Errorf("close conformity links: %w", err)
	}
	return nil
}

func (t deskTx) ExpiredConformity(ctx context.Context, before time.Time) ([]string, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT DISTINCT incident_id FROM conformity_requests
		WHERE closed_at IS NULL AND expires_at <= $1 ORDER BY incident_id`, millis(before))
	if err != nil {
		return nil, fmt.Errorf("expired conformity: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func (t deskTx) SaveTemplate(ctx context.Context, tpl incident.Template) error {
	doc, err := json.Marshal(tpl)
	if err != nil {
		return fmt.Errorf("encode template: %w", err)
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO incident_templates (id, doc, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at`, tpl.ID, string(doc), millis(*tpl.UpdatedAt))
	if err != nil {
		return fmt.Errorf("save template: %w", err)
	}
	return nil
}

// Similar ranks the indexed incidents against the normalized terms with bm25: the title
// weighs most, then services and causes, then the description and the solution.
// Cancelled incidents (declared by mistake) are left out.
func (s *Desk) Similar(ctx context.Context, terms []string, exclude string, limit int) ([]incident.Match, error) {
	search := s.db.d.search
	rows, err := s.db.read.QueryContext(ctx, search.similar, search.anyOf(terms), exclude, string(incident.StatusCancelled), limit)
	if err != nil {
		return nil, fmt.Errorf("similar incidents: %w", err)
	}
	defer rows.Close()
	out := []incident.Match{}
	for rows.Next() {
		var (
			doc  []byte
			rank float64
			inc  incident.Incident
		)
		if err := rows.Scan(&doc, &rank); err != nil {
			return nil, fmt.Errorf("similar incidents: %w", err)
		}
		if err := json.Unmarshal(doc, &inc); err != nil {
			return nil, fmt.Errorf("decode incident: %w", err)
		}
		out = append(out, incident.MatchOf(inc, -rank))
	}
	return out, rows.Err()
}

// indexIncident keeps the incident's normalized text in the search index, in the
// transaction that changes it.
func indexIncident(ctx context.Context, tx *eventTx, inc incident.Incident) error {
	ix := incident.Index(inc)
	if _, err := tx.ExecContext(ctx, "DELETE FROM incident_search WHERE incident_id = $1", inc.ID); err != nil {
		return fmt.Errorf("index incident: %w", err)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO incident_search (incident_id, title, body, services, causes, solution)
		VALUES ($1, $2, $3, $4, $5, $6)`, inc.ID, ix.Title, ix.Body, ix.Services, ix.Causes, ix.Solution)
	if err != nil {
		return fmt.Errorf("index incident: %w", err)
	}
	return nil
}

// ReindexSearch indexes the incidents missing from the search index (those declared
// before it existed). It is cheap when nothing is missing.
func (db *DB) ReindexSearch(ctx context.Context) (int, error) {
	n := 0
	err := db.eventsTx(ctx, func(tx *eventTx) error {
		rows, err := tx.QueryContext(ctx, `SELECT doc FROM incidents WHERE id NOT IN (SELECT incident_id FROM incident_search)`)
		if err != nil {
			return err
		}
		var list []incident.Incident
		for rows.Next() {
			var doc []byte
			var inc incident.Incident
			if err := rows.Scan(&doc); err != nil {
				rows.Close()
				return err
			}
			if err := json.Unmarshal(doc, &inc); err != nil {
				rows.Close()
				return err
			}
			list = append(list, inc)
		}
		rows.Close()
		for _, inc := range list {
			if err := indexIncident(ctx, tx, inc); err != nil {
				return err
			}
			n++
		}
		return rows.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("reindex search: %w", err)
	}
	return n, nil
}
