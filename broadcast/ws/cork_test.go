package ws_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/ws"
)

// countingListener counts the writes made to the connections it accepts: each is one
// write syscall to the socket.
type countingListener struct {
	net.Listener
	writes atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: &l.writes}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.n.Add(1)
	return c.Conn.Write(p)
}

// appendBurst appends n events to the log at once (as one transaction does) and only then
// signals the bus.
func (l *memLog) appendBurst(n int, data []byte) {
	l.mu.Lock()
	id := int64(len(l.events))
	for range n {
		id++
		l.events = append(l.events, optimum.Event{ID: id, Type: "test.burst", At: time.Now(), Data: data})
	}
	l.mu.Unlock()
	l.bus.Publish(context.Background(), id)
}

// Events appended together reach a client in one write to its socket, and still one
// event per websocket frame (the contract for clients that ask for nothing else).
func TestABurstReachesAClientInOneWrite(t *testing.T) {
	bus := broadcast.NewLocalBus()
	log := &memLog{bus: bus}
	hub := ws.New(log, bus, ws.Options{Heartbeat: time.Hour, PingPeriod: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go hub.Run(ctx)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: ln}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hub.Serve(w, r, optimum.Actor{ID: "t"}, 0, false)
	}))
	srv.Listener = cl
	srv.Start()
	defer srv.Close()
	c := dial(t, "ws"+strings.TrimPrefix(srv.URL, "http"))
	if f := read(t, c); f.Type != "stream.ready" {
		t.Fatalf("first frame %+v", f)
	}
	data, _ := json.Marshal(strings.Repeat("x", 1000))
	for round := 1; round <= 3; round++ {
		before := cl.writes.Load()
		log.appendBurst(3, data)
		for k := int64(1); k <= 3; k++ {
			if f := read(t, c); f.ID != int64(round-1)*3+k || f.Type != "test.burst" {
				t.Fatalf("round %d: frame %+v, want event %d alone in its frame", round, f, int64(round-1)*3+k)
			}
		}
		if got := cl.writes.Load() - before; got != 1 {
			t.Errorf("round %d: 3 events took %d writes to the socket, want 1", round, got)
		}
	}
}

// Events appended one after another, each with its own bus signal, within Coalesce of the
// first, also reach a client in one write.
func TestEventsAppendedWithinTheCoalesceWindowShareOneWrite(t *testing.T) {
	bus := broadcast.NewLocalBus()
	log := &memLog{bus: bus}
	hub := ws.New(log, bus, ws.Options{Heartbeat: time.Hour, PingPeriod: time.Hour, Coalesce: 300 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go hub.Run(ctx)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: ln}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hub.Serve(w, r, optimum.Actor{ID: "t"}, 0, false)
	}))
	srv.Listener = cl
	srv.Start()
	defer srv.Close()
	c := dial(t, "ws"+strings.TrimPrefix(srv.URL, "http"))
	read(t, c)
	before := cl.writes.Load()
	log.append([]byte(`"declared"`))
	log.appendBurst(2, []byte(`"escalated"`))
	for want := int64(1); want <= 3; want++ {
		if f := read(t, c); f.ID != want {
			t.Fatalf("frame %+v, want event %d", f, want)
		}
	}
	if got := cl.writes.Load() - before; got != 1 {
		t.Errorf("3 events appended in 2 signals within the window took %d writes, want 1", got)
	}
}

// A stream authenticated before its token was revoked, but registered after the hub
// broadcast the revocation, is caught by a second authentication; a stream of an actor
// whose access did not change is not authenticated twice.
func TestAStreamRegisteredAfterARevocationChecksItsCredentialsAgain(t *testing.T) {
	bus := broadcast.NewLocalBus()
	log := &memLog{bus: bus}
	access := func(e optimum.Event) (string, optimum.Role, bool) {
		if e.Type == "token.revoked" {
			return strings.Trim(string(e.Data), `"`), "", true
		}
		return "", "", false
	}
	hub := ws.New(log, bus, ws.Options{Access: access})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go hub.Run(ctx)
	var rechecks atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("as")
		hub.ServeStream(w, r, ws.Stream{Actor: optimum.Actor{ID: id, Role: optimum.RoleAdmin},
			Recheck: func(context.Context) (optimum.Role, bool, error) {
				rechecks.Add(1)
				return optimum.RoleAdmin, id != "tok_revoked", nil
			}})
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "?as="
	watcher := dial(t, url+"tok_watcher")
	read(t, watcher)
	if n := rechecks.Load(); n != 0 {
		t.Fatalf("%d second authentications for an actor whose access never changed", n)
	}
	// The revocation is broadcast (the watcher has it) before the revoked token's stream
	// registers, as if its request had been authenticated just before the revocation.
	log.mu.Lock()
	log.events = append(log.events, optimum.Event{ID: 1, Type: "token.revoked", At: time.Now(), Data: []byte(`"tok_revoked"`)})
	log.mu.Unlock()
	bus.Publish(context.Background(), 1)
	if f := read(t, watcher); f.ID != 1 {
		t.Fatalf("watcher got %+v", f)
	}
	late := dial(t, url+"tok_revoked")
	late.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := late.ReadMessage()
		if err == nil {
			continue
		}
		if !websocket.IsCloseError(err, ws.CloseSessionEnded) {
			t.Errorf("the late stream of a revoked token ended with %v, want close %d", err, ws.CloseSessionEnded)
		}
		break
	}
}
