// Package broadcast gets news out: the Bus that tells every node "there are new events in
// the log", the websocket hub (broadcast/ws) that streams the log to live boards, and, in
// later issues, the senders of SMS, voice and web push. It knows nothing of incidents.
package broadcast

import (
	"context"
	"sync"
)

// Bus carries one signal between nodes: the id of the newest event appended. It makes
// delivery fast, never correct: a subscriber that misses a signal catches up from the log on
// the next one, or on its fallback poll, because the log is the truth.
//
// Guarantees: Publish never blocks on a slow subscriber; a subscriber sees each signal at
// most once, possibly coalesced with others (it then sees the highest id); signals may be
// lost (a Redis reconnect), so subscribers must poll the log now and then.
type Bus interface {
	// Publish announces that events up to lastID are in the log.
	Publish(ctx context.Context, lastID int64) error
	// Subscribe returns a channel of announced ids and a function that ends the
	// subscription. The channel is closed after cancel.
	Subscribe() (ids <-chan int64, cancel func())
}

// LocalBus is the in-process Bus used when there is a single node.
type LocalBus struct {
	mu   sync.Mutex
	subs map[*localSub]struct{}
}

type localSub struct {
	ch     chan int64
	closed bool
}

// NewLocalBus returns an in-process bus.
func NewLocalBus() *LocalBus { return &LocalBus{subs: map[*localSub]struct{}{}} }

// Publish signals every subscriber without blocking. A subscriber whose one-slot buffer is
// full gets the higher of the pending and new ids.
func (b *LocalBus) Publish(_ context.Context, lastID int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		offer(s.ch, lastID)
	}
	return nil
}

// offer puts id in a one-slot channel without blocking, keeping the highest pending id.
func offer(ch chan int64, id int64) {
	for {
		select {
		case ch <- id:
			return
		default:
		}
		select {
		case old := <-ch:
			if old > id {
				id = old
			}
		default:
		}
	}
}

// Subscribe registers a subscriber.
func (b *LocalBus) Subscribe() (<-chan int64, func()) {
	s := &localSub{ch: make(chan int64, 1)}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s.ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if !s.closed {
			s.closed = true
			delete(b.subs, s)
			close(s.ch)
		}
	}
}
