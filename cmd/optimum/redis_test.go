package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
	"github.com/optimum-bcp/optimum/internal/testenv"
	"github.com/redis/go-redis/v9"
)

func TestServeFailsAtStartWithOneClearLineWhenRedisIsWrongOrUnreachable(t *testing.T) {
	for _, tt := range []struct{ url, want string }{
		{"redis://127.0.0.1:1/0", "does not answer"},
		{"redis://127.0.0.1:6379/0?dial_timout=1s", "dial_timout"},
		{"redis://:hunter2@127.0.0.1:1/0", "does not answer"},
	} {
		env := map[string]string{"OPTIMUM_CONFIG": "../../configs/optimum.example.yaml", "OPTIMUM_DATA": t.TempDir(),
			"OPTIMUM_ADDR": "127.0.0.1:0", "OPTIMUM_REDIS_URL": tt.url}
		err := run(context.Background(), nil, func(k string) string { return env[k] }, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil {
			t.Errorf("%s: the server started", tt.url)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") || strings.Contains(msg, "hunter2") {
			t.Errorf("%s: error %q, want one line with %q and no password", tt.url, msg, tt.want)
		}
	}
	// A URL that is not Redis's is caught with the rest of the configuration.
	env := map[string]string{"OPTIMUM_CONFIG": "../../configs/optimum.example.yaml", "OPTIMUM_REDIS_URL": "http://127.0.0.1:6379"}
	if err := run(context.Background(), nil, func(k string) string { return env[k] }, &bytes.Buffer{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "redis.url") {
		t.Errorf("http:// Redis URL: err = %v", err)
	}
}

type readiness struct {
	Status   string
	Degraded []string
	Checks   map[string]string
}

func getReady(t *testing.T, base string) (int, readiness) {
	t.Helper()
	res, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var r readiness
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		t.Fatalf("readyz body: %v", err)
	}
	return res.StatusCode, r
}

// awaitReady polls /readyz until it answers want (a liveness bound, not a speed check).
func awaitReady(t *testing.T, base string, want int) readiness {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, r := getReady(t, base)
		if code == want {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz stayed %d %+v, want %d", code, r, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A node whose Redis dies keeps serving its own live boards and says so on /readyz; when
// Redis is back, the node is ready again and publishes to the other nodes again, with no
// restart. The Redis here is the test's own, which it may kill; the shared one is never
// touched.
func TestNodeKeepsServingItsClientsWhileRedisIsDownAndRecoversWithoutRestart(t *testing.T) {
	rds := testenv.StartPrivateRedis(t)
	prefix := testenv.Prefix(t)
	const token = "redis-down-admin-token-0123456789"
	base, logs := startServer(t, map[string]string{"OPTIMUM_BOOTSTRAP_TOKEN": token, "OPTIMUM_REDIS_URL": rds.URL, "OPTIMUM_REDIS_PREFIX": prefix})
	if !strings.Contains(logs.String(), "fanout=\"redis (single)\"") {
		t.Errorf("start-up line does not name the Redis fan-out:\n%s", logs)
	}
	if r := awaitReady(t, base, 200); r.Checks["redis"] != "ok" || r.Checks["database"] != "ok" {
		t.Fatalf("ready body %+v", r)
	}
	board := dialStream(t, base, token)

	rds.Stop()
	r := awaitReady(t, base, 503)
	if r.Status != "degraded" || len(r.Degraded) != 1 || r.Degraded[0] != "redis" || r.Checks["database"] != "ok" {
		t.Fatalf("degraded body %+v, want only redis degraded", r)
	}
	// Redis is down: declaring still works and this node's board still gets it.
	inc := declare(t, base, token, "Corte de energía en el centro de datos")
	awaitEvent(t, board, "incident.declared", inc)

	rds.Start()
	awaitReady(t, base, 200)
	// The node publishes to the other nodes again: a subscriber on Redis hears the next
	// declare.
	opt, _ := redis.ParseURL(rds.URL)
	c := redis.NewClient(opt)
	defer c.Close()
	ps := c.Subscribe(context.Background(), prefix+"events")
	defer ps.Close()
	if _, err := ps.Receive(context.Background()); err != nil {
		t.Fatal(err)
	}
	inc2 := declare(t, base, token, "Inundación en el sótano")
	awaitEvent(t, board, "incident.declared", inc2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := ps.ReceiveMessage(ctx); err != nil {
		t.Fatalf("no publish reached Redis after it came back: %v", err)
	}
}

func dialStream(t *testing.T, base, token string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(base, "http", "ws", 1)+"/api/v1/stream?token="+token, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, data, err := ws.ReadMessage(); err != nil || !bytes.Contains(data, []byte("stream.ready")) {
		t.Fatalf("stream.ready: %s %v", data, err)
	}
	return ws
}

// declare declares an incident and returns its id.
func declare(t *testing.T, base, token, title string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"title": title, "impact": "critical", "urgency": "high"})
	status, data := (client{t, base, token}).do("POST", "/api/v1/incidents", "application/json", string(body))
	var inc struct{ ID string }
	if json.Unmarshal(data, &inc); status != 201 || inc.ID == "" {
		t.Fatalf("declare = %d %s", status, data)
	}
	return inc.ID
}

// awaitEvent reads the stream until an event of type typ about incident id arrives.
func awaitEvent(t *testing.T, ws *websocket.Conn, typ, id string) {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for %s of %s: %v", typ, id, err)
		}
		var ev struct {
			Type     string
			Incident struct{ ID string }
		}
		json.Unmarshal(data, &ev)
		if ev.Type == typ && ev.Incident.ID == id {
			return
		}
	}
}

