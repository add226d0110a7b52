package drill_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/drill"
)

// BenchmarkCompute10000 computes the report of a drill of 10,000 people (two deliveries
// each, 7,000 acknowledgements, three criteria): the work of one board refresh or one
// report download, without the database reads.
func BenchmarkCompute10000(b *testing.B) {
	start := time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC)
	end := start.Add(30 * time.Minute)
	teams := []string{"directors", "technology", "operations", "continuity"}
	r := drill.Run{ID: "drr_bench", Status: drill.StatusEnded, StartedAt: &start, EndsAt: &end, EndedAt: &end, Plan: drill.Plan{
		Name: "Bench", Teams: teams, Window: drill.Duration(30 * time.Minute),
		Criteria: []drill.Criterion{
			{Scope: "team:directors", Percent: 100, Within: drill.Duration(15 * time.Minute)},
			{Scope: "all", Percent: 90, Within: drill.Duration(30 * time.Minute)},
			{Scope: "role:lead", Percent: 100, Within: drill.Duration(10 * time.Minute)},
		},
	}}
	var f drill.Facts
	for i := range 10000 {
		id := fmt.Sprintf("per_%05d", i)
		role := "member"
		if i%20 == 0 {
			role = "lead"
		}
		f.Targets = append(f.Targets, drill.Target{PersonID: id, Name: id, HasPhone: true, Push: i % 2,
			Memberships: []contacts.Membership{{Team: teams[i%4], Role: role}}})
		sent := start.Add(time.Duration(i%60) * time.Second)
		f.Deliveries = append(f.Deliveries, drill.DeliveryFact{PersonID: id, Channel: "sms", Status: "sent", ReachedAt: &sent})
		if i%2 == 1 {
			f.Deliveries = append(f.Deliveries, drill.DeliveryFact{PersonID: id, Channel: "webpush", Status: "failed", Error: "410"})
		}
		if i%10 < 7 {
			f.Acks = append(f.Acks, drill.AckFact{PersonID: id, Channel: "link", At: start.Add(time.Duration(i%2400) * time.Second)})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		rep := drill.Compute(r, f, end)
		if rep.Overall.Acknowledged != 7000 {
			b.Fatalf("acknowledged %d", rep.Overall.Acknowledged)
		}
	}
}
