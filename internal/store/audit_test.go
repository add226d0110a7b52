package store_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/internal/audit"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

func appendN(t *testing.T, db *store.DB, n int, at time.Time) []int64 {
	t.Helper()
	var ids []int64
	for i := range n {
		data, _ := json.Marshal(map[string]any{"n": i, "texto": "sin energía en la sala 2"})
		id, err := store.AppendEvent(context.Background(), db, optimum.Event{Type: "incident.updated", At: at.Add(time.Duration(i) * time.Second),
			IncidentID: "inc_1", Actor: &optimum.Actor{ID: "tok_1", Name: "Ana", Role: optimum.RoleManager}, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// A row edited directly in the database breaks the chain at that event; an untouched
// log holds.
func TestAnEditedEventBreaksTheChain(t *testing.T) {
	storetest.Each(t, testAnEditedEventBreaksTheChain)
}

func testAnEditedEventBreaksTheChain(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	ids := appendN(t, db, 20, time.Now())
	r, err := db.VerifyChain(ctx)
	if err != nil || r.Broken != nil || r.Checked != 20 || r.Head.ID != ids[19] {
		t.Fatalf("untouched log: %+v, %v; want 20 events that hold", r, err)
	}
	if err := store.Exec(ctx, db, `UPDATE events SET data = replace(data, 'sala 2', 'sala 3') WHERE id = $1`, ids[7]); err != nil {
		t.Fatal(err)
	}
	r, err = db.VerifyChain(ctx)
	if err != nil || r.Broken == nil || r.Broken.EventID != ids[7] || !strings.Contains(r.Broken.Reason, "changed") || r.Checked != 7 {
		t.Fatalf("after editing event %d: %+v, %v", ids[7], r, err)
	}
	if err := store.Exec(ctx, db, `DELETE FROM events WHERE id = $1`, ids[7]); err != nil {
		t.Fatal(err)
	}
	r, _ = db.VerifyChain(ctx)
	if r.Broken == nil || r.Broken.EventID != ids[8] || !strings.Contains(r.Broken.Reason, "does not follow") {
		t.Fatalf("after removing event %d: %+v", ids[7], r)
	}
}

// A database from before the chain keeps its old events unhashed; the chain starts with
// the first event after the migration, and a hash removed later is a break.
func TestTheChainStartsAfterTheMigration(t *testing.T) {
	storetest.Each(t, testTheChainStartsAfterTheMigration)
}

func testTheChainStartsAfterTheMigration(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	old := appendN(t, db, 3, time.Now())
	// As if those three had been appended before migration 0042.
	for _, q := range []string{"UPDATE events SET hash = NULL, prev_hash = NULL", "UPDATE audit_chain SET starts_at_event = " + itoa(old[2]+1)} {
		if err := store.Exec(ctx, db, q); err != nil {
			t.Fatal(err)
		}
	}
	ids := appendN(t, db, 4, time.Now())
	r, err := db.VerifyChain(ctx)
	if err != nil || r.Broken != nil || r.Before != 3 || r.Checked != 4 || r.StartsAt != old[2]+1 {
		t.Fatalf("chain after the migration: %+v, %v; want 3 before, 4 checked", r, err)
	}
	if err := store.Exec(ctx, db, "UPDATE events SET hash = NULL WHERE id = $1", ids[1]); err != nil {
		t.Fatal(err)
	}
	if r, _ := db.VerifyChain(ctx); r.Broken == nil || r.Broken.EventID != ids[1] {
		t.Fatalf("a chained event without its hash: %+v", r)
	}
}

// An export of a period checks offline; a period with no events is empty, anchored at
// the newest event before it.
func TestAnExportOfAPeriodChecksOffline(t *testing.T) {
	storetest.Each(t, testAnExportOfAPeriodChecksOffline)
}

func testAnExportOfAPeriodChecksOffline(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	t0 := time.Date(2026, 9, 19, 12, 0, 0, 0, time.UTC)
	ids := appendN(t, db, 10, t0) // one a second
	var got []audit.ExportedEvent
	var header audit.Export
	x, err := db.AuditExport(ctx, t0.Add(3*time.Second), t0.Add(7*time.Second), func(h audit.Export) error { header = h; return nil },
		func(e audit.ExportedEvent) error { got = append(got, e); return nil })
	if err != nil || len(got) != 4 || got[0].ID != ids[3] || got[3].ID != ids[6] {
		t.Fatalf("export of 4 s: %d events, %v", len(got), err)
	}
	if header.Anchor.ID != ids[2] || header.Anchor.Hash != *got[0].PrevHash || x.Head.ID != ids[6] {
		t.Fatalf("anchor %+v, head %+v", header.Anchor, x.Head)
	}
	x.Events = got
	b, _ := json.Marshal(x)
	if n, err := audit.VerifyExport(strings.NewReader(string(b))); err != nil || n != 4 {
		t.Fatalf("offline check = %d, %v", n, err)
	}
	x, err = db.AuditExport(ctx, t0.Add(time.Hour), t0.Add(2*time.Hour), func(audit.Export) error { return nil },
		func(e audit.ExportedEvent) error { t.Errorf("event %d in an empty period", e.ID); return nil })
	if err != nil || x.Anchor.ID != ids[9] || x.Head != x.Anchor {
		t.Fatalf("empty period: anchor %+v head %+v, %v", x.Anchor, x.Head, err)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// BenchmarkVerifyChain1M walks a log of 1,000,000 chained events (about 300 bytes of
// JSON each, like a delivery's progress) on SQLite; one op is one whole walk. The log is
// built once, outside the timer (about a minute). Figures in docs/audit.md.
func BenchmarkVerifyChain1M(b *testing.B) {
	ctx := context.Background()
	db, err := store.OpenSQLite(ctx, b.TempDir()+"/chain.db")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const n, batch = 1_000_000, 10_000
	at := time.Now()
	snapshot := []byte(`{"id":"inc_06h504dn7hs3qbcvc41wynfa18","folio":"BCP-2026-000123","status":"declared","priority":"P1","title":"Corte de energía en el CPD principal"}`)
	for i := 0; i < n; i += batch {
		es := make([]optimum.Event, batch)
		for j := range es {
			data, _ := json.Marshal(map[string]any{"sent": i + j, "channel": "sms", "person": "per_06h504dn7kys7nmkkqyanvh3p0"})
			es[j] = optimum.Event{Type: "incident.deliveries", At: at, IncidentID: "inc_06h504dn7hs3qbcvc41wynfa18",
				Actor: &optimum.Actor{ID: "system", Name: "OPTIMUM"}, Incident: snapshot, Data: data}
		}
		if err := store.AppendEvents(ctx, db, es); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		r, err := db.VerifyChain(ctx)
		if err != nil || r.Broken != nil || r.Checked != n {
			b.Fatalf("%+v, %v", r, err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// Retention deletes the delivery attempts and webhook records older than its periods,
// keeps the newer ones, says so in the log, and leaves the chain whole.
func TestRetentionDeletesOldRecords(t *testing.T) { storetest.Each(t, testRetentionDeletesOldRecords) }

func testRetentionDeletesOldRecords(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	old, recent := now.Add(-500*24*time.Hour).UnixMilli(), now.Add(-24*time.Hour).UnixMilli()
	insert := `INSERT INTO deliveries (id, subject, recipient, channel, address, language, title, body, url, topic,
		ttl_seconds, status, due_at, deadline, created_at, updated_at) VALUES ($1, 'inc_1', 'per_1', 'sms', '+525512345678', 'es',
		'', '', '', 'inc_1', 60, 'sent', 1, 2, 1, 1)`
	for _, s := range []struct {
		q    string
		args []any
	}{
		{insert, []any{"dlv_old"}}, {insert, []any{"dlv_new"}},
		{"INSERT INTO delivery_attempts (delivery_id, attempt, started_at, outcome) VALUES ('dlv_old', 1, $1, 'sent')", []any{old}},
		{"INSERT INTO delivery_attempts (delivery_id, attempt, started_at, outcome) VALUES ('dlv_new', 1, $1, 'sent')", []any{recent}},
		{"INSERT INTO webhook_calls (call_key, status, received_at) VALUES ('sms:SMold', 200, $1)", []any{old}},
		{"INSERT INTO webhook_calls (call_key, status, received_at) VALUES ('sms:SMnew', 200, $1)", []any{recent}},
	} {
		if err := store.Exec(ctx, db, s.q, s.args...); err != nil {
			t.Fatal(err)
		}
	}
	attempts, webhooks, err := db.ApplyRetention(ctx, store.Retention{DeliveryAttempts: 400 * 24 * time.Hour, WebhookCalls: 90 * 24 * time.Hour}, now)
	if err != nil || attempts != 1 || webhooks != 1 {
		t.Fatalf("retention deleted %d attempts, %d webhooks, %v; want 1 and 1", attempts, webhooks, err)
	}
	for q, want := range map[string]string{
		"SELECT delivery_id FROM delivery_attempts":                    "dlv_new",
		"SELECT call_key FROM webhook_calls":                           "sms:SMnew",
		"SELECT count(*) FROM deliveries":                              "2", // the figures stay
		"SELECT count(*) FROM events WHERE type = 'retention.applied'": "1",
	} {
		if got, err := store.QueryString(ctx, db, q); err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", q, got, err, want)
		}
	}
	if r, err := db.VerifyChain(ctx); err != nil || r.Broken != nil {
		t.Errorf("chain after retention: %+v, %v", r, err)
	}
	// Nothing old left: no event.
	if a, w, _ := db.ApplyRetention(ctx, store.Retention{DeliveryAttempts: 400 * 24 * time.Hour}, now); a+w != 0 {
		t.Errorf("a second run deleted %d", a+w)
	}
}
