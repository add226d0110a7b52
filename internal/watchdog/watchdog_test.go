package watchdog_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
	"github.com/optimum-bcp/optimum/internal/watchdog"
)

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}
func (b *syncBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), s)
}

// A P1 is declared at t0 and its first alerts queued; then no node ticks, sends or
// consumes. With a grace of 1 minute (two ticks plus the lease), 10 minutes for queued
// deliveries and 1 minute for consumers, the watchdog sees, as the clock moves:
//
//	t0          nothing late
//	t0+3m01s    the leads' 2-minute reminders (due t0+2m) late by over 1m
//	t0+6m01s    the second step (due t0+5m) late by over 1m
//	t0+10m01s   the deliveries queued at t0
//
// and a consumer whose next event has waited over a minute. The error line is written at
// the first late look, not again 30 s later, again a minute later, and a line says when
// nothing is late any more.
func TestWatchdogCountsLateWork(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)
		var (
			mu  sync.Mutex
			now = t0
		)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }

		cfg := config.Default()
		dir := contacts.NewDirectory(db.Contacts(), clock)
		if err := dir.EnsureTeams(ctx, cfg.TeamInputs()); err != nil {
			t.Fatal(err)
		}
		rows, err := contacts.ParseCSV(strings.NewReader("name,email,phone,language,teams,manager_email\n" +
			"Ana Líder TI,ana@example.com,+525500000003,es,technology:lead,\n"))
		if err != nil {
			t.Fatal(err)
		}
		admin := optimum.WithActor(ctx, optimum.Actor{ID: "tok_admin", Name: "Admin", Role: optimum.RoleAdmin})
		if _, err := dir.Import(admin, rows, nil, nil, false); err != nil {
			t.Fatal(err)
		}
		if err := escalation.NewLadders(db.Escalation(), clock).Seed(ctx, cfg.Escalation.Ladders); err != nil {
			t.Fatal(err)
		}
		svc := incident.NewService(db.Incidents(), cfg.IncidentPolicy(), dir, clock)
		if _, _, err := svc.Declare(admin, incident.Declaration{Title: "Caída", Impact: "critical", Urgency: "critical",
			Teams: []string{"technology"}}, ""); err != nil {
			t.Fatal(err)
		}
		tpl, err := escalation.NewTemplates()
		if err != nil {
			t.Fatal(err)
		}
		eng := escalation.New(db.Escalation(), tpl, nil, escalation.Options{PublicURL: "https://bcp.example.com",
			Channels: []string{"sms"}, Owner: "only", Now: clock})
		for {
			n, err := eng.Consume(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}

		logs := &syncBuffer{}
		dog := watchdog.New(db, watchdog.Options{
			Limits:   store.OverdueLimits{Grace: time.Minute, Queued: 10 * time.Minute, Stalled: time.Minute},
			LogEvery: time.Minute, Now: clock, Logger: slog.New(slog.NewTextHandler(logs, nil)),
		})
		look := func(at time.Time) store.Overdue {
			t.Helper()
			set(at)
			o, err := dog.Check(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return o
		}
		const line = "promised work is late"

		if o := look(t0); o.Steps != 0 || o.Reminders != 0 || o.Deliveries != 0 || len(o.Stalled) != 0 || len(o.Parked) != 0 {
			t.Fatalf("at the declaration: %+v, want nothing late", o)
		}
		if r := dog.Concerns(ctx); len(r) != 0 {
			t.Errorf("concerns at the declaration = %v", r)
		}
		if o := look(t0.Add(2*time.Minute + 59*time.Second)); o.Reminders != 0 {
			t.Errorf("reminders 59 s past due = %d, want 0 (within the grace)", o.Reminders)
		}
		o := look(t0.Add(3*time.Minute + time.Second))
		if o.Reminders != 1 || o.Steps != 0 || o.Deliveries != 0 {
			t.Errorf("at 3m01s: %+v, want Ana's reminder late and nothing else", o)
		}
		if n := logs.count(line); n != 1 {
			t.Errorf("error lines after the first late look = %d, want 1", n)
		}
		look(t0.Add(3*time.Minute + 31*time.Second))
		if n := logs.count(line); n != 1 {
			t.Errorf("error lines 30 s later = %d, want still 1", n)
		}
		o = look(t0.Add(6*time.Minute + time.Second))
		if o.Steps != 1 || o.Reminders != 1 {
			t.Errorf("at 6m01s: %+v, want the second step and the reminder late", o)
		}
		if n := logs.count(line); n != 2 {
			t.Errorf("error lines a minute after the first = %d, want 2", n)
		}
		o = look(t0.Add(10*time.Minute + time.Second))
		if o.Deliveries == 0 {
			t.Errorf("at 10m01s: %+v, want the deliveries queued at t0 late", o)
		}
		reasons := strings.Join(dog.Concerns(ctx), "\n")
		for _, want := range []string{"1 escalation steps overdue", "1 reminders overdue", "deliveries queued past their time"} {
			if !strings.Contains(reasons, want) {
				t.Errorf("concerns %q lack %q", reasons, want)
			}
		}

		// A consumer falls behind: the next event waits with its cursor standing still.
		set(t0.Add(10 * time.Minute))
		if _, _, err := svc.Declare(admin, incident.Declaration{Title: "Otra caída", Impact: "low", Urgency: "low",
			Teams: []string{"technology"}}, ""); err != nil {
			t.Fatal(err)
		}
		if o := look(t0.Add(10*time.Minute + 59*time.Second)); len(o.Stalled) != 0 {
			t.Errorf("consumers 59 s behind: %+v, want none stalled yet", o.Stalled)
		}
		o = look(t0.Add(11*time.Minute + time.Second))
		if len(o.Stalled) != 1 || o.Stalled[0].Consumer != escalation.ConsumerName || o.Stalled[0].Pending < 1 {
			t.Errorf("consumers a minute behind: %+v, want the escalation engine's, with its events pending", o.Stalled)
		}

		// Back at t0 nothing is late any more (as after the work was done): said once.
		for {
			n, err := eng.Consume(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		look(t0)
		if n := logs.count("nothing is late any more"); n != 1 {
			t.Errorf("recovery lines = %d, want 1", n)
		}
	})
}