// Two nodes on one database and the test's own Redis: while Redis is down, what is
// declared on A still reaches B's board (B polls the log), and after Redis restarts
// pub/sub carries it again; B's board sees every event once, in order.
func TestRedisRestartLosesNothingAndDuplicatesNothingAcrossNodes(t *testing.T) {
	rds := testenv.StartPrivateRedis(t)
	dbURL := storetest.PostgresURL(t)
	const token = "redis-restart-admin-token-0123456789"
	env := map[string]string{"OPTIMUM_BOOTSTRAP_TOKEN": token, "OPTIMUM_REDIS_URL": rds.URL,
		"OPTIMUM_REDIS_PREFIX": testenv.Prefix(t), "OPTIMUM_DATABASE_URL": dbURL}
	a, _ := startServer(t, env)
	b, _ := startServer(t, env)
	awaitReady(t, a, 200)
	awaitReady(t, b, 200)
	board := dialStream(t, b, token)
	var seen []int64
	ids := map[string]bool{}

	read := func(want string) {
		t.Helper()
		board.SetReadDeadline(time.Now().Add(15 * time.Second))
		for {
			_, data, err := board.ReadMessage()
			if err != nil {
				t.Fatalf("waiting for %s on B: %v", want, err)
			}
			var ev struct {
				ID       int64
				Type     string
				Incident struct{ ID string }
			}
			json.Unmarshal(data, &ev)
			if strings.HasPrefix(ev.Type, "stream.") { // heartbeats: not events
				continue
			}
			seen = append(seen, ev.ID)
			if ev.Type == "incident.declared" {
				ids[ev.Incident.ID] = true
			}
			if ev.Incident.ID == want && ev.Type == "incident.declared" {
				return
			}
		}
	}
	read(declare(t, a, token, "Antes de la caída de Redis"))
	rds.Stop()
	awaitReady(t, a, 503)
	read(declare(t, a, token, "Durante la caída de Redis"))
	rds.Start()
	awaitReady(t, a, 200)
	awaitReady(t, b, 200)
	read(declare(t, a, token, "Después de la caída de Redis"))
	for i := 1; i < len(seen); i++ {
		if seen[i] <= seen[i-1] {
			t.Fatalf("B's board got ids %v: a duplicate or out of order", seen)
		}
	}
	if len(ids) != 3 {
		t.Errorf("B's board saw %d declarations, want 3", len(ids))
	}
}
