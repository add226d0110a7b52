// Package redisbus carries the Bus signal ("there are new events in the log, up to id N")
// between nodes over Redis pub/sub, through go-redis's universal client (a single Redis,
// Sentinel or Cluster), and shares the dispatcher's rate limits between nodes.
//
// Pub/sub is at most once: a message published while this node's subscription is down
// (a Redis restart, a failover, a killed connection) is lost for it. That is fine because
// the bus never carries data, only a wake-up: after every (re)subscription the bus reads
// the newest id from the log and wakes its subscribers, which catch up from the log; and
// a short fallback poll of the log's newest id covers whatever else is missed. While
// Redis is down the node keeps waking its own subscribers for its own commits, so its
// clients see its own events at once and other nodes' events within the poll interval.
package redisbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/redis/go-redis/v9"
)

// Options tune a Bus. Zero values take the defaults.
type Options struct {
	// Prefix starts every key and channel name, so several deployments (or tests) can
	// share one Redis. Default "optimum:".
	Prefix string
	// Node names this process; its own messages coming back from Redis are ignored.
	// Default: a random id.
	Node string
	// Latest returns the newest id in the event log. The bus reads it after every
	// (re)subscription and on its fallback poll. Nil: the bus wakes subscribers with the
	// highest id it has seen, which is enough for subscribers that read the log on any
	// signal (the hub and the notifier do).
	Latest func(ctx context.Context) (int64, error)
	// Poll is how often the fallback poll reads Latest; default 1 s.
	Poll time.Duration
	// HealthCheck is how long the subscription may stay silent before the bus pings
	// Redis on it; default 2 s. A ping that fails marks the bus degraded.
	HealthCheck time.Duration
	// PublishTimeout bounds one PUBLISH; default 2 s.
	PublishTimeout time.Duration
	Logger         *slog.Logger
}

func (o *Options) defaults() {
	if o.Prefix == "" {
		o.Prefix = "optimum:"
	}
	if o.Node == "" {
		o.Node = optimum.NewID("node")
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.HealthCheck <= 0 {
		o.HealthCheck = 2 * time.Second
	}
	if o.PublishTimeout <= 0 {
		o.PublishTimeout = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Bus is a broadcast.Bus across nodes. Open it, run Run, and Close it after Run returns.
//
// Publish wakes this node's subscribers at once and hands the id to a publisher goroutine
// (never blocking the caller, which is the store's commit path); Subscribe is local. The
// receiving goroutine never blocks: it only offers ids to one-slot local channels.
type Bus struct {
	client  redis.UniversalClient
	opt     Options
	channel string
	mode    string

	local   *broadcast.LocalBus // this node's subscribers
	pending *broadcast.LocalBus // ids waiting to be published to Redis, coalesced
	pubIDs  <-chan int64
	stopPub func()

	announced atomic.Int64 // highest id offered to local subscribers

	mu      sync.Mutex
	down    error     // why the subscription is down; nil when it is up
	downAt  time.Time // since when
	lastLog time.Time // last "publish failed" log line, to keep the log readable
	subbed  bool      // the subscription was confirmed at least once
}

var _ broadcast.Bus = (*Bus)(nil)

// Open parses the URL (see ParseURL), connects and checks that Redis answers within
// timeout, so a wrong URL or an unreachable Redis fails start-up with a clear message.
func Open(ctx context.Context, rawURL string, timeout time.Duration, opt Options) (*Bus, error) {
	uo, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if uo.ClientName == "" {
		uo.ClientName = "optimum"
	}
	if opt.Logger != nil {
		// go-redis logs every failed dial on its own; the bus logs state changes once.
		redis.SetLogger(debugLog{opt.Logger})
	}
	b, err := New(ctx, redis.NewUniversalClient(uo), Mode(uo), timeout, opt)
	if err != nil {
		return nil, fmt.Errorf("%w (addresses %s)", err, strings.Join(uo.Addrs, ", "))
	}
	return b, nil
}

// New wraps a client. It pings Redis within timeout and closes the client on failure.
func New(ctx context.Context, client redis.UniversalClient, mode string, timeout time.Duration, opt Options) (*Bus, error) {
	opt.defaults()
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("redis (%s) does not answer: %w", mode, err)
	}
	b := &Bus{client: client, opt: opt, channel: opt.Prefix + "events", mode: mode,
		local: broadcast.NewLocalBus(), pending: broadcast.NewLocalBus()}
	b.pubIDs, b.stopPub = b.pending.Subscribe()
	b.down, b.downAt = errors.New("not subscribed yet"), time.Now()
	return b, nil
}

// Client returns the Redis client, to share it (the rate limiter uses it).
func (b *Bus) Client() redis.UniversalClient { return b.client }

// Mode says which kind of Redis the bus talks to: single, sentinel or cluster.
func (b *Bus) Mode() string { return b.mode }

// Publish wakes this node's subscribers and queues the id for the other nodes. It never
// blocks and never fails: if Redis is down, other nodes find the events on their poll.
func (b *Bus) Publish(_ context.Context, lastID int64) error {
	b.announce(lastID)
	return b.pending.Publish(context.Background(), lastID)
}

// Subscribe registers a subscriber of this node.
func (b *Bus) Subscribe() (<-chan int64, func()) { return b.local.Subscribe() }

// Ready reports whether the subscription is up and Redis answers. It is what /readyz
// shows as "redis".
func (b *Bus) Ready(ctx context.Context) error {
	b.mu.Lock()
	down, since, subbed := b.down, b.downAt, b.subbed
	b.mu.Unlock()
	if down != nil {
		if !subbed {
			return fmt.Errorf("pub/sub not subscribed yet: %w", down)
		}
		return fmt.Errorf("pub/sub down since %s: %w", since.UTC().Format(time.RFC3339), down)
	}
	return b.client.Ping(ctx).Err()
}

// Run subscribes, publishes and polls until ctx is done.
func (b *Bus) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { b.publishLoop(ctx) })
	wg.Go(func() { b.pollLoop(ctx) })
	b.receiveLoop(ctx)
	wg.Wait()
	return nil
}

