// Package testenv finds the services tests run against (the machine's Redis and
// PostgreSQL) and gives each test names of its own, because several people run tests on
// one machine at the same time.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisURL is the machine's Redis, used when OPTIMUM_TEST_REDIS_URL is not set.
const DefaultRedisURL = "redis://127.0.0.1:6379/0"

// RedisURL returns the Redis to test against. When it does not answer, the test fails if
// CI is set (CI must never skip) and is skipped otherwise.
func RedisURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("OPTIMUM_TEST_REDIS_URL")
	if u == "" {
		u = DefaultRedisURL
	}
	opt, err := redis.ParseURL(u)
	if err != nil {
		tb.Fatalf("OPTIMUM_TEST_REDIS_URL: %v", err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("Redis at %s does not answer and CI is set: %v", u, err)
		}
		tb.Skipf("Redis at %s does not answer (set CI to make this a failure): %v", u, err)
	}
	return u
}

// Prefix returns a key and channel prefix no other test uses: "t:<test>:<random>:".
func Prefix(tb testing.TB) string {
	b := make([]byte, 4)
	rand.Read(b)
	name := strings.NewReplacer("/", "_", " ", "_").Replace(tb.Name())
	if len(name) > 40 {
		name = name[:40]
	}
	return "t:" + name + ":" + hex.EncodeToString(b) + ":"
}
