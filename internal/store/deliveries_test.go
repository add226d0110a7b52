package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// Twilio may report a message delivered before the dispatcher has recorded that it was
// sent (a busy node); the late "sent" must not take the delivery back.
func TestAProviderCallbackBeforeSentIsNotUndone(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q := db.Deliveries()
		now := time.Now().UTC().Truncate(time.Millisecond)
		d := broadcast.Delivery{
			Message: broadcast.Message{DeliveryID: "dlv_early", Channel: broadcast.ChannelSMS, To: "+525512345678", Language: "es", Text: "hola"},
			Subject: "inc_1", Recipient: "per_1", DueAt: now, Deadline: now.Add(time.Hour),
		}
		if err := q.Enqueue(ctx, []broadcast.Delivery{d}); err != nil {
			t.Fatal(err)
		}
		got, err := q.Claim(ctx, "node", broadcast.ChannelSMS, now, time.Minute, 1)
		if err != nil || len(got) != 1 {
			t.Fatalf("claim = %v, %v", got, err)
		}
		later := func(old, new string) bool { return true }
		if _, _, err := q.ProviderUpdate(ctx, "dlv_early", "SM1", "delivered", "", now, later); err != nil {
			t.Fatal(err)
		}
		if err := q.Sent(ctx, "dlv_early", got[0].Attempts, now.Add(time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		list, err := q.SubjectDeliveries(ctx, "inc_1")
		if err != nil || len(list) != 1 || list[0].Status != broadcast.StatusDelivered {
			t.Fatalf("deliveries = %+v, %v; want delivered", list, err)
		}
	})
}

// Claims go by lane, written out here by hand: every real incident before any drill; P1
// before P2 … P5 (an unknown priority counts as P5); within a priority, the people a
// ladder step targets and reminders before the general audience.
func TestDeliveriesAreClaimedByLane(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q := db.Deliveries()
		now := time.Now().UTC().Truncate(time.Millisecond)
		queued := []struct {
			id, priority    string
			drill, audience bool
		}{ // in the order they were queued
			{"drill_p1_director", "P1", true, false},
			{"real_p5_audience", "P5", false, true},
			{"real_p3_audience", "P3", false, true},
			{"real_p3_reminder", "P3", false, false},
			{"real_p1_audience", "P1", false, true},
			{"real_p1_director", "P1", false, false},
			{"drill_p3_audience", "P3", true, true},
			{"real_p2_lead", "P2", false, false},
			{"real_unknown_notice", "", false, false},
		}
		for i, d := range queued {
			err := q.Enqueue(ctx, []broadcast.Delivery{{
				Message: broadcast.Message{DeliveryID: d.id, Channel: broadcast.ChannelSMS, To: "+525512345678", Language: "es", Text: "hola"},
				Subject: "inc_" + d.id, Recipient: "per_1", DueAt: now.Add(time.Duration(i) * time.Millisecond), Deadline: now.Add(time.Hour),
				Priority: d.priority, Drill: d.drill, Audience: d.audience,
			}})
			if err != nil {
				t.Fatal(err)
			}
		}
		want := []string{
			"real_p1_director", "real_p1_audience", "real_p2_lead", "real_p3_reminder", "real_p3_audience",
			"real_unknown_notice", "real_p5_audience", "drill_p1_director", "drill_p3_audience",
		}
		var got []string
		for range want {
			ds, err := q.Claim(ctx, "node", broadcast.ChannelSMS, now.Add(time.Second), time.Minute, 1)
			if err != nil || len(ds) != 1 {
				t.Fatalf("claim = %v, %v", ds, err)
			}
			got = append(got, ds[0].DeliveryID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("claimed\n%v\nwant\n%v", got, want)
		}
	})
}

