package store

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/config"
)

var (
	benchOpen = flag.Int("escalation.open", 100_000, "open escalations in the database")
	benchDue  = flag.Int("escalation.due", 1_000, "of which due at the tick")
)

// BenchmarkEscalationTick measures one engine tick over a database holding
// -escalation.open open escalations of which -escalation.due have their next step due:
// each due one pages the continuity team (one person, SMS). A real dispatcher with a
// sender that only counts sends them, so the benchmark also reports the delay from the
// due time to the first and the last send. See docs/escalation.md.
func BenchmarkEscalationTick(b *testing.B) {
	ctx := context.Background()
	db, err := OpenSQLite(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)
	seedEscalations(b, db, *benchOpen, t0)
	tpl, err := escalation.NewTemplates()
	if err != nil {
		b.Fatal(err)
	}

	var (
		mu    sync.Mutex
		sends []time.Time
	)
	sender := senderFunc(func(context.Context, broadcast.Message) (bool, error) {
		mu.Lock()
		sends = append(sends, time.Now())
		mu.Unlock()
		return false, nil
	})
	var ticks, firsts, lasts []time.Duration
	round := 0
	for b.Loop() {
		b.StopTimer()
		due := t0.Add(time.Duration(round) * time.Hour)
		makeDue(b, db, *benchDue, due)
		mu.Lock()
		sends = sends[:0]
		mu.Unlock()
		dctx, stop := context.WithCancel(ctx)
		wall0 := time.Now() // the dispatcher's clock: the due time, then moving with the wall
		disp := broadcast.NewDispatcher(db.Deliveries(), map[string]broadcast.Sender{"sms": sender},
			broadcast.DispatcherOptions{Concurrency: 16, Poll: 5 * time.Millisecond, Now: func() time.Time { return due.Add(time.Since(wall0)) }})
		var wg sync.WaitGroup
		wg.Go(func() { _ = disp.Run(dctx) })
		eng := escalation.New(db.Escalation(), tpl, nil, escalation.Options{PublicURL: "https://bcp.example.com",
			Channels: []string{"sms"}, Owner: "bench", Wake: disp.Wake, Batch: 200})
		b.StartTimer()

		start := time.Now()
		res, err := eng.Tick(ctx, due)
		tick := time.Since(start)

		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if res.Runs != *benchDue || res.Deliveries != *benchDue {
			b.Fatalf("tick = %+v, want %d runs and deliveries", res, *benchDue)
		}
		for deadline := time.Now().Add(2 * time.Minute); ; {
			mu.Lock()
			n := len(sends)
			mu.Unlock()
			if n >= *benchDue {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("only %d of %d sends", n, *benchDue)
			}
			time.Sleep(time.Millisecond)
		}
		stop()
		wg.Wait()
		mu.Lock()
		sort.Slice(sends, func(i, j int) bool { return sends[i].Before(sends[j]) })
		ticks, firsts, lasts = append(ticks, tick), append(firsts, sends[0].Sub(start)), append(lasts, sends[len(sends)-1].Sub(start))
		mu.Unlock()
		round++
		b.StartTimer()
	}
	b.ReportMetric(median(ticks).Seconds()*1000, "tick-ms")
	b.ReportMetric(median(firsts).Seconds()*1000, "first-send-ms")
	b.ReportMetric(median(lasts).Seconds()*1000, "last-send-ms")
	b.ReportMetric(float64(*benchOpen), "open")
	b.ReportMetric(float64(*benchDue), "due")
}

type senderFunc func(context.Context, broadcast.Message) (bool, error)

func (f senderFunc) Send(ctx context.Context, m broadcast.Message) (bool, error) { return f(ctx, m) }

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// seedEscalations writes n declared P1 incidents, each with a running escalation at
// step 1 whose next step is an hour away, plus the continuity team of one person.
func seedEscalations(b *testing.B, db *DB, n int, t0 time.Time) {
	b.Helper()
	ctx := context.Background()
	ladder, _ := json.Marshal(config.Default().Escalation.Ladders[0])
	w := db.write
	mustExec := func(q string, args ...any) {
		if _, err := w.ExecContext(ctx, q, args...); err != nil {
			b.Fatal(err)
		}
	}
	mustExec(`INSERT INTO teams (id, name_es, name_en, created_at) VALUES ('continuity', 'Continuidad', 'Continuity', 0)`)
	mustExec(`INSERT INTO people (id, name, email, phone, language, created_at, updated_at) VALUES ('per_carla', 'Carla', 'carla@example.com', '+525500000002', 'es', 0, 0)`)
	mustExec(`INSERT INTO team_members (team_id, person_id, role) VALUES ('continuity', 'per_carla', 'member')`)
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	insInc, _ := tx.PrepareContext(ctx, `INSERT INTO incidents (id, folio, status, priority, drill, created_at, search, doc) VALUES ($1, $2, 'declared', 'P1', 0, $3, '', $4)`)
	insRun, _ := tx.PrepareContext(ctx, `INSERT INTO escalations (incident_id, ladder_id, ladder, state, step, round, step_at, next_step_at,
		ack_by, resolve_by, ack_sla, resolve_sla, due_at, created_at, updated_at) VALUES ($1, 'p1', $2, 'running', 0, 0, $3, $4, $5, $5, 'pending', 'pending', $4, $3, $3)`)
	far := t0.Add(1000 * time.Hour)
	for i := range n {
		id := fmt.Sprintf("inc_bench%07d", i)
		inc := incident.Incident{ID: id, Folio: fmt.Sprintf("BCP-2026-%07d", i), Title: "Simulación de carga", Priority: "P1",
			Status: incident.StatusDeclared, Services: []string{}, Causes: []string{}, Teams: []string{}, Assigned: []incident.Person{},
			SLA: incident.SLA{AckBy: far, ResolveBy: far}, CreatedAt: t0, UpdatedAt: t0}
		doc, _ := json.Marshal(inc)
		if _, err := insInc.ExecContext(ctx, id, inc.Folio, millis(t0), string(doc)); err != nil {
			b.Fatal(err)
		}
		if _, err := insRun.ExecContext(ctx, id, string(ladder), millis(t0), millis(far.Add(-time.Hour)), millis(far)); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// makeDue puts the next step of the first n escalations at due, back at step 1.
func makeDue(b *testing.B, db *DB, n int, due time.Time) {
	b.Helper()
	_, err := db.write.ExecContext(context.Background(), `UPDATE escalations SET step = 0, round = 0, state = 'running', step_at = $1,
		next_step_at = $2, due_at = $2, lease_owner = NULL, lease_until = NULL
		WHERE incident_id IN (SELECT incident_id FROM escalations ORDER BY incident_id LIMIT $3)`,
		millis(due.Add(-5*time.Minute)), millis(due), n)
	if err != nil {
		b.Fatal(err)
	}
	// Reminders of the previous round are not part of this tick's work.
	if _, err := db.write.ExecContext(context.Background(), `UPDATE escalation_pages SET next_at = NULL`); err != nil {
		b.Fatal(err)
	}
}
