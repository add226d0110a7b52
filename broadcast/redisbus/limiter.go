package redisbus

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// gcra reserves the next send slot of a channel for every node at once (the generic cell
// rate algorithm): the key holds the theoretical arrival time (TAT) of the next slot, in
// microseconds of Redis's own clock, so the nodes' clocks do not matter. It returns how
// long the caller must wait for the slot it got.
var gcra = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local interval = tonumber(ARGV[1])
local nexttat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', nexttat), 'PX', math.floor((nexttat - now) / 1000) + 1000)
return tat - now
`)

// Limiter is a broadcast.RateLimiter shared by every node on one Redis: each channel's
// rate holds for the whole deployment, not per node. When Redis does not answer it falls
// back to a limiter of its own node at the same rate (so, during an outage, N nodes may
// together send up to N times the rate; the provider's 429s are retried by the
// dispatcher) and logs that once.
type Limiter struct {
	client redis.UniversalClient
	prefix string
	log    *slog.Logger

	mu       sync.Mutex
	local    map[string]*rate.Limiter
	degraded bool
}

var _ broadcast.RateLimiter = (*Limiter)(nil)

// NewLimiter returns a shared limiter on the bus's Redis, under the bus's prefix.
func (b *Bus) NewLimiter() *Limiter {
	return &Limiter{client: b.client, prefix: b.opt.Prefix + "rate:", log: b.opt.Logger, local: map[string]*rate.Limiter{}}
}

// Wait returns once one more message of channel may be sent at perSecond across every
// node, or with ctx's error.
func (l *Limiter) Wait(ctx context.Context, channel string, perSecond float64) error {
	if perSecond <= 0 || math.IsInf(perSecond, 1) {
		return nil
	}
	wait, err := l.Reserve(ctx, channel, perSecond)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		l.fellBack(err)
		return l.localLimiter(channel, perSecond).Wait(ctx)
	}
	l.recovered()
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err() // the slot is lost; the delivery is sent again after its lease
	case <-t.C:
		return nil
	}
}

// Reserve takes the channel's next slot and returns how long to wait for it.
func (l *Limiter) Reserve(ctx context.Context, channel string, perSecond float64) (time.Duration, error) {
	interval := int64(1e6 / perSecond)
	us, err := gcra.Run(ctx, l.client, []string{l.prefix + channel}, interval).Int64()
	if err != nil {
		return 0, fmt.Errorf("shared rate limit of %s: %w", channel, err)
	}
	return time.Duration(us) * time.Microsecond, nil
}

func (l *Limiter) localLimiter(channel string, perSecond float64) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.local[channel]
	if lim == nil || float64(lim.Limit()) != perSecond {
		lim = rate.NewLimiter(rate.Limit(perSecond), 1)
		l.local[channel] = lim
	}
	return lim
}

func (l *Limiter) fellBack(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.degraded {
		l.degraded = true
		l.log.Warn("shared rate limit: Redis does not answer; limiting this node on its own until it does", "err", err)
	}
}

func (l *Limiter) recovered() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.degraded {
		l.degraded = false
		l.log.Info("shared rate limit: Redis answers again; the rate is shared by every node again")
	}
}
