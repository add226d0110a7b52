package store_test

import (
	"context"
	"testing"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store"
)

// Reading 500 events of the log (a board's replay with ?since=, a consumer's batch), each
// with the incident's snapshot: what a stream or a consumer pays per batch, including the
// check that each event's stored JSON is readable.
func BenchmarkEventsAfter500(b *testing.B) {
	ctx := optimum.WithActor(context.Background(), optimum.Actor{ID: "tok_bench", Name: "Bench", Role: optimum.RoleManager})
	d := incident.Declaration{Title: "Corte de energía en el CPD principal", Description: "Sin energía en la sala 2; los UPS aguantan 20 minutos.",
		Services: []string{"erp", "correo", "banca-movil"}, Causes: []string{"energía"}, Impact: incident.Critical, Urgency: incident.High, Location: "CDMX-1"}
	eachBackend(b, func(b *testing.B, db *store.DB) {
		svc := incident.NewService(db.Incidents(), config.Default().IncidentPolicy(), nil, nil)
		for range 500 {
			if _, _, err := svc.Declare(ctx, d, ""); err != nil {
				b.Fatal(err)
			}
		}
		for b.Loop() {
			events, err := db.EventsAfter(context.Background(), 0, 500)
			if err != nil || len(events) != 500 {
				b.Fatalf("%d events, %v", len(events), err)
			}
		}
	})
}
