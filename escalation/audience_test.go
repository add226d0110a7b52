package escalation_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// Issue 16.4: an incident's audience is paged in batches after the declaration, each
// batch in its own transaction with a durable cursor, so the declaration never waits for
// (nor holds the writer through) 100,000 people, and a process that dies mid-way leaves
// the rest to whichever engine runs next, without paging anyone twice.

// plantTeam adds a team "planta" of n people, each with a phone and no browser, to the
// env's directory, and returns their person ids.
func plantTeam(t *testing.T, e *env, n int) []string {
	t.Helper()
	var csv strings.Builder
	csv.WriteString("name,email,phone,language,teams,manager_email\n")
	for i := range n {
		fmt.Fprintf(&csv, "Persona %03d,p%03d@planta.example.com,+5255%08d,es,planta,\n", i, i, 20000000+i)
	}
	rows, err := contacts.ParseCSV(strings.NewReader(csv.String()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.dir.Import(admin, rows, nil, nil, false); err != nil {
		t.Fatal(err)
	}
	ps, err := e.dir.People(context.Background(), contacts.Filter{Teams: []string{"planta"}, Limit: n + 1})
	if err != nil || len(ps) != n {
		t.Fatalf("planta = %d people, %v; want %d", len(ps), err, n)
	}
	ids := make([]string, n)
	for i, p := range ps {
		ids[i] = p.ID
	}
	return ids
}

// batchedEngine is an engine on store s (the env's unless nil) that pages 10 people a batch.
func batchedEngine(t *testing.T, e *env, s escalation.Store, owner string) *escalation.Engine {
	t.Helper()
	tpl, err := escalation.NewTemplates()
	if err != nil {
		t.Fatal(err)
	}
	if s == nil {
		s = e.db.Escalation()
	}
	return escalation.New(s, tpl, nil, escalation.Options{
		PublicURL: "https://bcp.example.com", Channels: []string{"webpush", "sms", "voice"}, Owner: owner,
		AudienceBatch: 10, Now: e.clock.Now,
	})
}

// declarePlant declares an incident for the plant with no ladder: its audience alone is
// alerted. It does not run the engine.
func declarePlant(t *testing.T, e *env) incident.Incident {
	t.Helper()
	inc, _, err := e.incidents.Declare(admin, incident.Declaration{Title: "Fuga de amoniaco en la planta", Impact: "critical", Urgency: "critical",
		Teams: []string{"planta"}, Ladder: escalation.NoLadder}, "")
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

// smsPerPerson counts the incident's SMS deliveries per person.
func smsPerPerson(t *testing.T, db *store.DB, incidentID string) map[string]int {
	t.Helper()
	ds, err := db.Deliveries().SubjectDeliveries(context.Background(), incidentID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, d := range ds {
		if d.Channel != broadcast.ChannelSMS {
			t.Errorf("a %s delivery to %s: the plant has phones only", d.Channel, d.Recipient)
		}
		out[d.Recipient]++
	}
	return out
}

func pending(t *testing.T, db *store.DB) []string {
	t.Helper()
	ids, err := db.Escalation().PendingAudiences(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestTheDeclarationDoesNotWaitForItsAudienceWhichIsPagedInBatches(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		e := newEnv(t, open)
		people := plantTeam(t, e, 35)
		eng := batchedEngine(t, e, nil, "engine-a")
		inc := declarePlant(t, e)
		ctx := context.Background()

		// The declaration is committed and answered with nobody paged yet.
		if got := smsPerPerson(t, e.db, inc.ID); len(got) != 0 {
			t.Fatalf("right after the declaration %d people have deliveries, want 0", len(got))
		}
		// The engine's handling of the declared event pages nobody of the audience either:
		// it records that the audience is to be paged.
		if _, err := eng.ConsumeEvents(ctx); err != nil {
			t.Fatal(err)
		}
		if got := smsPerPerson(t, e.db, inc.ID); len(got) != 0 {
			t.Fatalf("after the declared event %d people have deliveries, want 0", len(got))
		}
		if got := pending(t, e.db); len(got) != 1 || got[0] != inc.ID {
			t.Fatalf("pending audiences = %v, want [%s]", got, inc.ID)
		}
		// Then 10 people a batch: 10, 20, 30, 35, each batch committed on its own.
		for i, want := range []int{10, 20, 30, 35} {
			more, err := eng.PageAudiences(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := smsPerPerson(t, e.db, inc.ID); len(got) != want {
				t.Fatalf("after batch %d, %d people have deliveries, want %d", i+1, len(got), want)
			}
			if wantMore := i < 3; more != wantMore {
				t.Fatalf("after batch %d more = %v, want %v", i+1, more, wantMore)
			}
		}
		if got := pending(t, e.db); len(got) != 0 {
			t.Fatalf("pending audiences after the last batch = %v, want none", got)
		}
		got := smsPerPerson(t, e.db, inc.ID)
		for _, p := range people {
			if got[p] != 1 {
				t.Errorf("person %s has %d SMS deliveries, want 1", p, got[p])
			}
		}
		// Nothing more to do, and nothing done twice.
		if more, err := eng.PageAudiences(ctx); err != nil || more {
			t.Fatalf("another round = %v, %v; want false, nil", more, err)
		}
		if n := len(smsPerPerson(t, e.db, inc.ID)); n != 35 {
			t.Fatalf("%d people after another round, want 35", n)
		}
	})
}

// dyingStore is the real store with a process that dies in the middle of a batch: the
// batch's transaction is never committed (here: queueing its deliveries, after its
// pages were written, fails, so the transaction rolls back, as a kill -9 before the
// commit leaves it).
type dyingStore struct {
	escalation.Store
	left *int // Enqueue calls that succeed before the process dies
}

func (s dyingStore) AudienceBatch(ctx context.Context, id string, fn func(escalation.Tx, escalation.Audience) (escalation.Audience, error)) (bool, error) {
	return s.Store.AudienceBatch(ctx, id, func(tx escalation.Tx, a escalation.Audience) (escalation.Audience, error) {
		return fn(dyingTx{Tx: tx, left: s.left}, a)
	})
}

type dyingTx struct {
	escalation.Tx
	left *int
}

var errDied = errors.New("the process died here")

func (t dyingTx) Enqueue(ctx context.Context, ds []broadcast.Delivery) error {
	if *t.left == 0 {
		return errDied
	}
	*t.left--
	return t.Tx.Enqueue(ctx, ds)
}

func TestAnAudienceCutOffMidBatchIsResumedAfterARestartAndNobodyIsPagedTwice(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		e := newEnv(t, open)
		people := plantTeam(t, e, 35)
		left := 1
		dying := batchedEngine(t, e, dyingStore{Store: e.db.Escalation(), left: &left}, "engine-a")
		inc := declarePlant(t, e)
		ctx := context.Background()

		// The first batch (10 people) commits; the process dies in the second, after its
		// pages and before its commit.
		if _, err := dying.Consume(ctx); !errors.Is(err, errDied) {
			t.Fatalf("consume = %v, want the process to die mid-batch", err)
		}
		if got := smsPerPerson(t, e.db, inc.ID); len(got) != 10 {
			t.Fatalf("after the death %d people have deliveries, want the first batch's 10", len(got))
		}
		if got := pending(t, e.db); len(got) != 1 {
			t.Fatalf("pending audiences after the death = %v, want the incident's", got)
		}

		// A new process on the same database continues after the cursor.
		e.open("engine-b")
		restarted := batchedEngine(t, e, nil, "engine-b")
		if _, err := restarted.Consume(ctx); err != nil {
			t.Fatal(err)
		}
		got := smsPerPerson(t, e.db, inc.ID)
		if len(got) != 35 {
			t.Errorf("after the restart %d people have deliveries, want 35", len(got))
		}
		for _, p := range people {
			if got[p] != 1 {
				t.Errorf("person %s has %d SMS deliveries, want exactly 1", p, got[p])
			}
		}
		_, pages, err := e.db.Escalation().RunView(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(pages) != 35 {
			t.Errorf("%d pages, want 35", len(pages))
		}
		if got := pending(t, e.db); len(got) != 0 {
			t.Errorf("pending audiences = %v, want none", got)
		}
	})
}

func TestTwoEnginesPagingOneAudienceAtOncePageEachPersonOnce(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		e := newEnv(t, open)
		people := plantTeam(t, e, 95)
		inc := declarePlant(t, e)
		ctx := context.Background()
		a := batchedEngine(t, e, nil, "engine-a")
		other := e.opener() // a second node: its own connections to the same database
		b := batchedEngine(t, e, other.Escalation(), "engine-b")
		if _, err := a.ConsumeEvents(ctx); err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 2)
		for _, eng := range []*escalation.Engine{a, b} {
			go func() {
				for {
					more, err := eng.PageAudiences(ctx)
					if err != nil || !more {
						errs <- err
						return
					}
				}
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		// One engine may have stopped while the other held the last batch: finish.
		if _, err := a.Consume(ctx); err != nil {
			t.Fatal(err)
		}
		got := smsPerPerson(t, e.db, inc.ID)
		for _, p := range people {
			if got[p] != 1 {
				t.Errorf("person %s has %d SMS deliveries, want exactly 1", p, got[p])
			}
		}
		if len(got) != 95 {
			t.Errorf("%d people have deliveries, want 95", len(got))
		}
	})
}
