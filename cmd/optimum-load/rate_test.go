package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

type rateJSON struct {
	Clients, Declares, Deliveries, Missing int
	Warmup                                 int
	PublishErrors                          int                `json:"publish_errors"`
	Lost                                   int                `json:"connections_lost"`
	PerSec                                 float64            `json:"deliveries_per_s"`
	Last                                   map[string]float64 `json:"last_ms"`
}

func runRate(t *testing.T, base, token string) rateJSON {
	t.Helper()
	var out, errOut bytes.Buffer
	args := []string{"-url", base, "-token", token, "-clients", "20", "-rate", "20", "-declares", "6", "-warmup", "1", "-json"}
	if err := run(context.Background(), args, noenv, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	var rep rateJSON
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v in %s", err, out.String())
	}
	return rep
}

// With -rate, declarations go out on a clock; every one after the warm-up is counted on
// every connection, with deliveries per second and publish errors.
func TestLoadAtAFixedRate(t *testing.T) {
	base, token := startServer(t)
	rep := runRate(t, base, token)
	if rep.Clients != 20 || rep.Declares != 6 || rep.Warmup != 1 || rep.Deliveries != 100 || rep.Missing != 0 || rep.Lost != 0 || rep.PublishErrors != 0 {
		t.Errorf("got %+v; want 20 clients, 6 declares, 1 of warm-up, 100 deliveries, none missing, lost or refused", rep)
	}
	if !(rep.PerSec > 0 && rep.Last["p50"] > 0 && rep.Last["p50"] <= rep.Last["max"]) {
		t.Errorf("inconsistent figures: %+v", rep)
	}
}

// The reference hub speaks the same two routes, so the same run measures it.
func TestBareHubIsLoadedLikeTheServer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var (
		out  syncBuffer
		wg   sync.WaitGroup
		hErr error
	)
	wg.Go(func() { hErr = run(ctx, []string{"bare-hub", "-addr", "127.0.0.1:0"}, noenv, &out, &bytes.Buffer{}) })
	defer func() {
		cancel()
		wg.Wait()
		if hErr != nil {
			t.Errorf("bare hub: %v", hErr)
		}
	}()
	addr := regexp.MustCompile(`listening on (http://\S+)`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == ""; time.Sleep(10 * time.Millisecond) {
		if m := addr.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no listening line: %q", out.String())
		}
	}
	rep := runRate(t, base, "unused")
	if rep.Deliveries != 100 || rep.Missing != 0 || rep.PublishErrors != 0 {
		t.Errorf("got %+v; want 100 deliveries, none missing or refused", rep)
	}
	if err := run(ctx, []string{"bare-hub", "-addr", "192.0.2.1:80"}, noenv, &bytes.Buffer{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("a bare hub on a non-loopback address: %v", err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
