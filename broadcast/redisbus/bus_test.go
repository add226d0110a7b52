package redisbus_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/bustest"
	"github.com/optimum-bcp/optimum/broadcast/redisbus"
	"github.com/optimum-bcp/optimum/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// startBus opens a bus on the test's Redis with the given prefix and client name, runs it
// until the test ends, and waits until it is subscribed.
func startBus(t *testing.T, prefix, clientName string, opt redisbus.Options) *redisbus.Bus {
	t.Helper()
	u := testenv.RedisURL(t)
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	opt.Prefix = prefix
	b, err := redisbus.Open(context.Background(), u+sep+"client_name="+clientName, 3*time.Second, opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; b.Close() })
	waitReady(t, b)
	return b
}

func waitReady(t *testing.T, b *redisbus.Bus) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := b.Ready(context.Background())
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("bus never became ready: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRedisBusKeepsTheBusContract(t *testing.T) {
	bustest.Run(t, func(t *testing.T) (broadcast.Bus, broadcast.Bus) {
		prefix := testenv.Prefix(t)
		a := startBus(t, prefix, "optimum-test-a", redisbus.Options{Node: "a"})
		b := startBus(t, prefix, "optimum-test-b", redisbus.Options{Node: "b"})
		return a, b
	})
}

func TestRedisBusesWithDifferentPrefixesDoNotHearEachOther(t *testing.T) {
	prefixA, prefixB := testenv.Prefix(t), testenv.Prefix(t)
	a := startBus(t, prefixA, "optimum-test-a", redisbus.Options{Node: "a"})
	w := startBus(t, prefixA, "optimum-test-w", redisbus.Options{Node: "w", Poll: time.Hour})
	b := startBus(t, prefixB, "optimum-test-b", redisbus.Options{Node: "b", Poll: time.Hour})
	c := startBus(t, prefixB, "optimum-test-c", redisbus.Options{Node: "c"})
	onW, stopW := w.Subscribe()
	defer stopW()
	onB, stop := b.Subscribe()
	defer stop()
	// Publish is asynchronous; once w, on a's prefix, has heard a's 9, Redis has handed
	// a's message to every subscriber it would reach, before c publishes. Redis delivers a
	// subscription's messages in order, so if b got a's 9 it gets it before c's 5; and a's
	// id is the higher one, so a bus that keeps the highest id cannot hide it behind c's.
	_ = a.Publish(context.Background(), 9)
	bustest.Await(t, onW, 9)
	_ = c.Publish(context.Background(), 5)
	for {
		select {
		case id := <-onB:
			if id == 9 {
				t.Fatal("b heard a bus with another prefix")
			}
			if id == 5 {
				return
			}
		case <-time.After(10 * time.Second):
			t.Fatal("b never heard its own deployment")
		}
	}
}

func TestRedisBusCatchesUpFromTheLogAfterItsConnectionIsKilled(t *testing.T) {
	prefix := testenv.Prefix(t)
	name := "optimum-test-" + strings.Trim(strings.ReplaceAll(prefix, ":", "-"), "-")
	var latest atomic.Int64
	// The poll is an hour: only the catch-up after the re-subscription can wake b.
	b := startBus(t, prefix, name, redisbus.Options{Node: "b", Poll: time.Hour,
		Latest: func(context.Context) (int64, error) { return latest.Load(), nil }})
	ids, stop := b.Subscribe()
	defer stop()

	// The log grows while nothing is published (as when the publish happened while b was
	// disconnected and was lost for it).
	latest.Store(42)
	killed := killClients(t, name)
	if killed == 0 {
		t.Fatalf("no Redis connection named %s to kill", name)
	}
	bustest.Await(t, ids, 42)
	waitReady(t, b)

	// And pub/sub works again after the reconnect.
	a := startBus(t, prefix, name+"-a", redisbus.Options{Node: "a"})
	latest.Store(43)
	_ = a.Publish(context.Background(), 43)
	bustest.Await(t, ids, 43)
}

// killClients kills this test's own Redis connections (by their unique client name) and
// returns how many it killed. It never touches anyone else's connections.
func killClients(t *testing.T, name string) int {
	t.Helper()
	opt, _ := redis.ParseURL(testenv.RedisURL(t))
	c := redis.NewClient(opt)
	defer c.Close()
	ctx := context.Background()
	list, err := c.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(list, "\n") {
		var id, cname string
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "id="); ok {
				id = v
			}
			if v, ok := strings.CutPrefix(f, "name="); ok {
				cname = v
			}
		}
		if cname == name && id != "" {
			if err := c.Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	return n
}

func redisbusOptions(node string) redisbus.Options { return redisbus.Options{Node: node} }

// A Redis that hangs (the connection stays open, nothing answers) is noticed by the
// unanswered ping: the bus says it is degraded, and when Redis answers again it
// subscribes again and catches up from the log.
func TestRedisBusNoticesAHungRedisAndRecovers(t *testing.T) {
	rds := testenv.StartPrivateRedis(t)
	var latest atomic.Int64
	b, err := redisbus.Open(context.Background(), rds.URL, 3*time.Second, redisbus.Options{Prefix: testenv.Prefix(t),
		HealthCheck: 100 * time.Millisecond, Poll: time.Hour,
		Latest: func(context.Context) (int64, error) { return latest.Load(), nil }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = b.Run(ctx) }()
	t.Cleanup(func() { rds.Resume(); cancel(); <-done; b.Close() })
	waitReady(t, b)
	ids, stop := b.Subscribe()
	defer stop()

	rds.Pause()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rctx, rcancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := b.Ready(rctx)
		rcancel()
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the bus still says ready with Redis hung")
		}
		time.Sleep(20 * time.Millisecond)
	}
	latest.Store(77) // the log grew meanwhile; nothing was published
	rds.Resume()
	bustest.Await(t, ids, 77)
	waitReady(t, b)
}
