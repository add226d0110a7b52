package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/indicators"
)

// Indicators implements indicators.Store: plain facts about real incidents (drills are
// never returned), read with portable SQL; the arithmetic happens in Go.
type Indicators struct{ db *DB }

// Indicators returns the indicators store.
func (db *DB) Indicators() *Indicators { return &Indicators{db: db} }

var _ indicators.Store = (*Indicators)(nil)

// EscalationEventTypes are the event types counted as an escalation triggered.
var EscalationEventTypes = []string{"incident.escalated", "escalation.triggered"}

// closedStatuses are the statuses after which an incident is no longer open; the first
// event whose snapshot has one of them is when the incident was resolved.
var closedStatuses = []string{"resolved", "verified", "closed", "cancelled"}

// Incidents returns the real incidents declared in [from, to) with their recipients,
// deliveries, resolution time and escalations.
func (s *Indicators) Incidents(ctx context.Context, from, to time.Time) ([]indicators.Incident, error) {
	where := "i.drill = 0 AND i.created_at >= $1 AND i.created_at < $2"
	args := []any{millis(from), millis(to)}
	incs, byID, err := s.incidents(ctx, where, args)
	if err != nil || len(incs) == 0 {
		return incs, err
	}
	q := s.db.read
	// Recipients, with their acknowledgement.
	rows, err := q.QueryContext(ctx, `SELECT r.incident_id, r.person_id, r.teams, a.at
		FROM incident_recipients r JOIN incidents i ON i.id = r.incident_id
		LEFT JOIN incident_acks a ON a.incident_id = r.incident_id AND a.person_id = r.person_id
		WHERE `+where+` ORDER BY r.incident_id, r.person_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("indicator recipients: %w", err)
	}
	err = eachRow(rows, func() error {
		var (
			incID, person, teams string
			at                   sql.NullInt64
		)
		if err := rows.Scan(&incID, &person, &teams, &at); err != nil {
			return err
		}
		r := indicators.Recipient{PersonID: person, AcknowledgedAt: timePtr(at)}
		if err := json.Unmarshal([]byte(teams), &r.Teams); err != nil {
			return fmt.Errorf("recipient %s teams: %w", person, err)
		}
		inc := &incs[byID[incID]]
		inc.Recipients = append(inc.Recipients, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("indicator recipients: %w", err)
	}
	// Deliveries.
	rows, err = q.QueryContext(ctx, `SELECT d.subject, d.channel, d.status, d.created_at, d.sent_at, d.delivered_at, d.failed_at
		FROM deliveries d JOIN incidents i ON i.id = d.subject WHERE `+where+` ORDER BY d.subject, d.created_at, d.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("indicator deliveries: %w", err)
	}
	err = eachRow(rows, func() error {
		var (
			incID   string
			d       indicators.Delivery
			created int64
			sent    sql.NullInt64
			done    sql.NullInt64
			failed  sql.NullInt64
		)
		if err := rows.Scan(&incID, &d.Channel, &d.Status, &created, &sent, &done, &failed); err != nil {
			return err
		}
		d.CreatedAt, d.SentAt, d.DeliveredAt, d.FailedAt = fromMillis(created), timePtr(sent), timePtr(done), timePtr(failed)
		inc := &incs[byID[incID]]
		inc.Deliveries = append(inc.Deliveries, d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("indicator deliveries: %w", err)
	}
	// Escalations triggered.
	ph := make([]string, len(EscalationEventTypes))
	escArgs := append([]any{}, args...)
	for i, t := range EscalationEventTypes {
		escArgs = append(escArgs, t)
		ph[i] = fmt.Sprintf("$%d", len(escArgs))
	}
	rows, err = q.QueryContext(ctx, `SELECT e.incident_id, count(*) FROM events e JOIN incidents i ON i.id = e.incident_id
		WHERE `+where+` AND e.type IN (`+strings.Join(ph, ", ")+`) GROUP BY e.incident_id`, escArgs...)
	if err != nil {
		return nil, fmt.Errorf("indicator escalations: %w", err)
	}
	err = eachRow(rows, func() error {
		var (
			incID string
			n     int
		)
		if err := rows.Scan(&incID, &n); err != nil {
			return err
		}
		incs[byID[incID]].Escalations = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("indicator escalations: %w", err)
	}
	return incs, s.resolvedTimes(ctx, where, args, incs, byID)
}

// resolvedTimes fills ResolvedAt, for incidents no longer open whose document does not
// carry it, from the first event whose snapshot shows a resolved (or later) status.
func (s *Indicators) resolvedTimes(ctx context.Context, where string, args []any, incs []indicators.Incident, byID map[string]int) error {
	need := false
	for _, inc := range incs {
		if inc.ResolvedAt == nil && !indicators.Open(inc.Status) && inc.Status != "cancelled" {
			need = true
		}
	}
	if !need {
		return nil
	}
	rows, err := s.db.read.QueryContext(ctx, `SELECT e.incident_id, e.at, e.incident FROM events e JOIN incidents i ON i.id = e.incident_id
		WHERE `+where+` AND i.status IN ('resolved', 'verified', 'closed') AND e.type <> $3 AND e.incident IS NOT NULL
		ORDER BY e.id`, append(args, EventDeliveryUpdated)...)
	if err != nil {
		return fmt.Errorf("indicator resolution: %w", err)
	}
	err = eachRow(rows, func() error {
		var (
			incID string
			at    int64
			doc   []byte
		)
		if err := rows.Scan(&incID, &at, &doc); err != nil {
			return err
		}
		inc := &incs[byID[incID]]
		if inc.ResolvedAt != nil {
			return nil
		}
		var snap struct {
			Status string `json:"status"`
		}
		if json.Unmarshal(doc, &snap) == nil && snap.Status != "cancelled" && !indicators.Open(snap.Status) {
			t := fromMillis(at)
			inc.ResolvedAt = &t
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("indicator resolution: %w", err)
	}
	return nil
}

// OpenIncidents returns every real incident still open.
func (s *Indicators) OpenIncidents(ctx context.Context) ([]indicators.Incident, error) {
	ph := make([]string, len(closedStatuses))
	args := make([]any, len(closedStatuses))
	for i, st := range closedStatuses {
		ph[i], args[i] = fmt.Sprintf("$%d", i+1), st
	}
	incs, _, err := s.incidents(ctx, "i.drill = 0 AND i.status NOT IN ("+strings.Join(ph, ", ")+")", args)
	return incs, err
}

// incidents reads the incidents matching where (on alias i), oldest first, and indexes
// them by id.
func (s *Indicators) incidents(ctx context.Context, where string, args []any) ([]indicators.Incident, map[string]int, error) {
	rows, err := s.db.read.QueryContext(ctx, "SELECT i.doc FROM incidents i WHERE "+where+" ORDER BY i.created_at, i.folio", args...)
	if err != nil {
		return nil, nil, fmt.Errorf("indicator incidents: %w", err)
	}
	out := []indicators.Incident{}
	byID := map[string]int{}
	err = eachRow(rows, func() error {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return err
		}
		var inc struct {
			incident.Incident
			// Written by the lifecycle when an incident is resolved; absent before it.
			ResolvedAt *time.Time `json:"resolved_at"`
		}
		if err := json.Unmarshal(doc, &inc); err != nil {
			return fmt.Errorf("decode incident: %w", err)
		}
		byID[inc.ID] = len(out)
		out = append(out, indicators.Incident{
			ID: inc.ID, Folio: inc.Folio, Title: inc.Title, Priority: string(inc.Priority), Status: string(inc.Status),
			Services: inc.Services, Causes: inc.Causes, Teams: inc.Teams, CreatedAt: inc.CreatedAt.UTC(),
			AckBy: inc.SLA.AckBy.UTC(), ResolveBy: inc.SLA.ResolveBy.UTC(),
			AcknowledgedAt: utcPtr(inc.AcknowledgedAt), ResolvedAt: utcPtr(inc.ResolvedAt),
		})
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("indicator incidents: %w", err)
	}
	return out, byID, nil
}

// eachRow calls fn for each row, then closes rows.
func eachRow(rows *sql.Rows, fn func() error) error {
	defer rows.Close()
	for rows.Next() {
		if err := fn(); err != nil {
			return err
		}
	}
	return rows.Err()
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
