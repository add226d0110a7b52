package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/incident"
)

// BenchmarkIndicatorIncidents reads the facts of 500 real incidents declared over a week,
// each for 20 people (half of whom acknowledged) with two deliveries apiece, from SQLite
// in a temporary folder.
//
//	go test -run '^$' -bench IndicatorIncidents -benchtime 10x ./internal/store
func BenchmarkIndicatorIncidents(b *testing.B) {
	ctx := context.Background()
	db, err := OpenSQLite(ctx, b.TempDir()+"/optimum.db")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	from := time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)
	err = db.tx(ctx, func(tx *sql.Tx) error {
		for i := range 500 {
			created := from.Add(time.Duration(i) * 7 * 24 * time.Hour / 500)
			inc := incident.Incident{ID: fmt.Sprintf("inc%04d", i), Folio: incident.Folio(2026, i+1), Title: "bench", Priority: "P1",
				Status: incident.StatusAcknowledged, Teams: []string{"ops"}, Services: []string{"erp"}, CreatedAt: created,
				SLA: incident.SLA{AckBy: created.Add(5 * time.Minute), ResolveBy: created.Add(4 * time.Hour)}}
			doc, _ := json.Marshal(inc)
			if _, err := tx.ExecContext(ctx, `INSERT INTO incidents (id, folio, status, priority, drill, created_at, search, doc)
				VALUES ($1, $2, $3, 'P1', 0, $4, '', $5)`, inc.ID, inc.Folio, string(inc.Status), millis(created), string(doc)); err != nil {
				return err
			}
			for p := range 20 {
				person := fmt.Sprintf("p%02d", p)
				if _, err := tx.ExecContext(ctx, `INSERT INTO incident_recipients (incident_id, person_id, name, language, teams, channels)
					VALUES ($1, $2, $2, 'es', '["ops"]', '["sms"]')`, inc.ID, person); err != nil {
					return err
				}
				if p%2 == 0 {
					if _, err := tx.ExecContext(ctx, `INSERT INTO incident_acks (incident_id, person_id, name, channel, at) VALUES ($1, $2, $2, 'sms', $3)`,
						inc.ID, person, millis(created.Add(time.Minute))); err != nil {
						return err
					}
				}
				for _, ch := range []string{"sms", "webpush"} {
					if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, subject, recipient, channel, address, language, title, body, url, topic,
						ttl_seconds, status, due_at, deadline, created_at, updated_at, sent_at)
						VALUES ($1, $2, $3, $4, '', 'es', '', '', '', '', 60, 'sent', $5, $5, $5, $5, $5)`,
						inc.ID+person+ch, inc.ID, person, ch, millis(created)); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	st := db.Indicators()
	b.ReportAllocs()
	for b.Loop() {
		incs, err := st.Incidents(ctx, from, from.AddDate(0, 0, 7))
		if err != nil || len(incs) != 500 {
			b.Fatal(len(incs), err)
		}
	}
}
