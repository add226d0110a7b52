package broadcast_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
)

// Observe hears of every provider call, with its channel and whether it succeeded.
func TestObserveHearsEveryProviderCall(t *testing.T) {
	_, q, c := setup(t)
	s := &script{sent: map[string]int{}, answer: func(m broadcast.Message) (bool, error) {
		if m.DeliveryID == "dlv_001" {
			return false, errors.New("twilio 21211: invalid To number")
		}
		return false, nil
	}}
	var (
		mu   sync.Mutex
		seen = map[bool]int{}
	)
	d := broadcast.NewDispatcher(q, map[string]broadcast.Sender{broadcast.ChannelSMS: s}, broadcast.DispatcherOptions{
		Now: c.now, Poll: 5 * time.Millisecond,
		Observe: func(channel string, ok bool, took time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			if channel != broadcast.ChannelSMS || took < 0 {
				t.Errorf("observed %s %v", channel, took)
			}
			seen[ok]++
		},
	})
	ids := queue(t, q, c, 3)
	run(t, d)
	for _, id := range ids {
		waitFor(t, id+" settled", func() bool {
			st := statusOf(t, q, "inc_1", id).Status
			return st == broadcast.StatusSent || st == broadcast.StatusFailed
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if seen[true] != 2 || seen[false] != 1 {
		t.Errorf("observed %v, want 2 ok and 1 failed call", seen)
	}
}
