package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// eachBackend runs a benchmark on a fresh SQLite and a fresh PostgreSQL database.
func eachBackend(b *testing.B, fn func(b *testing.B, db *store.DB)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, storetest.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { fn(b, storetest.Postgres(b)) })
}

// One declaration: the folio, the incident row and its event appended in one
// transaction, one at a time and from 8 goroutines at once.
func BenchmarkDeclare(b *testing.B) {
	ctx := optimum.WithActor(context.Background(), optimum.Actor{ID: "tok_bench", Name: "Bench", Role: optimum.RoleManager})
	d := incident.Declaration{Title: "Corte de energía en el CPD principal", Services: []string{"erp"}, Impact: incident.Critical, Urgency: incident.High, Location: "CDMX-1"}
	for _, par := range []int{1, 8} {
		b.Run(fmt.Sprintf("writers=%d", par), func(b *testing.B) {
			eachBackend(b, func(b *testing.B, db *store.DB) {
				svc := incident.NewService(db.Incidents(), config.Default().IncidentPolicy(), nil, nil)
				start := time.Now()
				if par == 1 {
					for b.Loop() {
						if _, _, err := svc.Declare(ctx, d, ""); err != nil {
							b.Fatal(err)
						}
					}
				} else {
					b.SetParallelism(par) // × GOMAXPROCS goroutines
					b.ResetTimer()        // not the database's creation
					start = time.Now()
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if _, _, err := svc.Declare(ctx, d, ""); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "declares/s")
			})
		})
	}
}

// Claiming 1,000 due deliveries when 100,000 are queued and due, as a dispatcher does
// after a large declaration. Between rounds (not timed) the claimed rows go back to the
// queue, so every round claims from 100,000.
func BenchmarkClaim1000Of100000(b *testing.B) {
	eachBackend(b, func(b *testing.B, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		const total, batch = 100_000, 5_000
		for i := 0; i < total; i += batch {
			ds := make([]broadcast.Delivery, 0, batch)
			for j := i; j < i+batch; j++ {
				ds = append(ds, broadcast.Delivery{
					Message: broadcast.Message{DeliveryID: fmt.Sprintf("dlv_%06d", j), Channel: broadcast.ChannelSMS, To: "+525512345678", Language: "es", Text: "Confirme recepcion BCP-2026-000001"},
					Subject: "inc_bench", Recipient: fmt.Sprintf("per_%06d", j), DueAt: now.Add(-time.Duration(total-j) * time.Millisecond), Deadline: now.Add(time.Hour),
				})
			}
			if err := db.Deliveries().Enqueue(ctx, ds); err != nil {
				b.Fatal(err)
			}
		}
		for b.Loop() {
			got, err := db.Deliveries().Claim(ctx, "bench", broadcast.ChannelSMS, now, time.Minute, 1000)
			if err != nil || len(got) != 1000 {
				b.Fatalf("claimed %d: %v", len(got), err)
			}
			b.StopTimer()
			if err := store.Requeue(ctx, db); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	})
}