// Within a lane, incidents take turns: a small alert queued while a big one of the same
// kind is under way goes out interleaved with it, not after all of it (nor all before).
func TestIncidentsInOneLaneTakeTurns(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q := db.Deliveries()
		now := time.Now().UTC().Truncate(time.Millisecond)
		enqueue := func(subject, prefix string, n int) {
			for i := range n { // one person at a time, as the escalation engine queues them
				err := q.Enqueue(ctx, []broadcast.Delivery{{
					Message: broadcast.Message{DeliveryID: fmt.Sprintf("%s_%d", prefix, i), Channel: broadcast.ChannelSMS, To: "+525512345678", Language: "es", Text: "hola"},
					Subject: subject, Recipient: fmt.Sprintf("per_%d", i), DueAt: now, Deadline: now.Add(time.Hour),
					Priority: "P2", Audience: true,
				}})
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		claim := func(n int) []string {
			ds, err := q.Claim(ctx, "node", broadcast.ChannelSMS, now.Add(time.Second), time.Minute, n)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, d := range ds {
				ids = append(ids, d.DeliveryID)
			}
			return ids
		}
		enqueue("inc_a", "a", 6)
		if got := claim(2); !slices.Equal(got, []string{"a_0", "a_1"}) {
			t.Fatalf("first claims %v", got)
		}
		enqueue("inc_b", "b", 3)
		want := []string{"a_2", "b_0", "a_3", "b_1", "a_4", "b_2", "a_5"}
		if got := claim(10); !slices.Equal(got, want) {
			t.Errorf("claimed %v, want %v", got, want)
		}
	})
}

// The progress publisher counts outside the store's writer: a delivery that changes after
// the count is not lost, its incident is published again in the next round with it; a
// publisher stopped after marking what it publishes leaves the marks to the next round.
func TestAChangeMadeWhileProgressIsCountedIsPublishedInTheNextRound(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q := db.Deliveries()
		now := time.Now().UTC().Truncate(time.Millisecond)
		var ds []broadcast.Delivery
		for i := range 2 {
			ds = append(ds, broadcast.Delivery{
				Message: broadcast.Message{DeliveryID: fmt.Sprintf("dlv_p%d", i), Channel: broadcast.ChannelSMS, To: fmt.Sprintf("+52551234567%d", i), Language: "es", Text: "hola"},
				Subject: "inc_p", Recipient: fmt.Sprintf("per_%d", i), DueAt: now, Deadline: now.Add(time.Hour),
			})
		}
		if err := q.Enqueue(ctx, ds); err != nil {
			t.Fatal(err)
		}
		got, err := q.Claim(ctx, "node", broadcast.ChannelSMS, now, time.Minute, 2)
		if err != nil || len(got) != 2 {
			t.Fatalf("claimed %d, %v", len(got), err)
		}
		if err := q.Sent(ctx, "dlv_p0", got[0].Attempts, now); err != nil {
			t.Fatal(err)
		}
		sent := func() []int {
			t.Helper()
			events, err := db.EventsAfter(ctx, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			var out []int
			for _, e := range events {
				if e.Type != store.EventDeliveriesProgress {
					continue
				}
				var d struct {
					Channels map[string]map[string]int `json:"channels"`
				}
				if err := json.Unmarshal(e.Data, &d); err != nil {
					t.Fatal(err)
				}
				out = append(out, d.Channels["sms"]["sent"])
			}
			return out
		}
		once := true
		store.OnProgressCounted(t, func() {
			if once {
				once = false
				if err := q.Sent(ctx, "dlv_p1", got[1].Attempts, now); err != nil {
					t.Error(err)
				}
			}
		})
		if n, err := q.PublishProgress(ctx, now, 100); err != nil || n != 1 {
			t.Fatalf("first round = %d, %v; want 1", n, err)
		}
		if n, err := q.PublishProgress(ctx, now, 100); err != nil || n != 1 {
			t.Fatalf("second round = %d, %v; want 1: the change made during the count", n, err)
		}
		if n, err := q.PublishProgress(ctx, now, 100); err != nil || n != 0 {
			t.Fatalf("third round = %d, %v; want 0", n, err)
		}
		if got := sent(); !slices.Equal(got, []int{1, 2}) {
			t.Fatalf("sent by progress event = %v, want [1 2]", got)
		}

		// A publisher stopped after its first step: the mark stays, taken by the next round.
		if _, _, err := q.ProviderUpdate(ctx, "dlv_p1", "SM1", "delivered", "", now, func(old, new string) bool { return true }); err != nil {
			t.Fatal(err)
		}
		storetest.Exec(t, db, "UPDATE delivery_progress SET publishing = 1")
		if n, err := q.PublishProgress(ctx, now, 100); err != nil || n != 1 {
			t.Fatalf("round after a stopped publisher = %d, %v; want 1", n, err)
		}
	})
}
