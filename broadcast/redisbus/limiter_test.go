package redisbus_test

import (
	"context"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/internal/testenv"
)

// Two nodes reserving slots of one channel get one schedule between them: at one message
// a second, 20 reservations made at once from two nodes are spread over 19 seconds, which
// two per-node limiters would spread over 9. (The test reads the schedule; it does not
// wait for it.)
func TestNodesShareOneScheduleOfSlotsPerChannel(t *testing.T) {
	prefix := testenv.Prefix(t)
	a := startBus(t, prefix, "optimum-test-a", redisbusOptions("a")).NewLimiter()
	b := startBus(t, prefix, "optimum-test-b", redisbusOptions("b")).NewLimiter()
	ctx := context.Background()
	var waits []time.Duration
	for i := range 20 {
		l := a
		if i%2 == 1 {
			l = b
		}
		w, err := l.Reserve(ctx, "sms", 1)
		if err != nil {
			t.Fatal(err)
		}
		waits = append(waits, w)
	}
	for i := 1; i < len(waits); i++ {
		if waits[i] <= waits[i-1] {
			t.Fatalf("slot %d waits %v, not after slot %d's %v: %v", i, waits[i], i-1, waits[i-1], waits)
		}
	}
	if last := waits[len(waits)-1]; last < 18*time.Second {
		t.Errorf("the 20th slot at 1/s waits %v; one shared schedule puts it about 19 s out", last)
	}
	// Another channel has its own schedule.
	if w, err := a.Reserve(ctx, "webpush", 1); err != nil || w > 100*time.Millisecond {
		t.Errorf("first webpush slot waits %v (%v), want none", w, err)
	}
}

// A limiter whose Redis is gone still lets sends through, at the rate, on its own.
func TestLimiterFallsBackToThisNodeWhenRedisIsGone(t *testing.T) {
	bus := startBus(t, testenv.Prefix(t), "optimum-test-a", redisbusOptions("a"))
	l := bus.NewLimiter()
	bus.Client().Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 3 {
		if err := l.Wait(ctx, "sms", 1000); err != nil {
			t.Fatalf("wait with Redis gone: %v", err)
		}
	}
}
