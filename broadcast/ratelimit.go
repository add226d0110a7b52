package broadcast

import "context"

// RateLimiter spaces the sends of a channel across every node of a deployment (Redis),
// so the configured rate is the provider account's, however many nodes send. Without
// one, each node keeps the rate on its own.
type RateLimiter interface {
	// Wait returns once one more message of channel may be sent at perSecond messages a
	// second counted across every node, or with ctx's error. It must not fail for any
	// other reason: an implementation whose shared state is unreachable limits locally.
	Wait(ctx context.Context, channel string, perSecond float64) error
}

// waitTurn waits for the channel's rate limit, shared across nodes when a RateLimiter is
// set, else this node's.
func (d *Dispatcher) waitTurn(ctx context.Context, channel string) error {
	l := d.limits[channel]
	if l == nil {
		return nil
	}
	if d.opt.SharedLimit != nil {
		return d.opt.SharedLimit.Wait(ctx, channel, float64(l.Limit()))
	}
	return l.Wait(ctx)
}
