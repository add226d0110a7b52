package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/internal/auth"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// Several nodes starting at once on an empty database apply every migration once and all
// open it.
func TestNodesStartingAtOnceMigrateOnce(t *testing.T) {
	t.Run("postgres", func(t *testing.T) {
		u := storetest.PostgresURL(t)
		const nodes = 4
		errs := make(chan error, nodes)
		dbs := make(chan *store.DB, nodes)
		for range nodes {
			go func() {
				db, err := store.OpenPostgres(context.Background(), u)
				errs <- err
				dbs <- db
			}()
		}
		for range nodes {
			if err := <-errs; err != nil {
				t.Errorf("open: %v", err)
			}
			if db := <-dbs; db != nil {
				t.Cleanup(func() { db.Close() })
			}
		}
		raw, err := sql.Open("pgx", u)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		var versions, distinct int
		if err := raw.QueryRow("SELECT count(*), count(DISTINCT version) FROM schema_migrations").Scan(&versions, &distinct); err != nil {
			t.Fatal(err)
		}
		if versions != distinct || versions < 8 {
			t.Errorf("schema_migrations has %d rows for %d versions, want one row per version (at least 8)", versions, distinct)
		}
	})
}

// Two nodes claiming the same queue at the same time never claim a delivery twice, and
// between them claim every one.
func TestTwoNodesClaimEachDeliveryOnce(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		ctx := context.Background()
		nodes := []*store.DB{open(), open()}
		now := time.Now().UTC()
		const total = 400
		var ds []broadcast.Delivery
		for i := range total {
			ds = append(ds, broadcast.Delivery{
				Message: broadcast.Message{DeliveryID: fmt.Sprintf("dlv_%04d", i), Channel: broadcast.ChannelSMS, To: "+525512345678", Language: "es", Text: "hola"},
				Subject: "inc_1", Recipient: fmt.Sprintf("per_%d", i), DueAt: now, Deadline: now.Add(time.Hour),
			})
		}
		if err := nodes[0].Deliveries().Enqueue(ctx, ds); err != nil {
			t.Fatal(err)
		}

		var (
			mu      sync.Mutex
			claimed = map[string][]string{} // delivery id → owners that claimed it
			wg      sync.WaitGroup
		)
		for n, db := range nodes {
			for w := range 3 { // three claimers per node, as a dispatcher's loop and its wake-ups
				owner := fmt.Sprintf("node%d/%d", n, w)
				wg.Go(func() {
					for {
						got, err := db.Deliveries().Claim(ctx, owner, broadcast.ChannelSMS, now, time.Minute, 7)
						if err != nil {
							t.Errorf("%s: claim: %v", owner, err)
							return
						}
						if len(got) == 0 {
							return
						}
						mu.Lock()
						for _, d := range got {
							claimed[d.DeliveryID] = append(claimed[d.DeliveryID], owner)
						}
						mu.Unlock()
					}
				})
			}
		}
		wg.Wait()
		if len(claimed) != total {
			t.Errorf("claimed %d distinct deliveries, want %d", len(claimed), total)
		}
		for id, owners := range claimed {
			if len(owners) != 1 {
				t.Errorf("%s claimed %d times, by %v", id, len(owners), owners)
			}
		}
	})
}

// Appends from many connections at once, while a reader follows the log with id > cursor
// from another node: the reader sees every id, in order, none skipped. (On PostgreSQL an
// identity id is taken at insert but becomes visible at commit; without serialized
// appends a reader could pass id n+1 while n is still uncommitted, and never see n.)
func TestReadersFollowingTheLogNeverSkipAnID(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		ctx := context.Background()
		writers := []*store.DB{open(), open(), open()}
		reader := open()
		const perWriter = 150

		done := make(chan struct{})
		var wg sync.WaitGroup
		for n, db := range writers {
			for w := range 3 {
				wg.Go(func() {
					for i := range perWriter / 3 {
						e := optimum.Event{Type: "test.appended", At: time.Now(), Data: fmt.Appendf(nil, `{"w":"%d/%d","i":%d}`, n, w, i)}
						if _, err := store.AppendEvent(ctx, db, e); err != nil {
							t.Errorf("append: %v", err)
							return
						}
					}
				})
			}
		}
		go func() { wg.Wait(); close(done) }()

		var seen []int64
		var cursor int64
		follow := func() {
			for {
				evs, err := reader.EventsAfter(ctx, cursor, 50)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range evs {
					seen = append(seen, e.ID)
					cursor = e.ID
				}
				if len(evs) < 50 {
					return
				}
			}
		}
		for running := true; running; {
			select {
			case <-done:
				running = false
			default:
			}
			follow()
		}
		follow() // after the last commit

		all, err := reader.EventsAfter(ctx, 0, 10*perWriter*len(writers))
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != perWriter*len(writers) {
			t.Fatalf("log has %d events, want %d", len(all), perWriter*len(writers))
		}
		want := make([]int64, len(all))
		for i, e := range all {
			want[i] = e.ID
		}
		if !slices.Equal(seen, want) {
			missing := 0
			for _, id := range want {
				if !slices.Contains(seen, id) {
					missing++
				}
			}
			t.Errorf("the follower saw %d ids, %d of the log's %d missing", len(seen), missing, len(want))
		}
	})
}

// Two nodes running the same consumer of the log at once process each event once.
func TestTwoNodesConsumeEachEventOnce(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		ctx := context.Background()
		nodes := []*store.DB{open(), open()}
		const total = 200
		for i := range total {
			if _, err := store.AppendEvent(ctx, nodes[i%2], optimum.Event{Type: "test.appended", At: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		var (
			mu   sync.Mutex
			seen = map[int64]int{}
			wg   sync.WaitGroup
		)
		for _, db := range nodes {
			for range 2 {
				wg.Go(func() {
					// Keep consuming until the whole log is processed (a node that finds
					// the cursor taken gets 0 and tries again, as on its next wake-up).
					for {
						_, err := db.Escalation().Consume(ctx, "test-consumer", 9, func(_ escalation.Tx, e optimum.Event) error {
							mu.Lock()
							seen[e.ID]++
							mu.Unlock()
							return nil
						})
						if err != nil {
							t.Errorf("consume: %v", err)
							return
						}
						mu.Lock()
						finished := len(seen) >= total
						mu.Unlock()
						if finished {
							return
						}
					}
				})
			}
		}
		wg.Wait()
		if len(seen) != total {
			t.Errorf("processed %d distinct events, want %d", len(seen), total)
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("event %d processed %d times", id, n)
			}
		}
	})
}

// Nodes starting at once with the same bootstrap token all start, and one admin token
// exists (the first start of a cluster).
func TestNodesBootstrappingAtOnceMakeOneAdmin(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		nodes := []*store.DB{open(), open(), open()}
		errs := make(chan error, len(nodes))
		for _, db := range nodes {
			go func() {
				_, err := auth.NewService(db.Auth(), nil).Bootstrap(context.Background(), "cluster-bootstrap-token-0123456789")
				errs <- err
			}()
		}
		for range nodes {
			if err := <-errs; err != nil {
				t.Errorf("bootstrap: %v", err)
			}
		}
		tokens, err := auth.NewService(nodes[0].Auth(), nil).Tokens(context.Background())
		if err != nil || len(tokens) != 1 {
			t.Errorf("tokens = %+v, %v: want the one bootstrap admin", tokens, err)
		}
	})
}