// Close releases the Redis connections. Call it after Run has returned.
func (b *Bus) Close() error {
	b.stopPub()
	return b.client.Close()
}

// announce offers id to this node's subscribers and remembers the highest.
func (b *Bus) announce(id int64) {
	for {
		old := b.announced.Load()
		if id <= old || b.announced.CompareAndSwap(old, id) {
			break
		}
	}
	_ = b.local.Publish(context.Background(), id)
}

func (b *Bus) receiveLoop(ctx context.Context) {
	for ctx.Err() == nil {
		b.session(ctx)
	}
}

// errNoPong ends a subscription whose connection stopped answering without an error (a
// half-open TCP connection): the next session dials a fresh one.
var errNoPong = errors.New("no answer to a ping on the subscription")

// session reads one subscription until ctx is done or its connection stops answering
// pings. go-redis redials and re-subscribes by itself after a read error; a connection
// that is silently dead is only noticed by an unanswered ping.
func (b *Bus) session(ctx context.Context) {
	ps := b.client.Subscribe(ctx, b.channel)
	// A blocked read ignores ctx: closing the subscription is what ends it.
	stop := context.AfterFunc(ctx, func() { ps.Close() })
	defer func() {
		if stop() {
			ps.Close()
		}
	}()
	backoff := 100 * time.Millisecond
	pinged := false // a ping is waiting for its PONG
	for ctx.Err() == nil {
		msg, err := ps.ReceiveTimeout(ctx, b.opt.HealthCheck)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && b.isUp() {
				if pinged {
					b.setDown(errNoPong)
					return
				}
				// Silent for a while: check the connection is alive. The PONG (or the
				// error) comes back through ReceiveTimeout.
				if err := ps.Ping(ctx); err != nil {
					b.setDown(err)
				}
				pinged = true
				continue
			}
			// The connection is gone; the next ReceiveTimeout redials and subscribes
			// again. Back off so a Redis that is down is not hammered.
			b.setDown(err)
			pinged = false
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 2*time.Second)
			continue
		}
		backoff, pinged = 100*time.Millisecond, false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				// Anything published while we were not subscribed is lost for us:
				// catch up from the log.
				b.catchUp(ctx)
				b.setUp() // after the catch-up, so "ready" means nothing is pending
			}
		case *redis.Pong:
			b.setUp()
		case *redis.Message:
			node, id, ok := parsePayload(m.Payload)
			if ok && node != b.opt.Node {
				b.announce(id)
			}
		}
	}
}

// catchUp wakes every subscriber with the newest id of the log.
func (b *Bus) catchUp(ctx context.Context) {
	id := b.announced.Load()
	if b.opt.Latest != nil {
		if latest, err := b.opt.Latest(ctx); err == nil {
			id = max(id, latest)
		} else if ctx.Err() == nil {
			b.opt.Logger.Warn("redis bus: reading the newest event id", "err", err)
		}
	}
	_ = b.local.Publish(ctx, id) // wake even when nothing is new: subscribers read the log
}

// pollLoop is the fallback: it wakes subscribers when the log has grown past what they
// were told, whatever happened to the pub/sub messages.
func (b *Bus) pollLoop(ctx context.Context) {
	if b.opt.Latest == nil {
		return
	}
	t := time.NewTicker(b.opt.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		latest, err := b.opt.Latest(ctx)
		if err != nil {
			continue // the database is down; readiness says so, and the hub logs it
		}
		if latest > b.announced.Load() {
			b.announce(latest)
		}
	}
}

func (b *Bus) publishLoop(ctx context.Context) {
	for {
		var id int64
		select {
		case <-ctx.Done():
			return
		case id = <-b.pubIDs:
		}
		pctx, cancel := context.WithTimeout(ctx, b.opt.PublishTimeout)
		err := b.client.Publish(pctx, b.channel, b.opt.Node+" "+strconv.FormatInt(id, 10)).Err()
		cancel()
		if err != nil && ctx.Err() == nil {
			b.mu.Lock()
			quiet := time.Since(b.lastLog) < 30*time.Second
			if !quiet {
				b.lastLog = time.Now()
			}
			b.mu.Unlock()
			if !quiet {
				b.opt.Logger.Warn("redis bus: publish failed; other nodes will find the events on their poll", "err", err)
			}
		}
	}
}

func (b *Bus) isUp() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.down == nil
}

func (b *Bus) setDown(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.down == nil {
		b.down, b.downAt = err, time.Now()
		b.opt.Logger.Warn("redis bus: subscription down; serving this node's clients and polling the log until it is back", "err", err)
	} else {
		b.down = err
	}
}

func (b *Bus) setUp() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.down != nil && b.subbed {
		b.opt.Logger.Info("redis bus: subscribed again; catching up from the log", "down_for", time.Since(b.downAt).Round(time.Millisecond).String())
	}
	b.down, b.subbed = nil, true
}

// parsePayload reads "node id".
func parsePayload(p string) (string, int64, bool) {
	node, num, ok := strings.Cut(p, " ")
	if !ok {
		return "", 0, false
	}
	id, err := strconv.ParseInt(num, 10, 64)
	return node, id, err == nil
}

// debugLog sends go-redis's own log lines to slog at debug level.
type debugLog struct{ l *slog.Logger }

func (d debugLog) Printf(ctx context.Context, format string, v ...any) {
	d.l.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}
