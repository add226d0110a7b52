package escalation_test

import (
	"context"
	"errors"
	"testing"

	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// Issue 16.4: a declaration to an audience larger than the inline limit stores the
// audience's plan, not its people; the declaration names how many people it has, its
// recipients are written batch by batch as they are paged (in the batch's transaction),
// and a process that dies mid-batch leaves neither a recipient nor a page of that batch.
func TestALargeAudienceIsDeclaredByItsPlanAndItsRecipientsWrittenAsItIsPaged(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		e := newEnv(t, open)
		people := plantTeam(t, e, 35)
		e.incidents.SetInlineAudience(5)
		ctx := context.Background()
		inc, _, err := e.incidents.Declare(admin, incident.Declaration{Title: "Fuga de amoniaco en la planta", Impact: "critical", Urgency: "critical",
			Teams: []string{"planta"}, People: []string{"ana@example.com"}, Ladder: escalation.NoLadder}, "")
		if err != nil {
			t.Fatal(err)
		}
		if inc.Audience != 36 {
			t.Fatalf("the declaration says %d people, want 36 (the plant and Ana)", inc.Audience)
		}
		recipients := func() map[string]bool {
			t.Helper()
			rs, err := e.db.Incidents().Recipients(ctx, inc.ID)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]bool{}
			for _, r := range rs {
				if out[r.PersonID] {
					t.Errorf("%s is a recipient twice", r.Name)
				}
				out[r.PersonID] = true
			}
			return out
		}
		if got := recipients(); len(got) != 0 {
			t.Fatalf("right after the declaration %d recipients are written, want none (the plan only)", len(got))
		}

		// The first batch commits; the process dies in the second before its commit.
		left := 1
		dying := batchedEngine(t, e, dyingStore{Store: e.db.Escalation(), left: &left}, "engine-a")
		if _, err := dying.Consume(ctx); !errors.Is(err, errDied) {
			t.Fatalf("consume = %v, want the process to die mid-batch", err)
		}
		if got, paged := recipients(), smsPerPerson(t, e.db, inc.ID); len(got) != 10 || len(paged) != 10 {
			t.Fatalf("after the death: %d recipients and %d people paged, want the first batch's 10 of each", len(got), len(paged))
		}

		// A new process continues after the cursor: everyone is a recipient and paged once.
		e.open("engine-b")
		if _, err := batchedEngine(t, e, nil, "engine-b").Consume(ctx); err != nil {
			t.Fatal(err)
		}
		got, paged := recipients(), smsPerPerson(t, e.db, inc.ID)
		ana, err := e.dir.Person(ctx, "ana@example.com")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range append(people, ana.ID) {
			if !got[p] || paged[p] != 1 {
				t.Errorf("person %s: recipient %v, %d SMS; want a recipient with exactly 1", p, got[p], paged[p])
			}
		}
		if len(got) != 36 || len(paged) != 36 {
			t.Errorf("%d recipients and %d people paged, want 36 each", len(got), len(paged))
		}
		if ids := pending(t, e.db); len(ids) != 0 {
			t.Errorf("pending audiences = %v, want none", ids)
		}
		// The plant sees the incident it was sent to: one of them is in its audience.
		if in, err := e.db.Incidents().InAudience(ctx, inc.ID, people[34]); err != nil || !in {
			t.Errorf("the last person of the plant in the audience: %v, %v", in, err)
		}
	})
}
