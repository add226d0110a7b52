package store_test

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// A consumer that fails on one event commits the events before it, waits the backoff
// (10 s, then 20 s) before each new try, and after the third failure parks the event with
// its reason, appends the parking event and processes the events after it.
func TestConsumerParksAnEventAfterItsAttemptsAndGoesOn(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := &testClock{t: time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)}
		db.SetPoisonPolicy(store.PoisonPolicy{Attempts: 3, Backoff: 10 * time.Second, Now: clock.Now})
		var ids []int64
		for i := 1; i <= 5; i++ {
			id, err := store.AppendEvent(ctx, db, optimum.Event{Type: "test.step", At: clock.Now(), IncidentID: "inc_poison",
				Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		poison := ids[2]
		var done []int64 // events whose transaction committed
		step := func() (int, error) {
			var seen []int64
			n, err := db.Escalation().Consume(ctx, "test.consumer", 100, func(_ escalation.Tx, e optimum.Event) error {
				if e.ID == poison {
					return errors.New("cannot handle this event")
				}
				seen = append(seen, e.ID)
				return nil
			})
			if err == nil || n > 0 {
				done = append(done, seen[:min(len(seen), n)]...)
			}
			return n, err
		}

		if n, err := step(); err == nil || n != 2 {
			t.Fatalf("first try = %d, %v; want the 2 events before the bad one committed and its error", n, err)
		}
		if n, err := step(); n != 0 || err != nil {
			t.Fatalf("try within the backoff = %d, %v; want 0, nil (waiting)", n, err)
		}
		clock.Add(10 * time.Second)
		if n, err := step(); n != 0 || err == nil {
			t.Fatalf("second try = %d, %v; want the error again", n, err)
		}
		clock.Add(10 * time.Second)
		if n, err := step(); n != 0 || err != nil {
			t.Fatalf("try 10 s into the doubled 20 s backoff = %d, %v; want 0, nil", n, err)
		}
		if parked, err := db.ParkedEvents(ctx); err != nil || len(parked) != 0 {
			t.Fatalf("parked before the last attempt: %v %v", parked, err)
		}
		clock.Add(10 * time.Second)
		if n, err := step(); n != 1 || err != nil {
			t.Fatalf("third try = %d, %v; want the event parked (1) and no error", n, err)
		}
		for {
			n, err := step()
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		want := []int64{ids[0], ids[1], ids[3], ids[4]}
		if len(done) < 4 || fmt.Sprint(done[:4]) != fmt.Sprint(want) {
			t.Errorf("processed %v, want %v and then the parking event", done, want)
		}

		parked, err := db.ParkedEvents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(parked) != 1 || parked[0].EventID != poison || parked[0].Consumer != "test.consumer" || parked[0].Attempts != 3 ||
			!strings.Contains(parked[0].Reason, "cannot handle this event") || parked[0].IncidentID != "inc_poison" {
			t.Fatalf("parked = %+v", parked)
		}
		timeline, err := db.Incidents().Timeline(ctx, "inc_poison")
		if err != nil {
			t.Fatal(err)
		}
		last := timeline[len(timeline)-1]
		var data struct {
			Consumer string `json:"consumer"`
			EventID  int64  `json:"event_id"`
			Reason   string `json:"reason"`
		}
		json.Unmarshal(last.Data, &data)
		if last.Type != store.EventParked || data.EventID != poison || data.Consumer != "test.consumer" || data.Reason == "" {
			t.Errorf("last timeline event = %s %s, want the parking of event %d", last.Type, last.Data, poison)
		}

		if err := db.DismissParked(ctx, "test.consumer", poison, clock.Now()); err != nil {
			t.Fatal(err)
		}
		if parked, _ := db.ParkedEvents(ctx); len(parked) != 0 {
			t.Errorf("after dismissal, parked = %+v", parked)
		}
		if err := db.DismissParked(ctx, "test.consumer", poison, clock.Now()); optimum.ErrorCode(err) != optimum.ENOTFOUND {
			t.Errorf("second dismissal = %v, want ENOTFOUND", err)
		}
	})
}

// A failure of the database (here a lost connection) says nothing about the event: it is
// retried as often as needed and never parked.
func TestConsumerNeverParksAnEventForADatabaseFailure(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		db.SetPoisonPolicy(store.PoisonPolicy{Attempts: 2, Backoff: time.Millisecond})
		id, err := store.AppendEvent(ctx, db, optimum.Event{Type: "test.step", At: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		fail := true
		consume := func() (int, error) {
			return db.Escalation().Consume(ctx, "test.flaky", 10, func(_ escalation.Tx, e optimum.Event) error {
				if fail {
					return fmt.Errorf("write: %w", driver.ErrBadConn)
				}
				return nil
			})
		}
		for range 5 {
			if n, err := consume(); n != 0 || !errors.Is(err, driver.ErrBadConn) {
				t.Fatalf("consume = %d, %v; want the connection error", n, err)
			}
		}
		if parked, err := db.ParkedEvents(ctx); err != nil || len(parked) != 0 {
			t.Fatalf("parked = %+v, %v; want none", parked, err)
		}
		fail = false
		if n, err := consume(); n != 1 || err != nil {
			t.Fatalf("once the database is back, consume = %d, %v; want event %d processed", n, err, id)
		}
	})
}

// An event whose stored JSON is corrupt is parked without reaching the consumer, and
// readers of the log still get it, without its unreadable parts.
func TestCorruptEventIsParkedAndStillReadable(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		db.SetPoisonPolicy(store.PoisonPolicy{Attempts: 1})
		good, _ := store.AppendEvent(ctx, db, optimum.Event{Type: "test.step", At: time.Now(), Data: json.RawMessage(`{"n":1}`)})
		bad, err := store.AppendEvent(ctx, db, optimum.Event{Type: "test.step", At: time.Now(), IncidentID: "inc_x",
			Incident: json.RawMessage(`{"id":`), Data: json.RawMessage(`{"n":2}`)})
		if err != nil {
			t.Fatal(err)
		}
		after, _ := store.AppendEvent(ctx, db, optimum.Event{Type: "test.step", At: time.Now(), Data: json.RawMessage(`{"n":3}`)})
		var seen []int64
		for {
			n, err := db.Escalation().Consume(ctx, "test.reader", 10, func(_ escalation.Tx, e optimum.Event) error {
				seen = append(seen, e.ID)
				return nil
			})
			if err != nil && n == 0 {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		if len(seen) < 2 || seen[0] != good || seen[1] != after {
			t.Errorf("consumer saw %v, want %d and %d (then the parking event), never the corrupt %d", seen, good, after, bad)
		}
		parked, _ := db.ParkedEvents(ctx)
		if len(parked) != 1 || parked[0].EventID != bad || !strings.Contains(parked[0].Reason, "incident is not valid JSON") {
			t.Errorf("parked = %+v", parked)
		}
		events, err := db.EventsAfter(ctx, good, 10)
		if err != nil {
			t.Fatal(err)
		}
		if events[0].ID != bad || events[0].Incident != nil || string(events[0].Data) != `{"n":2}` {
			t.Errorf("the stream reads the corrupt event as %+v, want it without its incident", events[0])
		}
	})
}
