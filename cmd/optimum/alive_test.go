package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// exampleConfigWith writes the example configuration with each old string replaced by
// the new one that follows it, and returns its path.
func exampleConfigWith(t *testing.T, oldNew ...string) string {
	t.Helper()
	example, err := os.ReadFile("../../configs/optimum.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(example)
	for i := 0; i+1 < len(oldNew); i += 2 {
		if !strings.Contains(cfg, oldNew[i]) {
			t.Fatalf("the example configuration has no %q", oldNew[i])
		}
		cfg = strings.Replace(cfg, oldNew[i], oldNew[i+1], 1)
	}
	path := filepath.Join(t.TempDir(), "optimum.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The running server calls the configured heartbeat URL on its interval, and counts the
// calls in its metrics.
func TestServerCallsTheHeartbeatURL(t *testing.T) {
	var beats atomic.Int64
	monitor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/ping/node-1" {
			beats.Add(1)
		}
	}))
	defer monitor.Close()
	const token = "heartbeat-admin-token-0123456789"
	base, _ := startServer(t, map[string]string{"OPTIMUM_BOOTSTRAP_TOKEN": token, "OPTIMUM_CONFIG": exampleConfigWith(t,
		"heartbeat:\n  url: \"\"\n  method: GET\n  interval: 1m\n  timeout: 10s\n",
		"heartbeat:\n  url: \""+monitor.URL+"/ping/node-1\"\n  method: POST\n  interval: 1s\n  timeout: 1s\n")})
	eventually(t, "three heartbeats", func() bool { return beats.Load() >= 3 })
	api := client{t, base, token}
	_, metrics := api.do("GET", "/metrics", "", "")
	if !bytes.Contains(metrics, []byte(`optimum_heartbeat_total{result="ok"}`)) || bytes.Contains(metrics, []byte(`optimum_heartbeat_total{result="ok"} 0`)) {
		t.Errorf("metrics do not count the beats:\n%s", grepLines(metrics, "heartbeat"))
	}
}

// A canary naming nobody, a bad cron spec and a heartbeat URL that is not one stop the
// start with every problem listed, before the database is touched.
func TestBadAliveSettingsStopTheStart(t *testing.T) {
	data := t.TempDir()
	cfg := exampleConfigWith(t,
		"canary:\n  schedule: \"\"", "canary:\n  schedule: \"tomorrow at nine\"",
		"heartbeat:\n  url: \"\"", "heartbeat:\n  url: \"not a url\"")
	vars := map[string]string{"OPTIMUM_ADDR": "127.0.0.1:0", "OPTIMUM_DATA": data, "OPTIMUM_CONFIG": cfg}
	err := run(context.Background(), nil, func(k string) string { return vars[k] }, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil {
		t.Fatal("the server started")
	}
	for _, want := range []string{"canary.schedule", "canary: names nobody", "heartbeat.url"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if entries, _ := os.ReadDir(data); len(entries) != 0 {
		t.Errorf("the data folder was written: %v", entries)
	}
}
