package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/indicators"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// The indicator and scrape queries give the same facts on SQLite and PostgreSQL: a real
// incident worked through the lifecycle, a drill left out, per-channel deliveries and
// the latency histograms.
func TestIndicatorQueriesOnEveryBackend(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 2, 16, 0, 0, 0, time.UTC)
		svc := incident.NewService(db.Incidents(), config.Default().IncidentPolicy(), nil, func() time.Time { return now })
		desk := incident.NewDesk(svc, db.Desk(), incident.DeskOptions{PublicURL: "https://bcp.example"})
		mgr := optimum.WithActor(ctx, optimum.Actor{ID: "tok_mgr", PersonID: "p1", Name: "Marta", Role: optimum.RoleManager})
		var incs []incident.Incident
		for _, drill := range []bool{false, true} {
			inc, _, err := svc.Declare(mgr, incident.Declaration{Title: "Caída del ERP", Impact: incident.Critical, Urgency: incident.High,
				Services: []string{"erp"}, Causes: []string{"energía"}, Drill: drill}, "")
			if err != nil {
				t.Fatal(err)
			}
			incs = append(incs, inc)
		}
		real := incs[0]
		now = real.CreatedAt.Add(2 * time.Minute)
		if _, err := svc.Acknowledge(mgr, real.ID, "web"); err != nil {
			t.Fatal(err)
		}
		now = real.CreatedAt.Add(3 * time.Hour)
		if _, err := desk.Transition(mgr, real.ID, incident.StatusResolved, "Se cambió la fuente de poder."); err != nil {
			t.Fatal(err)
		}
		// Enqueue stamps created_at with the wall clock: the sends are timed from it.
		planned := time.Now()
		var ds []broadcast.Delivery
		for i, ch := range []string{broadcast.ChannelSMS, broadcast.ChannelSMS, broadcast.ChannelWebPush} {
			ds = append(ds, broadcast.Delivery{Message: broadcast.Message{DeliveryID: fmt.Sprint("d", i), Channel: ch, To: "+525555555555", Language: "es"},
				Subject: real.ID, Recipient: fmt.Sprint("p", i), DueAt: planned, Deadline: planned.Add(time.Hour)})
		}
		q := db.Deliveries()
		if err := q.Enqueue(ctx, ds); err != nil {
			t.Fatal(err)
		}
		if _, err := q.Claim(ctx, "test", broadcast.ChannelSMS, planned.Add(time.Second), time.Minute, 10); err != nil {
			t.Fatal(err)
		}
		if err := q.Sent(ctx, "d0", 1, time.Now().Add(1500*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if err := q.Failed(ctx, "d1", 1, planned.Add(2*time.Second), "invalid number", false); err != nil {
			t.Fatal(err)
		}

		st := db.Indicators()
		r, err := indicators.New(st, config.Default().IndicatorOptions(func() time.Time { return now })).
			Compute(ctx, indicators.Query{From: real.CreatedAt.Add(-time.Hour), To: real.CreatedAt.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		s := r.Summary
		if s.Declared != 1 || s.Acknowledged != 1 || s.Resolved != 1 || *s.TimeToAck.Median != 120 || *s.TimeToResolve.Median != 10800 ||
			*s.AckSLA.Percent != 100 || *s.ResolveSLA.Percent != 100 || len(r.Open) != 0 {
			t.Errorf("summary %+v, open %d", s, len(r.Open))
		}
		if len(r.Channels) != 2 || r.Channels[0].Channel != "sms" || r.Channels[0].Sent != 1 || r.Channels[0].Failed != 1 || r.Channels[1].Pending != 1 {
			t.Errorf("channels %+v", r.Channels)
		}
		if len(r.OverTime.ByService) != 1 || r.OverTime.ByService[0].Key != "erp" {
			t.Errorf("by service %+v", r.OverTime.ByService)
		}

		declared, err := st.DeclaredCounts(ctx)
		if err != nil || fmt.Sprint(declared) != "[{[P1 false] 1} {[P1 true] 1}]" {
			t.Errorf("declared %v, %v", declared, err)
		}
		outcomes, err := st.AttemptOutcomes(ctx)
		if err != nil || fmt.Sprint(outcomes) != "[{[sms failed false] 1} {[sms sent false] 1}]" {
			t.Errorf("outcomes %v, %v", outcomes, err)
		}
		depth, err := st.QueueDepth(ctx)
		if err != nil || fmt.Sprint(depth) != "[{[webpush false] 1}]" {
			t.Errorf("queue depth %v, %v", depth, err)
		}
		lat, err := st.DeliveryLatency(ctx, []float64{1, 5})
		if err != nil || len(lat) != 1 || lat[0].Count != 1 || lat[0].Sum < 1.5 || lat[0].Sum >= 5 || fmt.Sprint(lat[0].Buckets) != "[0 1]" {
			t.Errorf("delivery latency %+v, %v", lat, err)
		}
		ack, err := st.AckLatency(ctx, []float64{60, 300})
		if err != nil || len(ack) != 1 || ack[0].Label != "P1" || ack[0].Count != 1 || ack[0].Sum != 120 || fmt.Sprint(ack[0].Buckets) != "[0 1]" {
			t.Errorf("ack latency %+v, %v", ack, err)
		}
	})
}
