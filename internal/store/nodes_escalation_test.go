package store_test

import (
	"context"
	"fmt"
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
)

// Three nodes, two claimers each, claim the due escalation steps and reminders at the
// same moment: each row is claimed by one of them only, every row is claimed, and none
// again until its lease has expired; then each is claimable once more.
func TestNodesClaimEachEscalationStepAndReminderOnce(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)
		now := func() time.Time { return t0 }
		db := open()
		cfg := config.Default()
		dir := contacts.NewDirectory(db.Contacts(), now)
		if err := dir.EnsureTeams(ctx, cfg.TeamInputs()); err != nil {
			t.Fatal(err)
		}
		rows, err := contacts.ParseCSV(strings.NewReader("name,email,phone,language,teams,manager_email\n" +
			"Ana Líder TI,ana@example.com,+525500000003,es,technology:lead,\n" +
			"Ed Ops Lead,ed@example.com,+34600000005,en,operations:lead,\n"))
		if err != nil {
			t.Fatal(err)
		}
		admin := optimum.WithActor(ctx, optimum.Actor{ID: "tok_admin", Name: "Admin", Role: optimum.RoleAdmin})
		if _, err := dir.Import(admin, rows, nil, nil, false); err != nil {
			t.Fatal(err)
		}
		if err := escalation.NewLadders(db.Escalation(), now).Seed(ctx, cfg.Escalation.Ladders); err != nil {
			t.Fatal(err)
		}
		// 30 P1s: each pages the two leads at once (the example P1 ladder), and is due for
		// its second step at 5 minutes; the leads' reminders are due from 2 minutes.
		svc := incident.NewService(db.Incidents(), cfg.IncidentPolicy(), dir, now)
		const incidents = 30
		for i := range incidents {
			if _, _, err := svc.Declare(admin, incident.Declaration{Title: fmt.Sprintf("Caída %d", i), Impact: "critical",
				Urgency: "critical", Teams: []string{"technology"}}, ""); err != nil {
				t.Fatal(err)
			}
		}
		tpl, err := escalation.NewTemplates()
		if err != nil {
			t.Fatal(err)
		}
		eng := escalation.New(db.Escalation(), tpl, nil, escalation.Options{PublicURL: "https://bcp.example.com",
			Channels: []string{"sms"}, Owner: "starter", Now: now})
		for {
			n, err := eng.Consume(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}

		nodes := []*store.DB{open(), open(), open()}
		const lease = time.Minute
		due := t0.Add(5 * time.Minute)
		claimAll := func(at time.Time) (runs, pages map[string][]string) {
			runs, pages = map[string][]string{}, map[string][]string{}
			var (
				mu sync.Mutex
				wg sync.WaitGroup
			)
			for n, db := range nodes {
				for w := range 2 {
					owner := fmt.Sprintf("node%d/%d", n, w)
					wg.Go(func() {
						for {
							ids, err := db.Escalation().ClaimRuns(ctx, owner, at, lease, 3)
							if err != nil {
								t.Errorf("%s: claim runs: %v", owner, err)
								return
							}
							keys, err := db.Escalation().ClaimPages(ctx, owner, at, lease, 4)
							if err != nil {
								t.Errorf("%s: claim reminders: %v", owner, err)
								return
							}
							mu.Lock()
							for _, id := range ids {
								runs[id] = append(runs[id], owner)
							}
							for _, k := range keys {
								pages[k.IncidentID+"/"+k.PersonID] = append(pages[k.IncidentID+"/"+k.PersonID], owner)
							}
							mu.Unlock()
							if len(ids) == 0 && len(keys) == 0 {
								return
							}
						}
					})
				}
			}
			wg.Wait()
			return runs, pages
		}
		check := func(when string, runs, pages map[string][]string) {
			t.Helper()
			if len(runs) != incidents || len(pages) != 2*incidents {
				t.Errorf("%s: claimed %d runs and %d reminders, want %d and %d", when, len(runs), len(pages), incidents, 2*incidents)
			}
			for what, claimed := range map[string]map[string][]string{"run": runs, "reminder": pages} {
				for id, owners := range claimed {
					if len(owners) != 1 {
						t.Errorf("%s: %s %s claimed %d times, by %v", when, what, id, len(owners), owners)
					}
				}
			}
		}
		runs, pages := claimAll(due)
		check("first claim", runs, pages)
		if runs, pages := claimAll(due.Add(lease - time.Millisecond)); len(runs)+len(pages) != 0 {
			t.Errorf("claimed again while leased: %d runs, %d reminders", len(runs), len(pages))
		}
		runs, pages = claimAll(due.Add(lease + time.Millisecond))
		check("after the leases expired", runs, pages)
	})
}
