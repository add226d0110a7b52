package indicators_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/indicators"
)

// memStore is a working in-memory Store: it holds real incidents only, as the contract says.
type memStore struct{ incs []indicators.Incident }

func (m memStore) Incidents(_ context.Context, from, to time.Time) ([]indicators.Incident, error) {
	var out []indicators.Incident
	for _, inc := range m.incs {
		if !inc.CreatedAt.Before(from) && inc.CreatedAt.Before(to) {
			out = append(out, inc)
		}
	}
	return out, nil
}

func (m memStore) OpenIncidents(context.Context) ([]indicators.Incident, error) {
	var out []indicators.Incident
	for _, inc := range m.incs {
		if indicators.Open(inc.Status) {
			out = append(out, inc)
		}
	}
	return out, nil
}

var mx = mustZone("America/Mexico_City") // UTC−6 all year since 2022

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func local(day, hour, min int) time.Time { return time.Date(2026, 11, day, hour, min, 0, 0, mx) }

func at(t time.Time, d time.Duration) *time.Time { v := t.Add(d).UTC(); return &v }

var (
	ackTargets     = map[string]time.Duration{"P1": 5 * time.Minute, "P2": 15 * time.Minute, "P3": time.Hour}
	resolveTargets = map[string]time.Duration{"P1": 4 * time.Hour, "P2": 8 * time.Hour, "P3": 24 * time.Hour}
)

func inc(id, prio, status string, created time.Time, ack, resolved time.Duration) indicators.Incident {
	c := created.UTC()
	i := indicators.Incident{ID: id, Folio: "BCP-2026-00000" + id, Title: "incident " + id, Priority: prio, Status: status,
		CreatedAt: c, AckBy: c.Add(ackTargets[prio]), ResolveBy: c.Add(resolveTargets[prio])}
	if ack > 0 {
		i.AcknowledgedAt = at(c, ack)
	}
	if resolved > 0 {
		i.ResolvedAt = at(c, resolved)
	}
	return i
}

func recipient(person, team string, created time.Time, ack time.Duration) indicators.Recipient {
	r := indicators.Recipient{PersonID: person, Teams: []string{team}}
	if ack > 0 {
		r.AcknowledgedAt = at(created, ack)
	}
	return r
}

