package broadcast_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
)

// turns records the turns a dispatcher asks for, granting each at once.
type turns struct {
	mu    sync.Mutex
	asked map[string][]float64
}

func (t *turns) Wait(_ context.Context, channel string, perSecond float64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.asked[channel] = append(t.asked[channel], perSecond)
	return nil
}

// With a shared limiter (Redis, across nodes) the dispatcher asks it for every send of a
// rate-limited channel, at the configured rate less the margin, and never for unlimited
// channels.
func TestASharedLimiterPacesEverySendOfARateLimitedChannel(t *testing.T) {
	_, q, c := setup(t)
	s := &script{sent: map[string]int{}}
	shared := &turns{asked: map[string][]float64{}}
	d := broadcast.NewDispatcher(q, map[string]broadcast.Sender{broadcast.ChannelSMS: s, broadcast.ChannelWebPush: s}, broadcast.DispatcherOptions{
		Now: c.now, Poll: 10 * time.Millisecond, Rates: map[string]float64{broadcast.ChannelSMS: 5}, SharedLimit: shared,
	})
	ids := queue(t, q, c, 6)
	run(t, d)
	d.Wake()
	for _, id := range ids {
		waitFor(t, id+" sent", func() bool { return statusOf(t, q, "inc_1", id).Status == broadcast.StatusSent })
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if got := shared.asked[broadcast.ChannelSMS]; len(got) != len(ids) || got[0] != 5*broadcast.RateMargin {
		t.Errorf("sms turns asked %v, want %d at %v", got, len(ids), 5*broadcast.RateMargin)
	}
	if got := shared.asked[broadcast.ChannelWebPush]; len(got) != 0 {
		t.Errorf("an unlimited channel asked for turns: %v", got)
	}
}
