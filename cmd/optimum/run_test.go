package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/optimum-bcp/optimum/internal/httpapi"
	"github.com/optimum-bcp/optimum/internal/httpapi/openapi/openapitest"
)

// logBuffer is an io.Writer safe for the server's goroutines and the test.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var listening = regexp.MustCompile(`listening on (http://[^ "]+)`)

// startServer runs the program as main does, on a free loopback port and a temp folder,
// and returns its base URL. The server is stopped (as by SIGTERM) at the end of the test,
// which must then return without error.
func startServer(t *testing.T, env map[string]string) (string, *logBuffer) {
	t.Helper()
	vars := map[string]string{"OPTIMUM_ADDR": "127.0.0.1:0", "OPTIMUM_DATA": t.TempDir(), "OPTIMUM_CONFIG": "../../configs/optimum.example.yaml"}
	for k, v := range env {
		vars[k] = v
	}
	// Every request to a route, and its answer, is checked against the OpenAPI description.
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), wrapHandlerKey{}, func(s *httpapi.Server, h http.Handler) http.Handler {
		var patterns []string
		for _, rt := range s.Routes() {
			patterns = append(patterns, rt.Pattern)
		}
		return openapitest.Handler(t, patterns, h)
	}))
	logs := &logBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return vars[k] }, &bytes.Buffer{}, logs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run returned %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("run did not return after cancel")
		}
	})
	// 30 s: under the race detector, on two cores shared with other packages' tests, a
	// start (87 migrations, each commit synced) has taken 10 s.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := listening.FindStringSubmatch(logs.String()); m != nil {
			return m[1], logs
		}
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v\n%s", err, logs)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("no listening line:\n%s", logs)
	return "", nil
}

func TestServeEndToEnd(t *testing.T) {
	const token = "e2e-admin-token-0123456789"
	base, _ := startServer(t, map[string]string{"OPTIMUM_BOOTSTRAP_TOKEN": token})

	ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(base, "http", "ws", 1)+"/api/v1/stream?token="+token, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if _, data, err := ws.ReadMessage(); err != nil || !bytes.Contains(data, []byte("stream.ready")) {
		t.Fatalf("ready: %s %v", data, err)
	}
	body := `{"title":"Sismo: evacuación del edificio","impact":"critical","urgency":"critical","location":"Madrid"}`
	req, _ := http.NewRequest("POST", base+"/api/v1/incidents", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var inc struct{ ID, Folio, Priority string }
	json.NewDecoder(res.Body).Decode(&inc)
	res.Body.Close()
	if res.StatusCode != 201 || inc.Priority != "P1" {
		t.Fatalf("declare = %d %+v", res.StatusCode, inc)
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		ID       int64
		Type     string
		Incident struct{ Folio string }
	}
	json.Unmarshal(data, &ev)
	if ev.Type != "incident.declared" || ev.Incident.Folio != inc.Folio {
		t.Errorf("event = %s", data)
	}
	addr := strings.TrimPrefix(base, "http://")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"healthcheck"}, func(k string) string {
		return map[string]string{"OPTIMUM_ADDR": addr}[k]
	}, &out, &out); err != nil || out.String() != "ok\n" {
		t.Errorf("healthcheck = %v %q", err, out.String())
	}
	for _, path := range []string{"/healthz", "/readyz", "/"} {
		res, err := http.Get(base + path)
		if err != nil || res.StatusCode != 200 {
			t.Errorf("GET %s = %v %v", path, res.StatusCode, err)
		}
		res.Body.Close()
	}
}

// Without OPTIMUM_BOOTSTRAP_TOKEN, the first start prints a one-time login link; a later
// start on the same data does not.
func TestFirstStartPrintsLoginLinkOnce(t *testing.T) {
	data := t.TempDir()
	t.Run("first", func(t *testing.T) {
		_, logs := startServer(t, map[string]string{"OPTIMUM_DATA": data})
		if !strings.Contains(logs.String(), "/login/") {
			t.Errorf("no login link in:\n%s", logs)
		}
	})
	t.Run("second", func(t *testing.T) {
		_, logs := startServer(t, map[string]string{"OPTIMUM_DATA": data})
		if strings.Contains(logs.String(), "/login/") {
			t.Errorf("login link printed again:\n%s", logs)
		}
	})
}

func TestBadConfigurationFailsClearly(t *testing.T) {
	err := run(context.Background(), nil, func(k string) string {
		return map[string]string{"OPTIMUM_CONFIG": "../../configs/optimum.example.yaml", "OPTIMUM_DATABASE_URL": "mysql://x", "OPTIMUM_TIME_ZONE": "Nowhere/Land"}[k]
	}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "database.url") || !strings.Contains(err.Error(), "time_zone") {
		t.Fatalf("err = %v, want both problems listed", err)
	}
}

func TestSubcommands(t *testing.T) {
	data := t.TempDir()
	getenv := func(k string) string {
		return map[string]string{"OPTIMUM_DATA": data, "OPTIMUM_CONFIG": "../../configs/optimum.example.yaml"}[k]
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate"}, getenv, &out, &out); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"token", "create", "-name", "ops", "-role", "manager"}, getenv, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "obcp_") {
		t.Errorf("token output = %q", out.String())
	}
	if err := run(context.Background(), []string{"token", "create", "-name", "x", "-role", "king"}, getenv, &out, &out); err == nil {
		t.Error("want an error for an unknown role")
	}
	if err := run(context.Background(), []string{"frobnicate"}, getenv, &out, &out); err == nil {
		t.Error("want an error for an unknown command")
	}
}
