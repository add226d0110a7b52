package store

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/indicators"
)

func openTestDB(t *testing.T) *DB {
	t.Helper()
	db, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "optimum.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func testPolicy() incident.Policy {
	m := map[incident.Level]map[incident.Level]incident.Priority{}
	for _, i := range incident.Levels {
		m[i] = map[incident.Level]incident.Priority{}
		for _, u := range incident.Levels {
			m[i][u] = "P1"
		}
	}
	m[incident.Low][incident.Low] = "P2"
	return incident.Policy{Matrix: m, Teams: []string{"ops", "tech"}, DefaultTeams: []string{"ops"},
		Ack:     map[incident.Priority]time.Duration{"P1": 5 * time.Minute, "P2": 15 * time.Minute},
		Resolve: map[incident.Priority]time.Duration{"P1": 4 * time.Hour, "P2": 8 * time.Hour}}
}

// The store hands indicators the facts of real incidents only, with recipients, their
// acknowledgements, deliveries with their times, the resolution time taken from the event
// log, and escalations; drills never appear.
func TestIndicatorFactsFromTheDatabase(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	now := time.Date(2026, 11, 2, 16, 0, 0, 0, time.UTC)
	svc := incident.NewService(db.Incidents(), testPolicy(), nil, func() time.Time { return now })
	reporter := optimum.WithActor(ctx, optimum.Actor{ID: "tok_rep", Name: "Rep", Role: optimum.RoleReporter})
	declare := func(title string, drill bool, level incident.Level) incident.Incident {
		inc, _, err := svc.Declare(reporter, incident.Declaration{Title: title, Services: []string{"erp"}, Causes: []string{"red"},
			Impact: level, Urgency: level, Teams: []string{"ops", "tech"}, Drill: drill}, "")
		if err != nil {
			t.Fatal(err)
		}
		return inc
	}
	real := declare("real", false, incident.Critical)
	drill := declare("drill", true, incident.Critical)
	now = now.Add(time.Minute)
	open := declare("still open", false, incident.Low)

	for _, inc := range []incident.Incident{real, drill} {
		for _, p := range []struct{ id, teams string }{{"p1", `["ops"]`}, {"p2", `["tech"]`}} {
			if _, err := db.write.ExecContext(ctx, `INSERT INTO incident_recipients (incident_id, person_id, name, language, teams, channels)
				VALUES ($1, $2, $3, 'es', $4, '["sms"]')`, inc.ID, p.id, p.id, p.teams); err != nil {
				t.Fatal(err)
			}
		}
	}
	// p1 acknowledges the real incident 3 minutes after it was declared.
	now = real.CreatedAt.Add(3 * time.Minute)
	p1 := optimum.WithActor(ctx, optimum.Actor{ID: "tok_p1", PersonID: "p1", Name: "P1", Role: optimum.RoleResponder})
	if _, err := svc.Acknowledge(p1, real.ID, "sms"); err != nil {
		t.Fatal(err)
	}
	// One SMS per recipient; the first is accepted 2 s after being planned, the other fails.
	q := db.Deliveries()
	planned := real.CreatedAt.Add(time.Second)
	var ds []broadcast.Delivery
	for _, p := range []string{"p1", "p2"} {
		ds = append(ds, broadcast.Delivery{Message: broadcast.Message{DeliveryID: "d-" + p, Channel: broadcast.ChannelSMS, To: "+5215550000000", Language: "es"},
			Subject: real.ID, Recipient: p, DueAt: planned, Deadline: planned.Add(time.Hour)})
	}
	ds = append(ds, broadcast.Delivery{Message: broadcast.Message{DeliveryID: "d-drill", Channel: broadcast.ChannelSMS, To: "+5215550000000"},
		Subject: drill.ID, Recipient: "p1", DueAt: planned, Deadline: planned.Add(time.Hour)})
	err := db.eventsTx(ctx, func(tx *eventTx) error { return enqueue(ctx, tx, ds, planned) })
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := q.Claim(ctx, "test", broadcast.ChannelSMS, planned, time.Minute, 10)
	if err != nil || len(claimed) != 3 {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	if err := q.Sent(ctx, "d-p1", 1, planned.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := q.Failed(ctx, "d-p2", 1, planned.Add(3*time.Second), "invalid number", false); err != nil {
		t.Fatal(err)
	}
	// The lifecycle resolves the real incident after 2 hours and escalates it once: as the
	// lifecycle will, in one transaction with the event carrying the new snapshot.
	resolvedAt := real.CreatedAt.Add(2 * time.Hour)
	err = db.eventsTx(ctx, func(tx *eventTx) error {
		inc, err := getIncident(ctx, tx, real.ID)
		if err != nil {
			return err
		}
		for _, step := range []struct {
			typ    string
			status incident.Status
			at     time.Time
		}{{"incident.escalated", inc.Status, resolvedAt.Add(-time.Hour)}, {"incident.transitioned", incident.StatusResolved, resolvedAt}, {"incident.transitioned", incident.StatusClosed, resolvedAt.Add(time.Hour)}} {
			inc.Status = step.status
			doc, _ := json.Marshal(inc)
			if _, err := tx.ExecContext(ctx, "UPDATE incidents SET status = $2, doc = $3 WHERE id = $1", inc.ID, string(inc.Status), string(doc)); err != nil {
				return err
			}
			if _, err := tx.appendEvent(ctx, optimum.Event{Type: step.typ, At: step.at, IncidentID: inc.ID, Incident: doc}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	st := db.Indicators()
	from, to := real.CreatedAt.Add(-time.Hour), real.CreatedAt.Add(time.Hour)
	incs, err := st.Incidents(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(incs) != 2 || incs[0].ID != real.ID || incs[1].ID != open.ID {
		t.Fatalf("incidents %+v, want the real one and the open one, no drill", incs)
	}
	got := incs[0]
	if got.Status != "closed" || got.ResolvedAt == nil || !got.ResolvedAt.Equal(resolvedAt) {
		t.Errorf("status %s resolved at %v, want closed, resolved at %v (the first resolved snapshot)", got.Status, got.ResolvedAt, resolvedAt)
	}
	if got.AcknowledgedAt == nil || got.AcknowledgedAt.Sub(got.CreatedAt) != 3*time.Minute || got.Escalations != 1 {
		t.Errorf("acknowledged %v escalations %d", got.AcknowledgedAt, got.Escalations)
	}
	if len(got.Recipients) != 2 || got.Recipients[0].AcknowledgedAt == nil || got.Recipients[1].AcknowledgedAt != nil || got.Recipients[1].Teams[0] != "tech" {
		t.Errorf("recipients %+v", got.Recipients)
	}
	if len(got.Deliveries) != 2 {
		t.Fatalf("deliveries %+v, want two (the drill's is not counted)", got.Deliveries)
	}
	sent, failed := got.Deliveries[0], got.Deliveries[1]
	if sent.Status != "sent" || sent.SentAt == nil || sent.SentAt.Sub(sent.CreatedAt) != 2*time.Second || failed.Status != "failed" || failed.FailedAt == nil {
		t.Errorf("deliveries %+v %+v", sent, failed)
	}
	if o := incs[1]; o.Priority != "P2" || o.AcknowledgedAt != nil || o.ResolvedAt != nil || len(o.Recipients) != 0 {
		t.Errorf("open incident %+v", o)
	}
	openNow, err := st.OpenIncidents(ctx)
	if err != nil || len(openNow) != 1 || openNow[0].ID != open.ID {
		t.Errorf("open incidents %+v, %v: want only the open real one", openNow, err)
	}

	// And through the service: the figures of these facts.
	r, err := indicators.New(st, indicators.Options{Now: func() time.Time { return now }}).Compute(ctx, indicators.Query{From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Declared != 2 || *r.Summary.TimeToResolve.Median != 7200 || *r.Summary.TimeToAck.Median != 180 || *r.Summary.AckRate != 50 {
		t.Errorf("summary %+v", r.Summary)
	}

	// An empty range is zeros.
	incs, err = st.Incidents(ctx, to.Add(time.Hour), to.Add(2*time.Hour))
	if err != nil || len(incs) != 0 {
		t.Errorf("empty range: %v, %v", incs, err)
	}
}

// The scrape-time figures: counts by label and cumulative histograms from the database.
func TestScrapeFigures(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	now := time.Date(2026, 11, 2, 16, 0, 0, 0, time.UTC)
	svc := incident.NewService(db.Incidents(), testPolicy(), nil, func() time.Time { return now })
	reporter := optimum.WithActor(ctx, optimum.Actor{ID: "tok_rep", Name: "Rep", Role: optimum.RoleReporter})
	var incs []incident.Incident
	for _, drill := range []bool{false, false, true} {
		inc, _, err := svc.Declare(reporter, incident.Declaration{Title: "x", Impact: incident.Critical, Urgency: incident.Critical, Drill: drill}, "")
		if err != nil {
			t.Fatal(err)
		}
		incs = append(incs, inc)
	}
	now = now.Add(3 * time.Minute)
	if _, err := svc.Acknowledge(optimum.WithActor(ctx, optimum.Actor{ID: "tok_a", PersonID: "pa", Name: "A", Role: optimum.RoleResponder}), incs[0].ID, "web"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(20 * time.Second) // 200 s after the declaration
	if _, err := svc.Acknowledge(optimum.WithActor(ctx, optimum.Actor{ID: "tok_b", PersonID: "pb", Name: "B", Role: optimum.RoleResponder}), incs[0].ID, "web"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Acknowledge(optimum.WithActor(ctx, optimum.Actor{ID: "tok_a", PersonID: "pa", Name: "A", Role: optimum.RoleResponder}), incs[2].ID, "web"); err != nil {
		t.Fatal(err) // a drill's acknowledgement: not in the latency histogram
	}
	planned := incs[0].CreatedAt
	var ds []broadcast.Delivery
	for i, ch := range []string{"sms", "sms", "webpush"} {
		ds = append(ds, broadcast.Delivery{Message: broadcast.Message{DeliveryID: fmt.Sprint("d", i), Channel: ch}, Subject: incs[0].ID,
			Recipient: fmt.Sprint("p", i), DueAt: planned, Deadline: planned.Add(time.Hour)})
	}
	// The drill's deliveries: counted apart (drill="true"), left out of the latency.
	for i, ch := range []string{"sms", "webpush"} {
		ds = append(ds, broadcast.Delivery{Message: broadcast.Message{DeliveryID: fmt.Sprint("drill", i), Channel: ch}, Subject: incs[2].ID,
			Recipient: fmt.Sprint("p", i), DueAt: planned, Deadline: planned.Add(time.Hour), Priority: "P1", Drill: true})
	}
	if err := db.eventsTx(ctx, func(tx *eventTx) error { return enqueue(ctx, tx, ds, planned) }); err != nil {
		t.Fatal(err)
	}
	q := db.Deliveries()
	if _, err := q.Claim(ctx, "test", broadcast.ChannelSMS, planned, time.Minute, 10); err != nil { // d0, d1, drill0; the pushes stay queued
		t.Fatal(err)
	}
	if err := q.Sent(ctx, "drill0", 1, planned.Add(100*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := q.Sent(ctx, "d0", 1, planned.Add(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := q.Sent(ctx, "d1", 1, planned.Add(4*time.Second)); err != nil {
		t.Fatal(err)
	}

	st := db.Indicators()
	declared, err := st.DeclaredCounts(ctx)
	if err != nil || fmt.Sprint(declared) != "[{[P1 false] 2} {[P1 true] 1}]" {
		t.Errorf("declared %v, %v", declared, err)
	}
	byStatus, err := st.DeliveryCounts(ctx)
	if err != nil || fmt.Sprint(byStatus) != "[{[sms sent false] 2} {[sms sent true] 1} {[webpush queued false] 1} {[webpush queued true] 1}]" {
		t.Errorf("deliveries %v, %v", byStatus, err)
	}
	outcomes, err := st.AttemptOutcomes(ctx)
	if err != nil || fmt.Sprint(outcomes) != "[{[sms sent false] 2} {[sms sent true] 1}]" {
		t.Errorf("attempt outcomes %v, %v", outcomes, err)
	}
	depth, err := st.QueueDepth(ctx)
	if err != nil || fmt.Sprint(depth) != "[{[webpush false] 1} {[webpush true] 1}]" {
		t.Errorf("queue depth %v, %v", depth, err)
	}
	// Send latencies 0.3 s and 4 s (the drill's 0.1 s is not counted): one at most 0.5 s, both at most 5 s.
	lat, err := st.DeliveryLatency(ctx, []float64{0.5, 5})
	if err != nil || len(lat) != 1 || lat[0].Label != "sms" || lat[0].Count != 2 || lat[0].Sum != 4.3 || fmt.Sprint(lat[0].Buckets) != "[1 2]" {
		t.Errorf("delivery latency %+v, %v", lat, err)
	}
	// Acknowledgements of the real incident after 180 s and 200 s: none within 60 s, one within 190 s, both within 300 s.
	ack, err := st.AckLatency(ctx, []float64{60, 190, 300})
	if err != nil || len(ack) != 1 || ack[0].Label != "P1" || ack[0].Count != 2 || ack[0].Sum != 380 || fmt.Sprint(ack[0].Buckets) != "[0 1 2]" {
		t.Errorf("ack latency %+v, %v", ack, err)
	}
}

// With the ITIL lifecycle: the time to resolve comes from the incident's resolved_at,
// which a reopening clears (the incident is open again) and the next resolution sets anew.
func TestIndicatorsFollowTheLifecycle(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	now := time.Date(2026, 11, 2, 16, 0, 0, 0, time.UTC)
	svc := incident.NewService(db.Incidents(), testPolicy(), nil, func() time.Time { return now })
	desk := incident.NewDesk(svc, db.Desk(), incident.DeskOptions{PublicURL: "https://bcp.example"})
	mgr := optimum.WithActor(ctx, optimum.Actor{ID: "tok_mgr", Name: "Marta", Role: optimum.RoleManager})
	inc, _, err := svc.Declare(mgr, incident.Declaration{Title: "Caída del ERP", Impact: incident.Critical, Urgency: incident.Critical}, "")
	if err != nil {
		t.Fatal(err)
	}
	step := func(after time.Duration, to incident.Status, note string) {
		t.Helper()
		now = inc.CreatedAt.Add(after)
		if _, err := desk.Transition(mgr, inc.ID, to, note); err != nil {
			t.Fatalf("to %s: %v", to, err)
		}
	}
	st := db.Indicators()
	facts := func() indicators.Incident {
		t.Helper()
		incs, err := st.Incidents(ctx, inc.CreatedAt, inc.CreatedAt.Add(time.Minute))
		if err != nil || len(incs) != 1 {
			t.Fatalf("incidents %v, %v", incs, err)
		}
		return incs[0]
	}
	open := func() int {
		t.Helper()
		o, err := st.OpenIncidents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(o)
	}
	step(2*time.Minute, incident.StatusInvestigating, "")
	step(90*time.Minute, incident.StatusResolved, "Se reinició el clúster de base de datos.")
	if got := facts(); got.ResolvedAt == nil || got.ResolvedAt.Sub(got.CreatedAt) != 90*time.Minute || open() != 0 {
		t.Fatalf("resolved: %+v, open %d", got.ResolvedAt, open())
	}
	step(100*time.Minute, incident.StatusReopened, "Volvió a fallar.")
	if got := facts(); got.ResolvedAt != nil || got.Status != "reopened" || open() != 1 {
		t.Fatalf("reopened: resolved at %v, status %s, open %d", got.ResolvedAt, got.Status, open())
	}
	step(150*time.Minute, incident.StatusInvestigating, "")
	step(5*time.Hour, incident.StatusResolved, "Se cambió el disco dañado.")
	got := facts()
	if got.ResolvedAt == nil || got.ResolvedAt.Sub(got.CreatedAt) != 5*time.Hour {
		t.Fatalf("resolved again at %v, want 5 h after the declaration", got.ResolvedAt)
	}
	r, err := indicators.New(st, indicators.Options{Now: func() time.Time { return now }}).Compute(ctx, indicators.Query{From: inc.CreatedAt, To: inc.CreatedAt.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	// Resolved after 5 h against a 4 h target: missed.
	if *r.Summary.TimeToResolve.Median != 18000 || r.Summary.ResolveSLA.Missed != 1 || len(r.Open) != 0 {
		t.Errorf("summary %+v, open %d", r.Summary, len(r.Open))
	}
}
