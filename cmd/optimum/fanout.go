package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/redisbus"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/httpapi"
	"github.com/optimum-bcp/optimum/internal/store"
)

// redisStartTimeout bounds how long start-up waits for Redis to answer.
const redisStartTimeout = 5 * time.Second

// fanout is how a node hears about new events: the in-process bus on a single node, or
// Redis pub/sub between nodes (OPTIMUM_REDIS_URL).
type fanout struct {
	bus   broadcast.Bus
	redis *redisbus.Bus // nil when in-process
}

// openFanout opens the configured bus. A wrong Redis URL or a Redis that does not answer
// fails start-up: a node that believes it is alone while others run would leave their
// boards behind by the poll interval, silently.
func openFanout(ctx context.Context, cfg config.Config, db *store.DB, log *slog.Logger) (fanout, error) {
	if cfg.Redis.URL == "" {
		return fanout{bus: broadcast.NewLocalBus()}, nil
	}
	rb, err := redisbus.Open(ctx, cfg.Redis.URL, redisStartTimeout, redisbus.Options{
		Prefix: cfg.Redis.Prefix, Latest: db.LastEventID, Logger: log, // Node: a random id per start
	})
	if err != nil {
		return fanout{}, fmt.Errorf("OPTIMUM_REDIS_URL: %w", err)
	}
	return fanout{bus: rb, redis: rb}, nil
}

// name says which fan-out runs, for the start-up log line.
func (f fanout) name() string {
	if f.redis == nil {
		return "in-process"
	}
	return "redis (" + f.redis.Mode() + ")"
}

// readyChecks are what /readyz reports on besides the database.
func (f fanout) readyChecks() []httpapi.ReadyCheck {
	if f.redis == nil {
		return nil
	}
	return []httpapi.ReadyCheck{{Name: "redis", Check: f.redis.Ready}}
}

// run runs the Redis side until ctx is done; the in-process bus needs nothing.
func (f fanout) run(ctx context.Context) {
	if f.redis != nil {
		_ = f.redis.Run(ctx)
	}
}

// close releases Redis; call it after run has returned.
func (f fanout) close() {
	if f.redis != nil {
		f.redis.Close()
	}
}

// rateLimiter shares the dispatcher's per-channel rates across nodes when Redis is
// configured; nil keeps them per node.
func (f fanout) rateLimiter() broadcast.RateLimiter {
	if f.redis == nil {
		return nil
	}
	return f.redis.NewLimiter()
}
