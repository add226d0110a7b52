package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/optimum-bcp/optimum/internal/loadgen"
)

// bareHub is the reference the whole server is measured against: the plainest
// gorilla/websocket broadcast that speaks the two routes optimum-load uses. A connection
// to GET /api/v1/stream gets {"type":"stream.ready"} and then one goroutine that writes
// every prepared frame offered to its channel; POST /api/v1/incidents answers 201 and
// offers every connection one incident.declared frame carrying the posted title, padded
// to the size of OPTIMUM's own incident.declared frame. No store, no auth, no replay, no
// pings: the floor.
type bareHub struct {
	frameBytes int
	up         websocket.Upgrader
	mu         sync.Mutex
	conns      []chan *websocket.PreparedMessage
	seq        atomic.Int64
}

func (b *bareHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/stream":
		b.stream(w, r)
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/incidents":
		b.declare(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (b *bareHub) stream(w http.ResponseWriter, r *http.Request) {
	conn, err := b.up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"stream.ready","id":0}`)); err != nil {
		conn.Close()
		return
	}
	ch := make(chan *websocket.PreparedMessage, 256)
	b.mu.Lock()
	b.conns = append(b.conns, ch)
	b.mu.Unlock()
	go func() {
		defer conn.Close()
		for pm := range ch {
			conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := conn.WritePreparedMessage(pm); err != nil {
				return
			}
		}
	}()
}

func (b *bareHub) declare(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Title string `json:"title"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil {
		http.Error(w, "bad JSON", http.StatusBadRequest)
		return
	}
	n := b.seq.Add(1)
	id := fmt.Sprintf("bare_%d", n)
	frame := map[string]any{"id": n, "type": "incident.declared", "at": time.Now().UTC(),
		"incident": map[string]any{"id": id, "title": in.Title, "pad": ""}}
	data, _ := json.Marshal(frame)
	if pad := b.frameBytes - len(data); pad > 0 {
		frame["incident"].(map[string]any)["pad"] = strings.Repeat("x", pad)
		data, _ = json.Marshal(frame)
	}
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	b.mu.Lock()
	conns := b.conns
	b.mu.Unlock()
	for _, ch := range conns {
		select {
		case ch <- pm:
		default: // too slow: skipped, as a real hub would drop it
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"id":%q}`, id)
}

// runBareHub serves the reference hub until ctx ends: optimum-load bare-hub -addr ….
func runBareHub(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("optimum-load bare-hub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:18090", "loopback address to listen on")
	frameBytes := fs.Int("frame-bytes", 1150, "size of the incident.declared frame (OPTIMUM's is about 1.1 KB)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: optimum-load bare-hub [-addr 127.0.0.1:18090] [-frame-bytes 1150]")
		fmt.Fprintln(stderr, "Serves the reference broadcast (GET /api/v1/stream, POST /api/v1/incidents) that a run of")
		fmt.Fprintln(stderr, "optimum-load -url http://ADDR is compared with. Pin it to the server's core (taskset -c 1).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	if err := loadgen.CheckLoopback(host); err != nil {
		return err
	}
	if *frameBytes < 100 || *frameBytes > 1<<20 {
		return errors.New("-frame-bytes must be between 100 and 1048576")
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: &bareHub{frameBytes: *frameBytes}, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "bare hub listening on http://%s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
