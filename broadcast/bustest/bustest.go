// Package bustest is the contract every broadcast.Bus keeps, as one test suite that runs
// on the in-process bus and on the Redis bus alike.
package bustest

import (
	"context"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
)

// Pair returns two buses that stand for two nodes sharing one deployment: what one
// publishes, the other's subscribers hear. For the in-process bus both are the same bus.
// Both must be ready (subscribed) when Pair returns.
type Pair func(t *testing.T) (a, b broadcast.Bus)

// wait bounds how long a test waits for a signal before it calls the signal lost. It is a
// liveness bound, not a speed check.
const wait = 10 * time.Second

// Run runs the contract against buses made by pair.
func Run(t *testing.T, pair Pair) {
	t.Run("a publish reaches the subscribers of every node", func(t *testing.T) {
		a, b := pair(t)
		onA, stopA := a.Subscribe()
		defer stopA()
		onB, stopB := b.Subscribe()
		defer stopB()
		if err := a.Publish(context.Background(), 7); err != nil {
			t.Fatalf("publish: %v", err)
		}
		Await(t, onA, 7)
		Await(t, onB, 7)
	})
	t.Run("publish never waits for a subscriber that does not read, which then sees the highest id", func(t *testing.T) {
		a, b := pair(t)
		onB, stopB := b.Subscribe()
		defer stopB()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for id := int64(1); id <= 2000; id++ {
				_ = a.Publish(context.Background(), id)
			}
		}()
		select {
		case <-done:
		case <-time.After(wait):
			t.Fatal("2000 publishes to a subscriber that does not read did not return")
		}
		Await(t, onB, 2000)
	})
	t.Run("cancel closes the subscription and later publishes do not reach it", func(t *testing.T) {
		a, b := pair(t)
		onB, stopB := b.Subscribe()
		stopB()
		stopB() // twice is harmless
		_ = a.Publish(context.Background(), 3)
		for range onB {
			// a signal that arrived before cancel may still be buffered; the channel must close
		}
	})
	t.Run("each subscriber hears every publish, not one of them", func(t *testing.T) {
		a, b := pair(t)
		var subs []<-chan int64
		for range 3 {
			ch, stop := b.Subscribe()
			defer stop()
			subs = append(subs, ch)
		}
		_ = a.Publish(context.Background(), 11)
		for _, ch := range subs {
			Await(t, ch, 11)
		}
	})
}

// Await reads signals from ch until one is at least id.
func Await(t testing.TB, ch <-chan int64, id int64) {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case got, ok := <-ch:
			if !ok {
				t.Fatalf("subscription closed before id %d arrived", id)
			}
			if got >= id {
				return
			}
		case <-deadline:
			t.Fatalf("id %d never arrived within %v", id, wait)
		}
	}
}
