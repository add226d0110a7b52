package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/ws"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/auth"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/httpapi"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/static"
)

// startServer runs the real API (store, auth, incidents, hub) on loopback and returns its
// URL and a reporter token.
func startServer(t *testing.T) (string, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "optimum.db"))
	if err != nil {
		t.Fatal(err)
	}
	bus := broadcast.NewLocalBus()
	db.SetNotifier(func(id int64) { _ = bus.Publish(context.Background(), id) })
	cfg := config.Default()
	authn := auth.NewService(db.Auth(), nil)
	_, token, err := authn.CreateToken(ctx, "load test", optimum.RoleReporter)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	srv := &httpapi.Server{
		Config:    cfg,
		Incidents: incident.NewService(db.Incidents(), policy(cfg), nil, nil),
		Auth:      authn,
		Ready:     db.Ping,
		Static:    static.Files,
		Logger:    log,
	}
	srv.Hub = ws.New(db, bus, ws.Options{Logger: log, CheckOrigin: srv.CheckOrigin})
	done := make(chan struct{})
	go func() { defer close(done); srv.Hub.Run(ctx) }()
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		cancel()
		<-done
		db.Close()
	})
	return ts.URL, token
}

func policy(cfg config.Config) incident.Policy {
	p := incident.Policy{Matrix: map[incident.Level]map[incident.Level]incident.Priority{}, Ack: map[incident.Priority]time.Duration{}, Resolve: map[incident.Priority]time.Duration{}, Teams: cfg.TeamIDs(), DefaultTeams: cfg.Incident.DefaultTeams, Location: cfg.Location()}
	for i, row := range cfg.Incident.Matrix {
		p.Matrix[incident.Level(i)] = map[incident.Level]incident.Priority{}
		for u, pr := range row {
			p.Matrix[incident.Level(i)][incident.Level(u)] = incident.Priority(pr)
		}
	}
	for pr, s := range cfg.Incident.SLA {
		p.Ack[incident.Priority(pr)], p.Resolve[incident.Priority(pr)] = time.Duration(s.Acknowledge), time.Duration(s.Resolve)
	}
	return p
}

func noenv(string) string { return "" }

func TestLoadDeclaresAndTimesTheDeliveryToEveryConnection(t *testing.T) {
	base, token := startServer(t)
	var out, errOut bytes.Buffer
	args := []string{"-url", base, "-token", token, "-clients", "25", "-declares", "3", "-interval", "0", "-json", "-server-pid", strconv.Itoa(os.Getpid())}
	if err := run(context.Background(), args, noenv, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	var rep struct {
		Clients, Declares, Deliveries, Missing int
		Lost                                   int                `json:"connections_lost"`
		Last                                   map[string]float64 `json:"last_ms"`
		PerClient                              map[string]float64 `json:"per_client_ms"`
		Server                                 *struct{ PID int } `json:"server"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v in %s", err, out.String())
	}
	if rep.Clients != 25 || rep.Declares != 3 || rep.Deliveries != 75 || rep.Missing != 0 || rep.Lost != 0 {
		t.Errorf("got clients %d declares %d deliveries %d missing %d lost %d; want 25, 3, 75, 0, 0",
			rep.Clients, rep.Declares, rep.Deliveries, rep.Missing, rep.Lost)
	}
	if !(rep.Last["p50"] > 0 && rep.Last["p50"] <= rep.Last["max"] && rep.PerClient["max"] <= rep.Last["max"]) {
		t.Errorf("inconsistent latencies: last %v, per client %v", rep.Last, rep.PerClient)
	}
	if rep.Server == nil || rep.Server.PID != os.Getpid() {
		t.Errorf("server figures missing: %s", out.String())
	}
}

func TestLoadPrintsAReadableReport(t *testing.T) {
	base, token := startServer(t)
	var out bytes.Buffer
	env := func(k string) string {
		if k == "OPTIMUM_TOKEN" {
			return token
		}
		return ""
	}
	if err := run(context.Background(), []string{"-url", base, "-clients", "3", "-declares", "2", "-interval", "1ms"}, env, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"3 connections to " + base + "/api/v1/stream", "declare → last connection has it:", "missing deliveries 0, connections lost 0"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestLoadRefusesABadTokenWithoutShowingIt(t *testing.T) {
	base, _ := startServer(t)
	err := run(context.Background(), []string{"-url", base, "-token", "obcp_wrong-secret", "-clients", "2", "-declares", "1"}, noenv, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("got %v, want a 401 error that does not show the token", err)
	}
}

func TestFlagsRefuseOtherMachinesAndBadNumbers(t *testing.T) {
	for _, args := range [][]string{
		{"-url", "http://example.com", "-token", "x"},
		{"-url", "http://192.168.1.10:8080", "-token", "x"},
		{"-url", "ws://127.0.0.1:8080", "-token", "x"},
		{"-url", "http://127.0.0.1:8080"},
		{"-token", "x", "-clients", "0"},
		{"-token", "x", "-declares", "-1"},
		{"-token", "x", "extra"},
	} {
		if err := run(context.Background(), args, noenv, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("run(%q) did not fail", args)
		}
	}
}

// fakeServer is a stream and a declare endpoint that refuses the first declaration with
// 429, as a rate-limited server does.
func fakeServer(t *testing.T) string {
	t.Helper()
	var (
		mu      sync.Mutex
		streams []*websocket.Conn
		calls   int
	)
	up := websocket.Upgrader{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/stream", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		streams = append(streams, c)
		c.WriteMessage(websocket.TextMessage, []byte(`{"type":"stream.ready","id":0}`))
	})
	mux.HandleFunc("POST /api/v1/incidents", func(w http.ResponseWriter, r *http.Request) {
		var d struct{ Title string }
		json.NewDecoder(r.Body).Decode(&d)
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"code":"rate_limited"}`, http.StatusTooManyRequests)
			return
		}
		id := fmt.Sprintf("inc_%d", calls)
		frame, _ := json.Marshal(map[string]any{"type": "incident.declared", "incident": map[string]string{"id": id, "title": d.Title}})
		for _, c := range streams {
			c.WriteMessage(websocket.TextMessage, frame)
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%q}`, id)
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		mu.Lock()
		for _, c := range streams {
			c.Close()
		}
		mu.Unlock()
		ts.Close()
	})
	return ts.URL
}

func TestLoadWaitsOutARateLimitAndLeavesTheWaitOutOfTheTimes(t *testing.T) {
	base := fakeServer(t)
	var out bytes.Buffer
	args := []string{"-url", base, "-token", "x", "-clients", "4", "-declares", "2", "-interval", "0", "-json"}
	if err := run(context.Background(), args, noenv, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Deliveries, Missing int
		RateLimited         int                `json:"rate_limited"`
		Wait                float64            `json:"rate_limit_wait_ms"`
		Last                map[string]float64 `json:"last_ms"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Deliveries != 8 || rep.Missing != 0 || rep.RateLimited != 1 || rep.Wait != 1000 {
		t.Errorf("got deliveries %d missing %d rate limited %d wait %v ms; want 8, 0, 1, 1000", rep.Deliveries, rep.Missing, rep.RateLimited, rep.Wait)
	}
	if rep.Last["max"] >= 1000 {
		t.Errorf("the rate limit wait counted in the latency: max %v ms", rep.Last["max"])
	}
}
