package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// Each attempt keeps the provider that carried it: a retry after Twilio failed and the
// send through Vonage read back in order, with the attempts' outcomes.
func TestAttemptsKeepTheirProvider(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q := db.Deliveries()
		now := time.Now().UTC().Truncate(time.Millisecond)
		if err := q.Enqueue(ctx, []broadcast.Delivery{{
			Message: broadcast.Message{DeliveryID: "dlv_p", Channel: broadcast.ChannelSMS, To: "+34611111111", Language: "es", Text: "x"},
			Subject: "inc_p", Recipient: "per_p", DueAt: now, Deadline: now.Add(time.Hour),
		}}); err != nil {
			t.Fatal(err)
		}
		claim := func() {
			t.Helper()
			ds, err := q.Claim(ctx, "node", broadcast.ChannelSMS, now, time.Minute, 1)
			if err != nil || len(ds) != 1 {
				t.Fatalf("claim = %v, %v", ds, err)
			}
		}
		claim()
		if err := q.RetryVia(ctx, "dlv_p", 1, now, now, "HTTP 500", "twilio"); err != nil {
			t.Fatal(err)
		}
		claim()
		if err := q.SentVia(ctx, "dlv_p", 2, now, "vonage"); err != nil {
			t.Fatal(err)
		}
		attempts, err := q.Attempts(ctx, "dlv_p")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := fmt.Sprint(attempts), "[retry via twilio: HTTP 500 sent via vonage]"; got != want {
			t.Errorf("attempts = %s, want %s", got, want)
		}
		list, err := q.SubjectDeliveries(ctx, "inc_p")
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || fmt.Sprint(list[0].Providers) != "[twilio vonage]" || list[0].Status != broadcast.StatusSent {
			t.Errorf("delivery = %+v, want sent through [twilio vonage]", list)
		}
	})
}
