package canary_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/canary"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// incidents is an in-memory incident service: it records the declarations; the canary's
// has nobody in its audience (so the run fails at once, without providers).
type incidents struct {
	mu    sync.Mutex
	decls []incident.Declaration
}

func (f *incidents) Declare(ctx context.Context, d incident.Declaration, key string) (incident.Incident, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.decls = append(f.decls, d)
	return incident.Incident{ID: optimum.NewID("inc"), CreatedAt: time.Now(), Canary: d.Canary, Drill: d.Drill}, true, nil
}

func (f *incidents) pages() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, d := range f.decls {
		if !d.Canary {
			n++
		}
	}
	return n
}

type desk struct{}

func (desk) Transition(ctx context.Context, id string, to incident.Status, note string) (incident.Incident, error) {
	return incident.Incident{ID: id, Status: to}, nil
}

// Two nodes run a canary scheduled every second on one database: each scheduled second
// is run by one of them only, as a scheduled (not manual) run; and a run a stopped node
// left running for long is failed, as abandoned, when a node starts.
func TestScheduledCanaryRunsOncePerSlotAcrossNodes(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		old := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
		if ok, err := open().Canary().Claim(ctx, canary.Run{ID: "can_left", Slot: old, Status: canary.StatusRunning, StartedAt: old}, "dead-node"); err != nil || !ok {
			t.Fatalf("claim = %v %v", ok, err)
		}
		incs := &incidents{}
		var wg sync.WaitGroup
		for _, name := range []string{"node-a", "node-b"} {
			c, err := canary.New(open().Canary(), incs, desk{}, canary.Options{Schedule: "* * * * * *", Person: "canary@example.com",
				Channels: []string{"sms"}, Timeout: time.Minute, PageTeam: "continuity", Available: []string{"sms", "webpush"}, Owner: name,
				Poll: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			wg.Go(func() { c.Run(ctx) })
		}
		db := open().Canary()
		deadline := time.Now().Add(15 * time.Second)
		var runs []canary.Run
		for {
			var err error
			if runs, err = db.Runs(ctx, 100); err != nil {
				t.Fatal(err)
			}
			finished := 0
			for _, r := range runs {
				if r.Status != canary.StatusRunning && r.ID != "can_left" {
					finished++
				}
			}
			if finished >= 3 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("runs = %+v, want three scheduled ones finished", runs)
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		wg.Wait()

		slots := map[time.Time]int{}
		for _, r := range runs {
			if r.ID == "can_left" {
				if r.Status != canary.StatusFailed || !strings.Contains(r.Reason, "abandoned") {
					t.Errorf("the dead node's run = %+v, want failed as abandoned", r)
				}
				continue
			}
			slots[r.Slot]++
			if r.Manual || !r.Slot.Equal(r.Slot.Truncate(time.Second)) {
				t.Errorf("run %+v: want a scheduled run on a whole second", r)
			}
			if r.Status == canary.StatusFailed && !strings.Contains(r.Reason, "nobody to alert") {
				t.Errorf("run %+v: want it failed for its empty audience", r)
			}
		}
		for slot, n := range slots {
			if n != 1 {
				t.Errorf("slot %v was run %d times", slot, n)
			}
		}
		if incs.pages() == 0 {
			t.Error("no failure paged the continuity team")
		}
	})
}
