package store_test

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

var benchAudience = flag.Int("declare.audience", 100_000, "people in the declared team")

// BenchmarkDeclareLargeAudience measures one declaration to a team of -declare.audience
// people, in process (no HTTP), and splits it: resolving the audience from the
// directory, and the declaration's transaction (the incident, its recipients, its
// event). The whole-server figure is BenchmarkAlert100k's (cmd/optimum); this one says
// where its declare time goes. See docs/deliveries.md.
func BenchmarkDeclareLargeAudience(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) { benchDeclare(b) })
	}
}

func benchDeclare(b *testing.B) {
	{
		ctx := context.Background()
		db := storetest.Open(b)
		now := func() time.Time { return time.Now() }
		dir := contacts.NewDirectory(db.Contacts(), now)
		cfg := config.Default()
		if err := dir.EnsureTeams(ctx, cfg.TeamInputs()); err != nil {
			b.Fatal(err)
		}
		admin := optimum.WithActor(ctx, optimum.Actor{ID: "tok_admin", Name: "Admin", Role: optimum.RoleAdmin})
		seedPeople(b, dir, admin, *benchAudience)
		svc := incident.NewService(db.Incidents(), cfg.IncidentPolicy(), dir, now)
		var resolve, declare time.Duration
		i := 0
		for b.Loop() {
			t0 := time.Now()
			rs, err := dir.Resolve(ctx, contacts.Audience{Teams: []string{"operations"}})
			if err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			inc, _, err := svc.Declare(admin, incident.Declaration{Title: fmt.Sprintf("Sismo %d", i), Impact: "critical",
				Urgency: "critical", Teams: []string{"operations"}}, "")
			if err != nil {
				b.Fatal(err)
			}
			t2 := time.Now()
			if inc.Audience != len(rs) || len(rs) != *benchAudience {
				b.Fatalf("audience %d, resolved %d, want %d", inc.Audience, len(rs), *benchAudience)
			}
			resolve += t1.Sub(t0)
			declare += t2.Sub(t1)
			i++
		}
		b.ReportMetric(float64(resolve.Milliseconds())/float64(i), "resolve-ms/op")
		b.ReportMetric(float64(declare.Milliseconds())/float64(i), "declare-ms/op")
	}
}

// seedPeople imports n people into the operations team, in files of MaxImportRows.
func seedPeople(b *testing.B, dir *contacts.Directory, admin context.Context, n int) {
	b.Helper()
	for from := 0; from < n; from += contacts.MaxImportRows {
		var csv strings.Builder
		csv.WriteString("name,email,phone,language,teams,manager_email\n")
		for i := from; i < min(n, from+contacts.MaxImportRows); i++ {
			fmt.Fprintf(&csv, "Persona %06d,p%06d@bench.example.test,+5255%08d,es,operations,\n", i, i, i)
		}
		rows, err := contacts.ParseCSV(strings.NewReader(csv.String()))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := dir.Import(admin, rows, nil, nil, false); err != nil {
			b.Fatal(err)
		}
	}
}

// A large import refreshes PostgreSQL's planner statistics at once: before, the first
// declaration after importing 20,000 people waited 57 s for a plan made on empty-table
// statistics, until autovacuum caught up a minute later (0.17 s after).
func TestALargeImportRefreshesThePlannersStatistics(t *testing.T) {
	ctx := context.Background()
	db := storetest.Postgres(t)
	dir := contacts.NewDirectory(db.Contacts(), time.Now)
	if err := dir.EnsureTeams(ctx, config.Default().TeamInputs()); err != nil {
		t.Fatal(err)
	}
	admin := optimum.WithActor(ctx, optimum.Actor{ID: "tok_admin", Name: "Admin", Role: optimum.RoleAdmin})
	analyzed := func() (people, members bool) {
		t.Helper()
		rows, err := storetest.Raw(t, db).QueryContext(ctx, `SELECT relname, last_analyze IS NOT NULL FROM pg_stat_user_tables
			WHERE relname IN ('people', 'team_members')`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var name string
			var done bool
			if err := rows.Scan(&name, &done); err != nil {
				t.Fatal(err)
			}
			if name == "people" {
				people = done
			} else {
				members = done
			}
		}
		return people, members
	}
	importN := func(from, n int) {
		var csv strings.Builder
		csv.WriteString("name,email,phone,language,teams,manager_email\n")
		for i := from; i < from+n; i++ {
			fmt.Fprintf(&csv, "Persona %06d,p%06d@example.test,+5255%08d,es,operations,\n", i, i, i)
		}
		rows, err := contacts.ParseCSV(strings.NewReader(csv.String()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dir.Import(admin, rows, nil, nil, false); err != nil {
			t.Fatal(err)
		}
	}
	importN(0, 20) // a small file leaves it to autovacuum
	if p, m := analyzed(); p || m {
		t.Fatalf("analyzed after 20 people: people %v, team_members %v", p, m)
	}
	importN(20, 500)
	if p, m := analyzed(); !p || !m {
		t.Fatalf("after 500 people: people analyzed %v, team_members analyzed %v; want both", p, m)
	}
}