// The fixture: five real incidents between 1 and 2 November 2026 (Mexico City days), one
// the week before. Every expected figure below is worked out by hand in its comment.
func fixture() (memStore, indicators.Query, time.Time) {
	// A: P1 at 23:30 local on 1 Nov, which is 05:30 UTC on 2 Nov: it must count on 1 Nov.
	a := inc("1", "P1", "resolved", local(1, 23, 30), 2*time.Minute, 3*time.Hour)
	a.Services, a.Causes, a.Teams = []string{"erp"}, []string{"energía"}, []string{"technology", "operations"}
	a.Recipients = []indicators.Recipient{
		recipient("r1", "technology", a.CreatedAt, 2*time.Minute),
		recipient("r2", "operations", a.CreatedAt, 7*time.Minute),
		recipient("r3", "operations", a.CreatedAt, 0),
	}
	a.Deliveries = []indicators.Delivery{
		{Channel: "sms", Status: "delivered", CreatedAt: a.CreatedAt, SentAt: at(a.CreatedAt, time.Second), DeliveredAt: at(a.CreatedAt, 6*time.Second)},
		{Channel: "sms", Status: "undelivered", CreatedAt: a.CreatedAt, SentAt: at(a.CreatedAt, 3*time.Second), FailedAt: at(a.CreatedAt, 9*time.Second)},
		{Channel: "webpush", Status: "sent", CreatedAt: a.CreatedAt, SentAt: at(a.CreatedAt, 2*time.Second)},
	}
	// B: P1 at 00:30 local on 2 Nov; acknowledged in 4 min, resolved in 5 h (late).
	b := inc("2", "P1", "closed", local(2, 0, 30), 4*time.Minute, 5*time.Hour)
	b.Services, b.Causes, b.Teams = []string{"erp", "web"}, []string{"red"}, []string{"technology"}
	b.Sites = []string{"Torre Norte"} // as declared: a name
	b.Recipients = []indicators.Recipient{recipient("r1", "technology", b.CreatedAt, 4*time.Minute)}
	b.Deliveries = []indicators.Delivery{{Channel: "sms", Status: "queued", CreatedAt: b.CreatedAt}}
	// C: P1 at 10:00 local on 2 Nov; acknowledged in 10 min (late), still open, escalated twice.
	c := inc("3", "P1", "acknowledged", local(2, 10, 0), 10*time.Minute, 0)
	c.Services, c.Causes, c.Teams = []string{"web"}, []string{"red"}, []string{"operations"}
	c.Sites = []string{"torre-norte", "madrid"} // as declared: ids
	c.Recipients = []indicators.Recipient{recipient("r2", "operations", c.CreatedAt, 10*time.Minute), recipient("r4", "operations", c.CreatedAt, 0)}
	c.Escalations = 2
	// D: P2 at 18:00 local on 2 Nov, never acknowledged, still open.
	d := inc("4", "P2", "declared", local(2, 18, 0), 0, 0)
	d.Teams = []string{"directors"}
	d.Recipients = []indicators.Recipient{recipient("r5", "directors", d.CreatedAt, 0)}
	// E: P1 at 08:00 local on 1 Nov; acknowledged in 1 min, resolved in 1 h.
	e := inc("5", "P1", "resolved", local(1, 8, 0), time.Minute, time.Hour)
	e.Services, e.Causes, e.Teams = []string{"erp"}, []string{"energía"}, []string{"technology"}
	e.Recipients = []indicators.Recipient{recipient("r1", "technology", e.CreatedAt, time.Minute)}
	// F: the previous period (30 Oct), P3, acknowledged in 30 min, resolved in 2 h.
	f := inc("6", "P3", "closed", time.Date(2026, 10, 30, 12, 0, 0, 0, mx), 30*time.Minute, 2*time.Hour)

	q := indicators.Query{From: local(1, 0, 0), To: local(3, 0, 0), Bucket: "day"}
	now := local(3, 0, 0).UTC() // 06:00 UTC on 3 November
	return memStore{incs: []indicators.Incident{a, b, c, d, e, f}}, q, now
}

