package store_test

import (
	"context"
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
