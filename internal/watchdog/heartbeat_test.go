package watchdog_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/internal/watchdog"
)

// The heartbeat calls the URL with the method on every interval; an answer other than
// 2xx, or none within the timeout, is counted as a failure and logged without the URL's
// secret query.
func TestHeartbeatCallsTheURLAndCountsFailures(t *testing.T) {
	var (
		mu      sync.Mutex
		calls   []string
		failing bool
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls = append(calls, r.Method+" "+r.URL.Path)
		fail := failing
		mu.Unlock()
		if fail {
			http.Error(w, "down", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	var results []bool
	logs := &syncBuffer{}
	hb := watchdog.Heartbeat{URL: srv.URL + "/ping/abc?token=s3cret", Method: "post", Interval: 10 * time.Millisecond, Timeout: time.Second,
		Observe: func(ok bool) { mu.Lock(); results = append(results, ok); mu.Unlock() },
		Logger:  slog.New(slog.NewTextHandler(logs, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); hb.Run(ctx) }()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			ok := cond()
			mu.Unlock()
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor("three beats", func() bool { return len(results) >= 3 })
	mu.Lock()
	for _, c := range calls {
		if c != "POST /ping/abc" {
			t.Errorf("call = %q, want POST /ping/abc", c)
		}
	}
	for _, ok := range results {
		if !ok {
			t.Errorf("a beat answered 200 was counted as failed: %v", results)
		}
	}
	failing = true
	n := len(results)
	mu.Unlock()
	waitFor("a failed beat", func() bool { return len(results) > n+1 && !results[len(results)-1] })
	cancel()
	<-done
	if logs.count("heartbeat: the outside monitor was not told") == 0 {
		t.Errorf("no error line for the failed beat: %s", logs.buf.String())
	}
	if strings.Contains(logs.buf.String(), "s3cret") {
		t.Errorf("the log shows the URL's token: %s", logs.buf.String())
	}
}

// A monitor that does not answer within the timeout is a failed beat, not a stuck node.
func TestHeartbeatGivesUpAfterItsTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	err := watchdog.Heartbeat{URL: srv.URL, Timeout: 20 * time.Millisecond}.Beat(context.Background())
	if err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("beat to a silent monitor = %v, want a deadline error", err)
	}
	if strings.Contains(err.Error(), srv.URL) {
		t.Errorf("error names the URL: %v", err)
	}
}