func compute(t *testing.T, q indicators.Query) indicators.Report {
	t.Helper()
	st, base, now := fixture()
	if q.From.IsZero() {
		q.From, q.To = base.From, base.To
	}
	if q.Bucket == "" {
		q.Bucket = base.Bucket
	}
	svc := indicators.New(st, indicators.Options{Location: mx, AckTargets: ackTargets, ResolveTargets: resolveTargets, Now: func() time.Time { return now }})
	r, err := svc.Compute(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func eq(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil || *got != want {
		t.Errorf("%s = %v, want %v", what, show(got), want)
	}
}

func null(t *testing.T, what string, got *float64) {
	t.Helper()
	if got != nil {
		t.Errorf("%s = %v, want none", what, *got)
	}
}

func show(v *float64) any {
	if v == nil {
		return "none"
	}
	return *v
}

func TestSummaryCountsMediansAndSLAShares(t *testing.T) {
	s := compute(t, indicators.Query{}).Summary
	if s.Declared != 5 || s.Acknowledged != 4 || s.Resolved != 3 || s.Escalations != 2 {
		t.Errorf("declared %d acknowledged %d resolved %d escalations %d, want 5 4 3 2", s.Declared, s.Acknowledged, s.Resolved, s.Escalations)
	}
	// Times to acknowledge: E 60 s, A 120 s, B 240 s, C 600 s.
	// Median: h = 3·0.5 = 1.5 → 120 + 0.5·(240−120) = 180. p90: h = 2.7 → 240 + 0.7·360 = 492.
	eq(t, "tta median", s.TimeToAck.Median, 180)
	eq(t, "tta p90", s.TimeToAck.P90, 492)
	// Times to resolve: E 3600, A 10800, B 18000. Median 10800; p90: h = 1.8 → 10800 + 0.8·7200 = 16560.
	eq(t, "ttr median", s.TimeToResolve.Median, 10800)
	eq(t, "ttr p90", s.TimeToResolve.P90, 16560)
	// Acknowledged within SLA: A, B, E met; C late; D never and past due → 3 of 5 = 60 %.
	eq(t, "ack within SLA", s.AckSLA.Percent, 60)
	// Resolved within SLA: A, E met; B late; C open past due; D pending (not due) → 2 of 4 = 50 %.
	if s.ResolveSLA.Met != 2 || s.ResolveSLA.Missed != 2 || s.ResolveSLA.Pending != 1 {
		t.Errorf("resolve SLA = %+v, want 2 met 2 missed 1 pending", s.ResolveSLA)
	}
	eq(t, "resolve within SLA", s.ResolveSLA.Percent, 50)
	// Recipients: A 3 (2 acknowledged), B 1 (1), C 2 (1), D 1 (0), E 1 (1) → 5 of 8 = 62.5 %.
	if s.Recipients != 8 || s.RecipientsAcknowledged != 5 {
		t.Errorf("recipients %d acknowledged %d, want 8 and 5", s.Recipients, s.RecipientsAcknowledged)
	}
	eq(t, "ack rate", s.AckRate, 62.5)
	// Deliveries: delivered + sent = 2 of 3 settled (the queued one is not settled).
	eq(t, "delivery success", s.DeliverySuccess, 66.7)
}

func TestPreviousPeriodIsTheSameLengthBefore(t *testing.T) {
	r := compute(t, indicators.Query{})
	p := r.Previous
	if !p.From.Equal(local(1, 0, 0).Add(-48*time.Hour)) || !p.To.Equal(local(1, 0, 0)) {
		t.Errorf("previous period %v – %v", p.From, p.To)
	}
	if p.Declared != 1 {
		t.Fatalf("previous declared %d, want 1 (F)", p.Declared)
	}
	eq(t, "previous tta median", p.TimeToAck.Median, 1800)
	eq(t, "previous ttr median", p.TimeToResolve.Median, 7200)
}

func TestResponseTimesPerPriorityAgainstTargets(t *testing.T) {
	rows := compute(t, indicators.Query{}).ByPriority
	if len(rows) != 5 {
		t.Fatalf("%d priority rows, want P1–P5", len(rows))
	}
	p1, p2, p3 := rows[0], rows[1], rows[2]
	if p1.Priority != "P1" || p1.Declared != 4 || p1.AckTarget != 300 || p1.ResolveTarget != 14400 || p1.Escalations != 2 {
		t.Errorf("P1 row %+v", p1)
	}
	eq(t, "P1 tta median", p1.TimeToAck.Median, 180) // same four as the summary
	eq(t, "P1 tta p90", p1.TimeToAck.P90, 492)
	eq(t, "P1 ttr median", p1.TimeToResolve.Median, 10800)
	eq(t, "P1 ttr p90", p1.TimeToResolve.P90, 16560)
	eq(t, "P1 ack within SLA", p1.AckSLA.Percent, 75)         // A, B, E of 4
	eq(t, "P1 resolve within SLA", p1.ResolveSLA.Percent, 50) // A, E of A, B, C, E
	// P2: only D, never acknowledged (missed), resolve deadline still ahead (pending).
	if p2.Declared != 1 || p2.TimeToAck.Count != 0 || p2.ResolveSLA.Pending != 1 {
		t.Errorf("P2 row %+v", p2)
	}
	null(t, "P2 tta median", p2.TimeToAck.Median)
	eq(t, "P2 ack within SLA", p2.AckSLA.Percent, 0)
	null(t, "P2 resolve within SLA", p2.ResolveSLA.Percent)
	if p3.Declared != 0 {
		t.Errorf("P3 declared %d, want 0 (F is in the previous period)", p3.Declared)
	}
	null(t, "P3 ack within SLA", p3.AckSLA.Percent)
}

func TestTeamsAckRatesAndFirstAcknowledgement(t *testing.T) {
	rows := compute(t, indicators.Query{}).ByTeam
	byTeam := map[string]indicators.TeamRow{}
	for _, r := range rows {
		byTeam[r.Team] = r
	}
	if len(rows) != 3 {
		t.Fatalf("teams %v, want directors, operations, technology", rows)
	}
	tech := byTeam["technology"]
	// Technology: A, B, E; r1 acknowledged each, after 120, 240 and 60 s.
	if tech.Incidents != 3 || tech.Recipients != 3 || tech.Acknowledged != 3 {
		t.Errorf("technology %+v", tech)
	}
	eq(t, "technology ack rate", tech.AckRate, 100)
	eq(t, "technology first ack median", tech.TimeToAck.Median, 120)
	eq(t, "technology first ack p90", tech.TimeToAck.P90, 216) // h = 1.8 → 120 + 0.8·120
	eq(t, "technology ack within SLA", tech.AckSLA.Percent, 100)
	eq(t, "technology ttr median", tech.TimeToResolve.Median, 10800)
	ops := byTeam["operations"]
	// Operations: A (r2 after 420 s, r3 never), C (r2 after 600 s, r4 never).
	if ops.Incidents != 2 || ops.Recipients != 4 || ops.Acknowledged != 2 {
		t.Errorf("operations %+v", ops)
	}
	eq(t, "operations ack rate", ops.AckRate, 50)
	eq(t, "operations first ack median", ops.TimeToAck.Median, 510)
	eq(t, "operations first ack p90", ops.TimeToAck.P90, 582) // h = 0.9 → 420 + 0.9·180
	eq(t, "operations ack within SLA", ops.AckSLA.Percent, 0)
	dir := byTeam["directors"]
	eq(t, "directors ack rate", dir.AckRate, 0)
	null(t, "directors first ack median", dir.TimeToAck.Median)
}

func TestChannelsDeliveryFigures(t *testing.T) {
	ch := compute(t, indicators.Query{}).Channels
	if len(ch) != 2 || ch[0].Channel != "sms" || ch[1].Channel != "webpush" {
		t.Fatalf("channels %+v", ch)
	}
	sms, push := ch[0], ch[1]
	if sms.Total != 3 || sms.Delivered != 1 || sms.Failed != 1 || sms.Pending != 1 || sms.Sent != 0 {
		t.Errorf("sms %+v", sms)
	}
	eq(t, "sms success", sms.Success, 50)                        // 1 delivered of 2 settled
	eq(t, "sms provider latency", sms.ProviderLatency.Median, 5) // sent +1 s, delivered +6 s
	eq(t, "sms delivery latency median", sms.DeliveryLatency.Median, 2)
	eq(t, "push success", push.Success, 100)
	eq(t, "push delivery latency", push.DeliveryLatency.Median, 2)
	null(t, "push provider latency", push.ProviderLatency.Median)
}

func TestOpenIncidentsWithCountdowns(t *testing.T) {
	r := compute(t, indicators.Query{})
	if len(r.Open) != 2 || r.Open[0].ID != "3" || r.Open[1].ID != "4" {
		t.Fatalf("open %+v, want C then D (by resolve deadline)", r.Open)
	}
	c, d := r.Open[0], r.Open[1]
	// Now is 06:00 UTC on 3 Nov. C was due resolved at 20:00 UTC on 2 Nov: 10 h ago.
	if c.ResolveRemaining != -36000 || c.AckRemaining != nil || !c.Breached {
		t.Errorf("C countdown %+v", c)
	}
	// D: declared 00:00 UTC on 3 Nov; ack due 00:15 (5 h 45 min ago), resolve due 08:00 (in 2 h).
	if d.AckRemaining == nil || *d.AckRemaining != -20700 || d.ResolveRemaining != 7200 || !d.Breached {
		t.Errorf("D countdown %+v", d)
	}
	want := []indicators.OpenCount{{Priority: "P1", Status: "acknowledged", Count: 1}, {Priority: "P2", Status: "declared", Count: 1}}
	if !slices.Equal(r.OpenCounts, want) {
		t.Errorf("open counts %+v, want %+v", r.OpenCounts, want)
	}
}

func TestOverTimeBucketsByLocalDay(t *testing.T) {
	ot := compute(t, indicators.Query{}).OverTime
	// Two Mexico City days, starting at 06:00 UTC.
	wantStarts := []time.Time{time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC), time.Date(2026, 11, 2, 6, 0, 0, 0, time.UTC)}
	if ot.Bucket != "day" || !slices.EqualFunc(ot.Starts, wantStarts, time.Time.Equal) {
		t.Fatalf("buckets %s %v, want %v", ot.Bucket, ot.Starts, wantStarts)
	}
	// 1 Nov: E and A (A is 2 Nov in UTC, 1 Nov in Mexico City). 2 Nov: B, C, D.
	if !slices.Equal(ot.Total, []int{2, 3}) {
		t.Errorf("total %v, want [2 3]", ot.Total)
	}
	want := map[string][]indicators.Series{
		"priority": {{Key: "P1", Counts: []int{2, 2}}, {Key: "P2", Counts: []int{0, 1}}},
		"service":  {{Key: "erp", Counts: []int{2, 1}}, {Key: "web", Counts: []int{0, 2}}},
		"cause":    {{Key: "energía", Counts: []int{2, 0}}, {Key: "red", Counts: []int{0, 2}}},
	}
	got := map[string][]indicators.Series{"priority": ot.ByPriority, "service": ot.ByService, "cause": ot.ByCause}
	for dim, w := range want {
		if !slices.EqualFunc(got[dim], w, func(a, b indicators.Series) bool { return a.Key == b.Key && slices.Equal(a.Counts, b.Counts) }) {
			t.Errorf("by %s = %+v, want %+v", dim, got[dim], w)
		}
	}
}

func TestHourBucketsAcrossLocalMidnight(t *testing.T) {
	// 22:00 on 1 Nov to 02:00 on 2 Nov, Mexico City: four hours; A (23:30) in the second.
	r := compute(t, indicators.Query{From: local(1, 22, 0), To: local(2, 2, 0), Bucket: "hour"})
	ot := r.OverTime
	if len(ot.Starts) != 4 || !ot.Starts[0].Equal(time.Date(2026, 11, 2, 4, 0, 0, 0, time.UTC)) {
		t.Fatalf("starts %v", ot.Starts)
	}
	// A at 23:30 on 1 Nov; B at 00:30 on 2 Nov.
	if !slices.Equal(ot.Total, []int{0, 1, 1, 0}) {
		t.Errorf("total %v, want [0 1 1 0]", ot.Total)
	}
}

func TestAutomaticBucketIsHourForShortRanges(t *testing.T) {
	st, q, now := fixture()
	q.Bucket = ""
	svc := indicators.New(st, indicators.Options{Location: mx, Now: func() time.Time { return now }})
	r, err := svc.Compute(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if r.OverTime.Bucket != "hour" || len(r.OverTime.Starts) != 48 {
		t.Errorf("bucket %s × %d, want hour × 48", r.OverTime.Bucket, len(r.OverTime.Starts))
	}
}

func TestFilters(t *testing.T) {
	for _, tt := range []struct {
		name string
		q    indicators.Query
		want int
	}{
		{"priority P2", indicators.Query{Priorities: []string{"P2"}}, 1},
		{"priorities P1 and P2", indicators.Query{Priorities: []string{"P1", "P2"}}, 5},
		{"team operations", indicators.Query{Team: "operations"}, 2},
		{"service web", indicators.Query{Service: "web"}, 2},
		{"service ERP, any case", indicators.Query{Service: "ERP"}, 3},
		{"team and service", indicators.Query{Team: "technology", Service: "web"}, 1},
		{"site by id matches a site declared by name or id", indicators.Query{Site: "torre-norte"}, 2},
		{"site by name, any case and accents", indicators.Query{Site: "Oficina madrid"}, 0},
		{"site madrid", indicators.Query{Site: "Madrid"}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := compute(t, tt.q)
			if r.Summary.Declared != tt.want {
				t.Errorf("declared %d, want %d", r.Summary.Declared, tt.want)
			}
		})
	}
	r := compute(t, indicators.Query{Priorities: []string{"P2"}})
	if len(r.Open) != 1 || r.Open[0].Priority != "P2" {
		t.Errorf("open with P2 filter: %+v", r.Open)
	}
}

func TestEmptyStoreGivesZerosNotErrors(t *testing.T) {
	svc := indicators.New(memStore{}, indicators.Options{Location: mx})
	r, err := svc.Compute(context.Background(), indicators.Query{From: local(1, 0, 0), To: local(8, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Declared != 0 || len(r.Open) != 0 || len(r.Channels) != 0 || len(r.OverTime.Starts) != 7 || r.OverTime.Total[3] != 0 {
		t.Errorf("empty report %+v", r)
	}
	null(t, "ack rate", r.Summary.AckRate)
	for _, name := range indicators.Tables {
		rows, ok := r.Table(name)
		if !ok || len(rows) == 0 {
			t.Errorf("table %s: ok %v, %d rows", name, ok, len(rows))
		}
	}
}

func TestBadQueries(t *testing.T) {
	from := local(1, 0, 0)
	for _, tt := range []struct {
		name  string
		q     indicators.Query
		field string
	}{
		{"reversed", indicators.Query{From: from, To: from.Add(-time.Hour)}, "to"},
		{"empty", indicators.Query{From: from, To: from}, "to"},
		{"over two years", indicators.Query{From: from, To: from.Add(indicators.MaxRange + time.Hour)}, "from"},
		{"unknown priority", indicators.Query{From: from, To: from.Add(time.Hour), Priorities: []string{"P9"}}, "priority"},
		{"unknown bucket", indicators.Query{From: from, To: from.Add(time.Hour), Bucket: "week"}, "bucket"},
		{"hours over a year", indicators.Query{From: from, To: from.Add(365 * 24 * time.Hour), Bucket: "hour"}, "bucket"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := indicators.New(memStore{}, indicators.Options{}).Compute(context.Background(), tt.q)
			var e *optimum.Error
			if !errors.As(err, &e) || e.Code != optimum.EINVALID || len(e.Fields) == 0 || e.Fields[0].Field != tt.field {
				t.Errorf("err = %v, want invalid on %s", err, tt.field)
			}
		})
	}
}

func TestQuantileInterpolatesBetweenRanks(t *testing.T) {
	for _, tt := range []struct {
		v    []float64
		q    float64
		want float64
	}{
		{[]float64{7}, 0.9, 7},
		{[]float64{1, 2}, 0.5, 1.5},
		{[]float64{1, 2, 3}, 0.5, 2},
		{[]float64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}, 0.9, 91}, // h = 8.1
	} {
		if got := indicators.Quantile(tt.v, tt.q); got != tt.want {
			t.Errorf("Quantile(%v, %v) = %v, want %v", tt.v, tt.q, got, tt.want)
		}
	}
}

// The directory's sites of the per-site tests: two in CDMX, one in Madrid.
var knownSites = []contacts.Site{
	{ID: "madrid", Name: "Oficina Madrid", City: "Madrid", Active: true},
	{ID: "torre-norte", Name: "Torre Norte", City: "CDMX", Active: true},
	{ID: "torre-sur", Name: "Torre Sur", City: "CDMX", Active: true},
}

// Per site, worked out by hand from the fixture: B was declared to "Torre Norte" (a
// name), C to torre-norte and madrid (ids). Torre Norte: B and C, recipients r1 (B) and
// r2, r4 (C), two of them acknowledged; the incidents' acknowledgements at 4 and 10 min
// (median 7 min), B within the 5-minute P1 target, C not. Madrid: C alone.
func TestPerSiteTableResolvesDeclaredSites(t *testing.T) {
	r := compute(t, indicators.Query{KnownSites: knownSites})
	type row struct {
		site, name, city                  string
		incidents, recipients, acked, tta int
		ttaMedian                         float64
		ackWithin                         float64
	}
	var got []row
	for _, s := range r.BySite {
		got = append(got, row{s.Site, s.Name, s.City, s.Incidents, s.Recipients, s.Acknowledged, s.TimeToAck.Count, deref(s.TimeToAck.Median), deref(s.AckSLA.Percent)})
	}
	want := []row{
		{"madrid", "Oficina Madrid", "Madrid", 1, 2, 1, 1, 600, 0},
		{"torre-norte", "Torre Norte", "CDMX", 2, 3, 2, 2, 420, 50},
	}
	if !slices.Equal(got, want) {
		t.Errorf("by site\n got %+v\nwant %+v", got, want)
	}
}

// Scope and the site filter, by hand from the fixture (A: technology and operations; B:
// technology at "Torre Norte"; C: operations at torre-norte and madrid; D: directors; E:
// technology). A scope keeps the incidents declared to its teams or sites, and only its
// rows; a filter narrows within it.
func TestScopeAndSiteFilter(t *testing.T) {
	for _, tt := range []struct {
		name     string
		q        indicators.Query
		declared int
		teams    []string
		sites    []string
	}{
		{"no scope", indicators.Query{}, 5, []string{"directors", "operations", "technology"}, []string{"madrid", "torre-norte"}},
		{"a city is each of its sites", indicators.Query{Site: "cdmx"}, 2, []string{"operations", "technology"}, []string{"madrid", "torre-norte"}},
		{"a site by name", indicators.Query{Site: "Oficina Madrid"}, 1, []string{"operations"}, []string{"madrid", "torre-norte"}},
		{"a site with no incident", indicators.Query{Site: "torre-sur"}, 0, nil, nil},
		{"scoped to madrid", indicators.Query{Scope: &optimum.Scope{Sites: []string{"madrid"}}}, 1, nil, []string{"madrid"}},
		{"scoped to technology", indicators.Query{Scope: &optimum.Scope{Teams: []string{"technology"}}}, 3, []string{"technology"}, nil},
		{"scoped to technology and Torre Norte", indicators.Query{Scope: &optimum.Scope{Teams: []string{"technology"}, Sites: []string{"torre-norte"}}}, 4, []string{"technology"}, []string{"torre-norte"}},
		{"a filter beyond the scope narrows to nothing", indicators.Query{Site: "madrid", Scope: &optimum.Scope{Teams: []string{"technology"}}}, 0, nil, nil},
		{"an empty scope limits nothing", indicators.Query{Scope: &optimum.Scope{}}, 5, []string{"directors", "operations", "technology"}, []string{"madrid", "torre-norte"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.KnownSites = knownSites
			r := compute(t, tt.q)
			if r.Summary.Declared != tt.declared {
				t.Errorf("declared %d, want %d", r.Summary.Declared, tt.declared)
			}
			var teams, sites []string
			for _, x := range r.ByTeam {
				teams = append(teams, x.Team)
			}
			for _, x := range r.BySite {
				sites = append(sites, x.Site)
			}
			if !slices.Equal(teams, tt.teams) || !slices.Equal(sites, tt.sites) {
				t.Errorf("teams %v sites %v, want %v %v", teams, sites, tt.teams, tt.sites)
			}
			if limited := tt.q.Scope != nil && len(tt.q.Scope.Teams)+len(tt.q.Scope.Sites) > 0; (r.Filters.Scope != nil) != limited {
				t.Errorf("filters.scope %+v, want it echoed only when the scope limits", r.Filters.Scope)
			}
		})
	}
}

func deref(v *float64) float64 {
	if v == nil {
		return -1
	}
	return *v
}
