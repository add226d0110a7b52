package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/canary"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// Each scheduled canary is run by one node: the first to claim its slot. A run is
// finished once (an abandoned run found by two nodes is failed and paged by one), and a
// run left running past the cut-off is listed as abandoned.
func TestCanaryRunsAreClaimedAndFinishedOnce(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		ctx := context.Background()
		a, b := open().Canary(), open().Canary()
		slot := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
		run := func(id string) canary.Run {
			return canary.Run{ID: id, Slot: slot, Status: canary.StatusRunning, StartedAt: slot}
		}
		if ok, err := a.Claim(ctx, run("can_a"), "node-a"); err != nil || !ok {
			t.Fatalf("first claim = %v, %v", ok, err)
		}
		if ok, err := b.Claim(ctx, run("can_b"), "node-b"); err != nil || ok {
			t.Fatalf("second claim of the same slot = %v, %v; want false", ok, err)
		}
		abandoned, err := b.Abandoned(ctx, slot.Add(time.Minute))
		if err != nil || len(abandoned) != 1 || abandoned[0].ID != "can_a" {
			t.Fatalf("abandoned = %+v, %v", abandoned, err)
		}
		if none, _ := b.Abandoned(ctx, slot); len(none) != 0 {
			t.Errorf("a run started at the cut-off is abandoned: %+v", none)
		}
		done := slot.Add(10 * time.Second)
		accepted, delivered := canary.Seconds(1.25), canary.Seconds(4.5)
		r := run("can_a")
		r.Status, r.Reason, r.FinishedAt, r.Accepted, r.Delivered = canary.StatusFailed, "sms failed", &done, &accepted, &delivered
		r.Messages = []canary.Message{{Channel: "sms", Status: "failed", Error: "21211"}}
		if won, err := a.Finish(ctx, r); err != nil || !won {
			t.Fatalf("finish = %v, %v", won, err)
		}
		if won, err := b.Finish(ctx, r); err != nil || won {
			t.Fatalf("second finish = %v, %v; want false", won, err)
		}
		if err := a.Paged(ctx, "can_a", "inc_page"); err != nil {
			t.Fatal(err)
		}
		runs, err := b.Runs(ctx, 10)
		if err != nil || len(runs) != 1 {
			t.Fatalf("runs = %+v, %v", runs, err)
		}
		got := runs[0]
		if got.Status != canary.StatusFailed || got.Reason != "sms failed" || got.PagedIncidentID != "inc_page" ||
			got.Accepted == nil || *got.Accepted != 1.25 || got.Delivered == nil || *got.Delivered != 4.5 ||
			len(got.Messages) != 1 || got.Messages[0].Error != "21211" || got.FinishedAt == nil || !got.FinishedAt.Equal(done) {
			t.Errorf("stored run = %+v", got)
		}
		counts, err := a.Counts(ctx)
		if err != nil || counts[canary.StatusFailed] != 1 || counts[canary.StatusPassed] != 0 {
			t.Errorf("counts = %v, %v", counts, err)
		}
		if last, err := a.LastPassed(ctx); err != nil || last != nil {
			t.Errorf("last passed = %+v, %v; want none", last, err)
		}
	})
}
