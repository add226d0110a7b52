// Package testenv finds the services tests run against (the machine's Redis and
// PostgreSQL) and gives each test names of its own, because several people run tests on
// one machine at the same time.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
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

// PrivateRedis is a redis-server of the test's own, on a free loopback port, that the
// test may stop and start again (the machine's shared Redis must never be stopped).
type PrivateRedis struct {
	URL  string
	tb   testing.TB
	port string
	dir  string
	cmd  *exec.Cmd
}

// StartPrivateRedis starts a redis-server on a free loopback port; it is stopped when the
// test ends. The test fails if CI is set and redis-server is missing, else it is skipped.
func StartPrivateRedis(tb testing.TB) *PrivateRedis {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatal("redis-server is not installed and CI is set")
		}
		tb.Skip("redis-server is not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	r := &PrivateRedis{URL: "redis://127.0.0.1:" + port + "/0", tb: tb, port: port, dir: tb.TempDir()}
	r.Start()
	tb.Cleanup(r.Stop)
	return r
}

// Start starts the server (again) on its port and waits until it answers.
func (r *PrivateRedis) Start() {
	r.tb.Helper()
	r.cmd = exec.Command("redis-server", "--port", r.port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", r.dir)
	if err := r.cmd.Start(); err != nil {
		r.tb.Fatalf("start redis-server: %v", err)
	}
	opt, _ := redis.ParseURL(r.URL)
	c := redis.NewClient(opt)
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			r.tb.Fatalf("private redis-server on port %s never answered", r.port)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server (as a crash would) and waits for it to exit.
func (r *PrivateRedis) Stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	r.cmd.Process.Kill() // SIGKILL ends a stopped process too
	r.cmd.Wait()
	r.cmd = nil
}

// Pause freezes the server (SIGSTOP): connections stay open and nothing answers, as with
// a hung server or a silently broken network path.
func (r *PrivateRedis) Pause() { r.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume undoes Pause.
func (r *PrivateRedis) Resume() { r.cmd.Process.Signal(syscall.SIGCONT) }
