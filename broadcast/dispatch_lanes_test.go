package broadcast_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// queueSMS queues n SMS about subject, ids prefix_000…, of the given kind.
func queueSMS(t *testing.T, q *store.Deliveries, c *clock, subject, prefix string, n int, priority string, drill, audience bool) []string {
	t.Helper()
	var ds []broadcast.Delivery
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%s_%03d", prefix, i)
		ids = append(ids, id)
		ds = append(ds, broadcast.Delivery{
			Message: broadcast.Message{DeliveryID: id, Channel: broadcast.ChannelSMS, To: "+525512345678", Language: "es", Text: "hola"},
			Subject: subject, Recipient: fmt.Sprintf("per_%s_%d", prefix, i), DueAt: c.now(), Deadline: c.now().Add(time.Hour),
			Priority: priority, Drill: drill, Audience: audience,
		})
	}
	if err := q.Enqueue(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	return ids
}

// The measurement of issue 14: a drill of 300 people by SMS at 10 a second, then one
// second later a real P1 whose ladder pages one director. Her SMS left after all 300
// drill messages, 30 s after the declaration. Now it is among the first three requests
// after it was queued: behind at most one SMS already past its rate turn and one claimed
// and waiting for its turn (under 0.3 s at 10 a second, well within the 2 s asked).
func TestARealP1IsNotHeldBehindADrill(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		_, q, c := setup(t)
		provider := newRecorder()
		d := broadcast.NewDispatcher(q, map[string]broadcast.Sender{broadcast.ChannelSMS: provider}, broadcast.DispatcherOptions{
			Now: c.now, Poll: 20 * time.Millisecond, Rates: map[string]float64{broadcast.ChannelSMS: 10},
		})
		queueSMS(t, q, c, "inc_drill", "dlv_drill", 300, "P2", true, true)
		run(t, d)
		d.Wake()
		waitFor(t, "the drill under way", func() bool { return provider.sent() >= 10 })
		c.add(time.Second) // one second later
		director := queueSMS(t, q, c, "inc_real", "dlv_director", 1, "P1", false, false)[0]
		before := provider.sent() // requests made by the time it was queued (committed)
		d.Wake()
		waitFor(t, "the director's SMS", func() bool { return provider.position(director) >= 0 })
		if pos := provider.position(director); pos > before+2 {
			t.Errorf("the director's SMS was request %d; %d had been made when it was queued: %d drill SMS went first",
				pos+1, before, pos-before)
		}
	})
}

// A storm of P4 reminders takes the SMS rate; a P1 declared meanwhile reaches its
// audience's first alert after at most the one reminder claimed and waiting for its
// turn (and the one already past it).
func TestAReminderStormDelaysAP1ByAtMostOneSendSlot(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		_, q, c := setup(t)
		provider := newRecorder()
		d := broadcast.NewDispatcher(q, map[string]broadcast.Sender{broadcast.ChannelSMS: provider}, broadcast.DispatcherOptions{
			Now: c.now, Poll: 20 * time.Millisecond, Rates: map[string]float64{broadcast.ChannelSMS: 10},
		})
		queueSMS(t, q, c, "inc_p4", "dlv_reminder", 200, "P4", false, false)
		run(t, d)
		d.Wake()
		waitFor(t, "the reminders under way", func() bool { return provider.sent() >= 5 })
		c.add(time.Second)
		alert := queueSMS(t, q, c, "inc_p1", "dlv_p1", 3, "P1", false, true)
		before := provider.sent()
		d.Wake()
		waitFor(t, "the P1 alerts", func() bool { return provider.position(alert[2]) >= 0 })
		for i, id := range alert {
			if pos := provider.position(id); pos > before+2+i {
				t.Errorf("P1 alert %d was request %d; %d had been made when it was queued", i+1, pos+1, before)
			}
		}
	})
}

// A dispatcher claims a tenth of a second's worth of a rate-limited channel at once.
func TestClaimAhead(t *testing.T) {
	for _, tc := range []struct {
		rate        float64
		concurrency int
		want        int
	}{{0.5, 16, 1}, {2, 16, 1}, {10, 16, 1}, {19, 16, 1}, {50, 16, 5}, {200, 16, 16}, {200, 64, 20}, {200, 1, 1}} {
		if got := broadcast.ClaimAhead(tc.rate, tc.concurrency); got != tc.want {
			t.Errorf("ClaimAhead(%v, %d) = %d, want %d", tc.rate, tc.concurrency, got, tc.want)
		}
	}
}
