package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/indicators"
)

// Indicators implements indicators.Store: plain facts about real incidents (drills are
// never returned), read with portable SQL; the arithmetic happens in Go.
type Indicators struct{ db *DB }

// Indicators returns the indicators store.
func (db *DB) Indicators() *Indicators { return &Indicators{db: db} }

var _ indicators.Store = (*Indicators)(nil)

// EscalationEventTypes are the event types counted as an escalation triggered: the
// escalation engine appends incident.escalated each time a step, of a ladder or by hand,
// pages people.
var EscalationEventTypes = []string{"incident.escalated"}

// closedStatuses are the statuses after which an incident is no longer open; the first
// event whose snapshot has one of them is when the incident was resolved.
var closedStatuses = []string{"resolved", "verified", "closed", "cancelled"}

// Incidents returns the real incidents declared in [from, to) with their recipients,
// deliveries, resolution time and escalations.
func (s *Indicators) Incidents(ctx context.Context, from, to time.Time) ([]indicators.Incident, error) {
	where := "i.drill = 0 AND i.created_at >= $1 AND i.created_at < $2"
	args := []any{ceilMillis(from), ceilMillis(to)}
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
// carry it (stored before the lifecycle kept resolved_at), from the first event whose
// snapshot shows a resolved (or later) status.
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
		ORDER BY e.id`, append(args, EventDeliveriesProgress)...)
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
		var inc incident.Incident
		if err := json.Unmarshal(doc, &inc); err != nil {
			return fmt.Errorf("decode incident: %w", err)
		}
		byID[inc.ID] = len(out)
		out = append(out, indicators.Incident{
			ID: inc.ID, Folio: inc.Folio, Title: inc.Title, Priority: string(inc.Priority), Status: string(inc.Status),
			Services: inc.Services, Causes: inc.Causes, Teams: inc.Teams, Sites: inc.Sites, CreatedAt: inc.CreatedAt.UTC(),
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

// ceilMillis is t in unix milliseconds rounded up: stored times are whole milliseconds,
// so "created_at < to" must not drop an incident declared earlier in to's millisecond.
func ceilMillis(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	return ms
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

// Scrape-time figures for Prometheus (internal/metrics). They cover the whole database,
// so every node reports the same cluster-wide values.

// LabeledCount is a count with its label values, in the order the method documents.
type LabeledCount struct {
	Labels []string
	N      int64
}

// Histogram is a cumulative histogram of one label value: Buckets[i] counts the values
// at most Bounds[i].
type Histogram struct {
	Label   string
	Count   uint64
	Sum     float64
	Buckets []uint64
}

func (s *Indicators) counts(ctx context.Context, query string, labels int, args ...any) ([]LabeledCount, error) {
	rows, err := s.db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	var out []LabeledCount
	err = eachRow(rows, func() error {
		c := LabeledCount{Labels: make([]string, labels)}
		dst := make([]any, 0, labels+1)
		for i := range c.Labels {
			dst = append(dst, &c.Labels[i])
		}
		if err := rows.Scan(append(dst, &c.N)...); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// DeclaredCounts counts every incident ever declared by priority and drill ("true" or
// "false"). Incidents are never deleted, so each count only grows.
func (s *Indicators) DeclaredCounts(ctx context.Context) ([]LabeledCount, error) {
	return s.counts(ctx, `SELECT priority, CASE WHEN drill = 1 THEN 'true' ELSE 'false' END, count(*) FROM incidents
		GROUP BY priority, drill ORDER BY priority, drill`, 2)
}

// drillLabel is "true" for the deliveries of drills and canaries (their lane), else
// "false": metrics keep rehearsal traffic apart from the real.
var drillLabel = fmt.Sprintf("CASE WHEN lane >= %d THEN 'true' ELSE 'false' END", broadcast.DrillLanes)

// DeliveryCounts counts deliveries by channel, current status and drill ("true" or
// "false").
func (s *Indicators) DeliveryCounts(ctx context.Context) ([]LabeledCount, error) {
	return s.counts(ctx, "SELECT channel, status, "+drillLabel+" AS drill, count(*) FROM deliveries GROUP BY channel, status, drill ORDER BY channel, status, drill", 3)
}

// AttemptOutcomes counts finished delivery attempts by channel, outcome (sent, retry,
// failed, resent) and drill. Attempts are never deleted and a finished one never
// changes, so each count only grows.
func (s *Indicators) AttemptOutcomes(ctx context.Context) ([]LabeledCount, error) {
	return s.counts(ctx, `SELECT d.channel, a.outcome, `+strings.ReplaceAll(drillLabel, "lane", "d.lane")+` AS drill, count(*)
		FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
		WHERE a.outcome <> 'sending' GROUP BY d.channel, a.outcome, drill ORDER BY d.channel, a.outcome, drill`, 3)
}

// QueueDepth counts, per channel and drill, the deliveries the dispatcher still has to
// settle (queued, including retries waiting for their time, and sending): two counts,
// each on its partial claim index (migration 0032), not a scan of every delivery made.
func (s *Indicators) QueueDepth(ctx context.Context) ([]LabeledCount, error) {
	return s.counts(ctx, `SELECT channel, drill, CAST(sum(n) AS BIGINT) FROM (
		SELECT channel, `+drillLabel+` AS drill, count(*) AS n FROM deliveries WHERE status = 'queued' GROUP BY channel, drill
		UNION ALL SELECT channel, `+drillLabel+` AS drill, count(*) AS n FROM deliveries WHERE status = 'sending' GROUP BY channel, drill) x
		GROUP BY channel, drill ORDER BY channel, drill`, 2)
}

// DeliveryLatency is, per channel, the histogram of seconds from a delivery being
// planned to the provider accepting it, for real incidents only (drills and canaries
// are left out, as from every indicator).
func (s *Indicators) DeliveryLatency(ctx context.Context, bounds []float64) ([]Histogram, error) {
	return s.histogram(ctx, "d.channel", "(d.sent_at - d.created_at)",
		fmt.Sprintf("deliveries d WHERE d.sent_at IS NOT NULL AND d.lane < %d", broadcast.DrillLanes), bounds)
}

// AckLatency is, per priority, the histogram of seconds from a real incident's
// declaration to each person's acknowledgement.
func (s *Indicators) AckLatency(ctx context.Context, bounds []float64) ([]Histogram, error) {
	return s.histogram(ctx, "i.priority", "(a.at - i.created_at)", "incident_acks a JOIN incidents i ON i.id = a.incident_id WHERE i.drill = 0", bounds)
}

// histogram counts, per label, the values (milliseconds) at most each bound (seconds),
// in one pass with portable SQL (the casts keep PostgreSQL's sums integers, not numeric).
func (s *Indicators) histogram(ctx context.Context, label, value, from string, bounds []float64) ([]Histogram, error) {
	cols := make([]string, len(bounds))
	for i, b := range bounds {
		cols[i] = fmt.Sprintf("CAST(sum(CASE WHEN %s <= %d THEN 1 ELSE 0 END) AS BIGINT)", value, int64(b*1000))
	}
	rows, err := s.db.read.QueryContext(ctx, fmt.Sprintf("SELECT %s, count(*), CAST(coalesce(sum(%s), 0) AS BIGINT), %s FROM %s GROUP BY %s ORDER BY %s",
		label, value, strings.Join(cols, ", "), from, label, label))
	if err != nil {
		return nil, err
	}
	var out []Histogram
	err = eachRow(rows, func() error {
		h := Histogram{Buckets: make([]uint64, len(bounds))}
		var sumMS int64
		dst := []any{&h.Label, &h.Count, &sumMS}
		for i := range h.Buckets {
			dst = append(dst, &h.Buckets[i])
		}
		if err := rows.Scan(dst...); err != nil {
			return err
		}
		h.Sum = float64(sumMS) / 1000
		out = append(out, h)
		return nil
	})
	return out, err
}
