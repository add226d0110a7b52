package broadcast_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// script is a Sender whose answers the test decides, per delivery and attempt.
type script struct {
	mu     sync.Mutex
	sent   map[string]int // delivery id -> attempts seen
	answer func(m broadcast.Message) (bool, error)
	block  chan struct{} // when set, Send waits on it (a send that never ends)
}

func (s *script) Send(ctx context.Context, m broadcast.Message) (bool, error) {
	s.mu.Lock()
	s.sent[m.DeliveryID]++
	answer, block := s.answer, s.block
	s.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return true, ctx.Err()
		}
	}
	if answer == nil {
		return false, nil
	}
	return answer(m)
}

func (s *script) attempts(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent[id]
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func setup(t *testing.T) (*store.DB, *store.Deliveries, *clock) {
	t.Helper()
	db := storetest.Open(t) // SQLite, or PostgreSQL inside storetest.Each
	return db, db.Deliveries(), &clock{t: time.Now().UTC().Truncate(time.Millisecond)}
}

func queue(t *testing.T, q *store.Deliveries, c *clock, n int) []string {
	t.Helper()
	var ds []broadcast.Delivery
	var ids []string
	for i := range n {
		id := fmt.Sprintf("dlv_%03d", i)
		ids = append(ids, id)
		ds = append(ds, broadcast.Delivery{
			Message: broadcast.Message{DeliveryID: id, Channel: broadcast.ChannelSMS, To: "+525512345678", Language: "es", Text: "hola"},
			Subject: "inc_1", Recipient: fmt.Sprintf("per_%d", i), DueAt: c.now(), Deadline: c.now().Add(time.Hour),
		})
	}
	if err := q.Enqueue(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	return ids
}

// run starts a dispatcher until the test ends.
func run(t *testing.T, d *broadcast.Dispatcher) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func statusOf(t *testing.T, q *store.Deliveries, subject, id string) broadcast.Delivery {
	t.Helper()
	list, err := q.SubjectDeliveries(context.Background(), subject)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range list {
		if d.ID == id {
			return broadcast.Delivery{Message: broadcast.Message{DeliveryID: d.ID}, Status: d.Status, Attempts: d.Attempts}
		}
	}
	t.Fatalf("no delivery %s", id)
	return broadcast.Delivery{}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEveryDeliveryIsSentOnce(t *testing.T) { storetest.Each(t, testEveryDeliveryIsSentOnce) }

func testEveryDeliveryIsSentOnce(t *testing.T) {
	_, q, c := setup(t)
	s := &script{sent: map[string]int{}}
	d := broadcast.NewDispatcher(q, map[string]broadcast.Sender{broadcast.ChannelSMS: s}, broadcast.DispatcherOptions{Now: c.now, Poll: 10 * time.Millisecond, Concurrency: 4})
	ids := queue(t, q, c, 50)
	run(t, d)
	d.Wake()
	for _, id := range ids {
		waitFor(t, id+" sent", func() bool { return statusOf(t, q, "inc_1", id).Status == broadcast.StatusSent })
		if n := s.attempts(id); n != 1 {
			t.Errorf("%s sent %d times", id, n)
		}
	}
}

// 429 and 5xx are retried with backoff until they succeed; the reason of each retry is
// recorded, so nothing reaches the provider twice without one.
func TestRetryableFailuresAreRetriedWithAReason(t *testing.T) {
	storetest.Each(t, testRetryableFailuresAreRetriedWithAReason)
}

func testRetryableFailuresAreRetriedWithAReason(t *testing.T) {
	_, q, c := setup(t)
	s := &script{sent: map[string]int{}}
	s.answer = func(m broadcast.Message) (bool, error) {
		if m.Attempt < 3 {
			return true, &broadcast.RetryAfterError{After: 5 * time.Second, Err: errors.New("twilio: 429 Too Many Requests")}
		}
		return false, nil
	}
	d := broadcast.NewDispatcher(q, map[string]broadcast.Sender{broadcast.ChannelSMS: s}, broadcast.DispatcherOptions{Now: c.now, Poll: 5 * time.Millisecond, MinBackoff: time.Second})
	ids := queue(t, q, c, 1)
	run(t, d)
	for want := 1; want <= 3; want++ {
		waitFor(t, fmt.Sprintf("attempt %d", want), func() bool { return s.attempts(ids[0]) == want })
		c.add(10 * time.Second) // past any backoff, without sleeping
	}
	waitFor(t, "sent", func() bool { return statusOf(t, q, "inc_1", ids[0]).Status == broadcast.StatusSent })
	log, _ := q.Attempts(context.Background(), ids[0])
	want := "retry: twilio: 429 Too Many Requests (retry after 5s)|retry: twilio: 429 Too Many Requests (retry after 5s)|sent"
	if got := strings.Join(log, "|"); got != want {
		t.Errorf("attempts = %s", got)
	}
}

func TestPermanentFailuresAreNotRetried(t *testing.T) {
	storetest.Each(t, testPermanentFailuresAreNotRetried)
}

func testPermanentFailuresAreNotRetried(t *testing.T) {
	_, q, c := setup(t)
	s := &script{sent: map[string]int{}, answer: func(broadcast.Message) (bool, error) {
		return false, errors.New("twilio 21211: invalid To number")
	}}
	d := broadcast.NewDispatcher(q, map[string]broadcast.Sender{broadcast.ChannelSMS: s}, broadcast.DispatcherOptions{Now: c.now, Poll: 5 * time.Millisecond})
	ids := queue(t, q, c, 1)
	run(t, d)
	waitFor(t, "failed", func() bool { return statusOf(t, q, "inc_1", ids[0]).Status == broadcast.StatusFailed })
	c.add(time.Hour)
	// Once a delivery queued after the clock moved is sent, the dispatcher has looked for
	// due work since: a retry of the failed one would have been claimed by then.
	sentinel := queueOn(t, q, c, broadcast.ChannelSMS, 1)[0]
	d.Wake()
	waitFor(t, "a later delivery settled", func() bool { return statusOf(t, q, "inc_1", sentinel).Status == broadcast.StatusFailed })
	if n := s.attempts(ids[0]); n != 1 {
		t.Errorf("sent %d times", n)
	}
}

// A message whose Prepare says it is no longer current (a conformity request answered
// meanwhile) fails at once, never reaches the provider, and is not retried; an ordinary
// Prepare error is retried like a provider's.
func TestSupersededMessagesAreNotSent(t *testing.T) {
	storetest.Each(t, testSupersededMessagesAreNotSent)
}

func testSupersededMessagesAreNotSent(t *testing.T) {
	_, q, c := setup(t)
	s := &script{sent: map[string]int{}}
	var mu sync.Mutex
	prepared := map[string]int{}
	d := broadcast.NewDispatcher(q, map[string]broadcast.Sender{broadcast.ChannelSMS: s}, broadcast.DispatcherOptions{Now: c.now, Poll: 5 * time.Millisecond,
		MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
		Prepare: broadcast.Prepares(func(_ context.Context, del *broadcast.Delivery) error {
			mu.Lock()
			defer mu.Unlock()
			prepared[del.ID()]++
			switch {
			case del.Recipient == "per_0":
				return fmt.Errorf("the request was answered: %w", broadcast.ErrSuperseded)
			case del.Recipient == "per_1" && prepared[del.ID()] == 1:
				return errors.New("database busy")
			}
			return nil
		})})
	ids := queue(t, q, c, 2)
	run(t, d)
	waitFor(t, "the superseded one failed", func() bool { return statusOf(t, q, "inc_1", ids[0]).Status == broadcast.StatusFailed })
	waitFor(t, "the other sent on its retry", func() bool {
		c.add(time.Second)
		d.Wake()
		return statusOf(t, q, "inc_1", ids[1]).Status == broadcast.StatusSent
	})
	if n := s.attempts(ids[0]); n != 0 {
		t.Errorf("the superseded message reached the provider %d times", n)
	}
	if got := statusOf(t, q, "inc_1", ids[0]); got.Attempts != 1 {
		t.Errorf("the superseded message was tried %d times, want 1", got.Attempts)
	}
}

func TestRetriesStopAtTheDeadline(t *testing.T) { storetest.Each(t, testRetriesStopAtTheDeadline) }

func testRetriesStopAtTheDeadline(t *testing.T) {
	_, q, c := setup(t)
	s := &script{sent: map[string]int{}, answer: func(broadcast.Message) (bool, error) { return true, errors.New("503") }}
	d := broadcast.NewDispatcher(q, map[string]broadcast.Sender{broadcast.ChannelSMS: s}, broadcast.DispatcherOptions{Now: c.now, Poll: 5 * time.Millisecond, MinBackoff: time.Minute, MaxBackoff: 30 * time.Minute})
	ids := queue(t, q, c, 1)
	run(t, d)
	waitFor(t, "given up", func() bool {
		c.add(5 * time.Minute)
		return statusOf(t, q, "inc_1", ids[0]).Status == broadcast.StatusFailed
	})
	log, _ := q.Attempts(context.Background(), ids[0])
	if last := log[len(log)-1]; !strings.Contains(last, "gave up at the deadline") {
		t.Errorf("last attempt = %q", last)
	}
}

// A dispatcher that dies mid-send leaves its deliveries leased; once the lease expires
// another sends them again, marked as a resend with the reason recorded.
func TestADeadDispatchersDeliveriesAreResent(t *testing.T) {
	storetest.Each(t, testADeadDispatchersDeliveriesAreResent)
}

func testADeadDispatchersDeliveriesAreResent(t *testing.T) {
	_, q, c := setup(t)
	ids := queue(t, q, c, 3)
	// node-a claims the three and dies before recording anything (kill -9): what it
	// leaves behind is exactly its claim.
	if got, err := q.Claim(context.Background(), "node-a", broadcast.ChannelSMS, c.now(), time.Minute, 3); err != nil || len(got) != 3 {
		t.Fatalf("node-a claimed %d, %v", len(got), err)
	}
	good := &script{sent: map[string]int{}}
	d := broadcast.NewDispatcher(q, map[string]broadcast.Sender{broadcast.ChannelSMS: good}, broadcast.DispatcherOptions{Now: c.now, Poll: 5 * time.Millisecond, Owner: "node-b"})
	run(t, d)
	// A delivery queued now is sent by node-b; the leased ones must not be, yet.
	sentinel := queueOn(t, q, c, broadcast.ChannelSMS, 1)[0]
	d.Wake()
	waitFor(t, "node-b at work", func() bool { return statusOf(t, q, "inc_1", sentinel).Status == broadcast.StatusSent })
	for _, id := range ids {
		if n := good.attempts(id); n != 0 {
			t.Fatalf("%s resent before the lease expired", id)
		}
	}
	c.add(2 * time.Minute)
	for _, id := range ids {
		waitFor(t, id+" resent", func() bool { return statusOf(t, q, "inc_1", id).Status == broadcast.StatusSent })
		if got := statusOf(t, q, "inc_1", id).Attempts; got != 2 {
			t.Errorf("%s attempts = %d, want 2", id, got)
		}
		log, _ := q.Attempts(context.Background(), id)
		if len(log) != 2 || !strings.HasPrefix(log[0], "resent: lease expired") {
			t.Errorf("%s attempts = %v", id, log)
		}
	}
}

// queueOn queues n deliveries on one channel, ids prefixed with the channel.
func queueOn(t *testing.T, q *store.Deliveries, c *clock, channel string, n int) []string {
	t.Helper()
	var ds []broadcast.Delivery
	var ids []string
	for i := range n {
		id := fmt.Sprintf("dlv_%s_%03d", channel, i)
		ids = append(ids, id)
		ds = append(ds, broadcast.Delivery{
			Message: broadcast.Message{DeliveryID: id, Channel: channel, To: "+525512345678", Language: "es", Text: "hola"},
			Subject: "inc_1", Recipient: fmt.Sprintf("per_%d", i), DueAt: c.now(), Deadline: c.now().Add(time.Hour),
		})
	}
	if err := q.Enqueue(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	return ids
}

// SMS stuck at the provider (or waiting for their rate limit) take every SMS slot; the
// pushes queued behind them must still go out at once, not after the SMS.
func TestAStuckChannelDoesNotHoldBackTheOthers(t *testing.T) {
	storetest.Each(t, testAStuckChannelDoesNotHoldBackTheOthers)
}

func testAStuckChannelDoesNotHoldBackTheOthers(t *testing.T) {
	_, q, c := setup(t)
	stuck := &script{sent: map[string]int{}, block: make(chan struct{})}
	push := &script{sent: map[string]int{}}
	d := broadcast.NewDispatcher(q, map[string]broadcast.Sender{broadcast.ChannelSMS: stuck, broadcast.ChannelWebPush: push},
		broadcast.DispatcherOptions{Now: c.now, Poll: 10 * time.Millisecond, Concurrency: 2})
	smsIDs := queueOn(t, q, c, broadcast.ChannelSMS, 10) // queued first: older due times win
	pushIDs := queueOn(t, q, c, broadcast.ChannelWebPush, 10)
	run(t, d)
	t.Cleanup(func() { close(stuck.block) }) // runs before the dispatcher stops
	d.Wake()
	inFlight := func() (sending int) {
		for _, id := range smsIDs {
			switch statusOf(t, q, "inc_1", id).Status {
			case broadcast.StatusSending:
				sending++
			case broadcast.StatusQueued:
			default:
				t.Errorf("%s: SMS should be stuck or queued", id)
			}
		}
		return sending
	}
	// First the SMS channel is stuck with its whole concurrency in flight (the claims of
	// the two channels race; on PostgreSQL push may otherwise finish first)...
	waitFor(t, "2 SMS stuck in flight", func() bool { return inFlight() == 2 })
	// ...then every push is sent all the same.
	for _, id := range pushIDs {
		waitFor(t, id+" sent", func() bool { return statusOf(t, q, "inc_1", id).Status == broadcast.StatusSent })
	}
	if n := inFlight(); n != 2 {
		t.Errorf("%d SMS in flight, want the concurrency (2)", n)
	}
}

// A delivery on a channel nobody configured fails at once with the reason, instead of
// waiting in the queue forever.
func TestAChannelWithoutSenderFailsWithTheReason(t *testing.T) {
	storetest.Each(t, testAChannelWithoutSenderFailsWithTheReason)
}

func testAChannelWithoutSenderFailsWithTheReason(t *testing.T) {
	_, q, c := setup(t)
	d := broadcast.NewDispatcher(q, map[string]broadcast.Sender{broadcast.ChannelSMS: &script{sent: map[string]int{}}},
		broadcast.DispatcherOptions{Now: c.now, Poll: 10 * time.Millisecond})
	ids := queueOn(t, q, c, broadcast.ChannelVoice, 3)
	run(t, d)
	d.Wake()
	for _, id := range ids {
		waitFor(t, id+" failed", func() bool { return statusOf(t, q, "inc_1", id).Status == broadcast.StatusFailed })
	}
	list, err := q.SubjectDeliveries(context.Background(), "inc_1")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if !strings.Contains(s.Error, "no sender is configured for channel voice") {
			t.Errorf("%s: error %q does not say why", s.ID, s.Error)
		}
	}
}

// Fifty deliveries sent make one progress event for their incident, not fifty: boards
// get "50 sent" once; nothing new, no event; a later change, one more.
func TestDeliveryChangesMakeOneProgressEventPerIncident(t *testing.T) {
	db, q, c := setup(t)
	s := &script{sent: map[string]int{}}
	d := broadcast.NewDispatcher(q, map[string]broadcast.Sender{broadcast.ChannelSMS: s}, broadcast.DispatcherOptions{Now: c.now, Poll: 10 * time.Millisecond})
	ids := queue(t, q, c, 50)
	run(t, d)
	d.Wake()
	for _, id := range ids {
		waitFor(t, id+" sent", func() bool { return statusOf(t, q, "inc_1", id).Status == broadcast.StatusSent })
	}
	ctx := context.Background()
	if n, err := q.PublishProgress(ctx, c.now(), 100); err != nil || n != 1 {
		t.Fatalf("first publish = %d, %v; want one event", n, err)
	}
	if n, err := q.PublishProgress(ctx, c.now(), 100); err != nil || n != 0 {
		t.Fatalf("publish with nothing new = %d, %v", n, err)
	}
	if _, _, err := q.ProviderUpdate(ctx, ids[0], "SM1", "delivered", "", c.now(), func(old, new string) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if n, err := q.PublishProgress(ctx, c.now(), 100); err != nil || n != 1 {
		t.Fatalf("publish after a callback = %d, %v", n, err)
	}
	events, err := db.EventsAfter(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var progress []string
	for _, e := range events {
		if e.Type == store.EventDeliveriesProgress {
			progress = append(progress, string(e.Data))
		} else {
			t.Errorf("unexpected event %s", e.Type)
		}
	}
	if len(progress) != 2 || !strings.Contains(progress[0], `"sms":{"sent":50}`) || !strings.Contains(progress[1], `"sms":{"delivered":1,"sent":49}`) {
		t.Errorf("progress events = %v", progress)
	}
}
