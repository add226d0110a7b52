package ws_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/ws"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

type env struct {
	db    *store.DB
	svc   *incident.Service
	hub   *ws.Hub
	srv   *httptest.Server
	wsURL string
}

func start(t *testing.T, opt ws.Options) *env {
	t.Helper()
	db := storetest.Open(t) // SQLite, or PostgreSQL inside storetest.Each
	bus := broadcast.NewLocalBus()
	db.SetNotifier(func(id int64) { bus.Publish(context.Background(), id) })
	hub := ws.New(db, bus, opt)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); hub.Run(ctx) }()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var since int64
		v := r.URL.Query().Get("since")
		if v != "" {
			since, _ = strconv.ParseInt(v, 10, 64)
		}
		hub.Serve(w, r, optimum.Actor{ID: "t"}, since, v != "")
	}))
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
		db.Close()
	})
	return &env{db: db, svc: incident.NewService(db.Incidents(), config.Default().IncidentPolicy(), nil, nil), hub: hub, srv: srv, wsURL: "ws" + strings.TrimPrefix(srv.URL, "http")}
}

func (e *env) declare(t testing.TB, title, description string) {
	t.Helper()
	ctx := optimum.WithActor(context.Background(), optimum.Actor{ID: "tok_a", Name: "A", Role: optimum.RoleAdmin})
	if _, _, err := e.svc.Declare(ctx, incident.Declaration{Title: title, Description: description, Impact: "high", Urgency: "high"}, ""); err != nil {
		t.Error(err)
	}
}

type frame struct {
	ID   int64  `json:"id"`
	Type string `json:"type"`
}

func dial(t testing.TB, url string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func read(t testing.TB, c *websocket.Conn) frame {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("frame %q: %v", data, err)
	}
	return f
}

func TestReadyFrameCarriesTheNewestID(t *testing.T) {
	storetest.Each(t, testReadyFrameCarriesTheNewestID)
}

func testReadyFrameCarriesTheNewestID(t *testing.T) {
	e := start(t, ws.Options{})
	e.declare(t, "one", "")
	e.declare(t, "two", "")
	waitFor(t, func() bool { id, _ := e.db.LastEventID(context.Background()); return id == 2 })
	c := dial(t, e.wsURL)
	if f := read(t, c); f.Type != "stream.ready" {
		t.Fatalf("first frame without since = %+v, want stream.ready", f)
	}
	c2 := dial(t, e.wsURL+"?since=0")
	for want := int64(1); want <= 2; want++ {
		if f := read(t, c2); f.ID != want || f.Type != incident.EventDeclared {
			t.Fatalf("replay frame = %+v, want event %d", f, want)
		}
	}
	if f := read(t, c2); f.Type != "stream.ready" || f.ID != 2 {
		t.Fatalf("after replay = %+v, want stream.ready with id 2", f)
	}
	e.declare(t, "three", "")
	if f := read(t, c); f.ID != 3 {
		t.Errorf("live frame = %+v, want id 3", f)
	}
	if f := read(t, c2); f.ID != 3 {
		t.Errorf("live frame after replay = %+v, want id 3", f)
	}
}

// Clients that resume at any point while events are being appended receive every event
// after their cursor exactly once, in order.
func TestResumeWhileAppendingHasNoGapAndNoDuplicate(t *testing.T) {
	storetest.Each(t, testResumeWhileAppendingHasNoGapAndNoDuplicate)
}

func testResumeWhileAppendingHasNoGapAndNoDuplicate(t *testing.T) {
	e := start(t, ws.Options{ReplayBatch: 7})
	const total = 300
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range total {
			e.declare(t, fmt.Sprint("incident ", i), "")
		}
	})
	type result struct {
		since int64
		ids   []int64
		err   error
	}
	results := make(chan result, 40)
	for k := range 40 {
		wg.Go(func() {
			time.Sleep(time.Duration(k) * 3 * time.Millisecond)
			since := int64(k * 5)
			c, _, err := websocket.DefaultDialer.Dial(fmt.Sprintf("%s?since=%d", e.wsURL, since), nil)
			if err != nil {
				results <- result{err: err}
				return
			}
			defer c.Close()
			r := result{since: since}
			for {
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				_, data, err := c.ReadMessage()
				if err != nil {
					r.err = err
					break
				}
				var f frame
				json.Unmarshal(data, &f)
				if f.Type == "stream.ready" {
					continue
				}
				r.ids = append(r.ids, f.ID)
				if f.ID == total {
					break
				}
			}
			results <- r
		})
	}
	wg.Wait()
	close(results)
	for r := range results {
		if r.err != nil {
			t.Errorf("since %d: %v after %d events", r.since, r.err, len(r.ids))
			continue
		}
		want := r.since + 1
		for _, id := range r.ids {
			if id != want {
				t.Errorf("since %d: got id %d, want %d", r.since, id, want)
				break
			}
			want++
		}
		if want != total+1 {
			t.Errorf("since %d: ended at %d, want %d", r.since, want-1, total)
		}
	}
}

// memLog is an in-memory event log, for tests that need many large events quickly.
type memLog struct {
	mu     sync.Mutex
	events []optimum.Event
	bus    broadcast.Bus
}

func (l *memLog) append(data []byte) {
	l.mu.Lock()
	id := int64(len(l.events) + 1)
	l.events = append(l.events, optimum.Event{ID: id, Type: "test.big", At: time.Now(), Data: data})
	l.mu.Unlock()
	l.bus.Publish(context.Background(), id)
}

func (l *memLog) EventsAfter(_ context.Context, after int64, limit int) ([]optimum.Event, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if after >= int64(len(l.events)) {
		return nil, nil
	}
	out := l.events[after:]
	if len(out) > limit {
		out = out[:limit]
	}
	return append([]optimum.Event(nil), out...), nil
}

func (l *memLog) LastEventID(context.Context) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(len(l.events)), nil
}

// A client that stops reading is disconnected once its queue is full; the others get
// every event, in order.
func TestSlowClientIsDroppedWithoutSlowingOthers(t *testing.T) {
	slowClientIsDroppedWithoutSlowingOthers(t, ws.Options{QueueSize: 16})
}

// With a single turn to write, a client that never reads (its socket full) gives the turn
// up instead of holding it: the other client still gets every event.
func TestAClientThatNeverReadsDoesNotHoldTheWritersTurn(t *testing.T) {
	slowClientIsDroppedWithoutSlowingOthers(t, ws.Options{QueueSize: 16, Writers: 1})
}

func slowClientIsDroppedWithoutSlowingOthers(t *testing.T, opt ws.Options) {
	bus := broadcast.NewLocalBus()
	log := &memLog{bus: bus}
	hub := ws.New(log, bus, opt)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go hub.Run(ctx)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hub.Serve(w, r, optimum.Actor{ID: "t"}, 0, false)
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")

	dialer := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetReadBuffer(4096)
		}
		return c, err
	}}
	slow, _, err := dialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	read(t, slow) // stream.ready, then never read again
	fast := dial(t, url)
	read(t, fast)

	const total = 3000
	var fastSeen atomic.Int64
	big, _ := json.Marshal(strings.Repeat("x", 16<<10))
	received := make(chan int64, total)
	go func() {
		defer close(received)
		for {
			fast.SetReadDeadline(time.Now().Add(20 * time.Second))
			_, data, err := fast.ReadMessage()
			if err != nil {
				return
			}
			var f frame
			json.Unmarshal(data, &f)
			received <- f.ID
		}
	}()
	// The producer is paced to the fast client (at most 8 events ahead), so only the slow
	// client can fall behind.
	go func() {
		for i := range total {
			if i >= 8 && !eventually(func() bool { n, _ := log.LastEventID(ctx); return n-fastSeen.Load() < 8 }) {
				t.Errorf("the fast client stayed 8 events behind for 15 s at event %d", i) // not Fatal: not the test's goroutine
				return
			}
			log.append(big)
		}
	}()
	want := int64(1)
	for id := range received {
		fastSeen.Store(id)
		if id != want {
			t.Fatalf("fast client got %d, want %d", id, want)
		}
		if want++; want > total {
			break
		}
	}
	if want != total+1 {
		t.Fatalf("fast client stopped at %d of %d", want-1, total)
	}
	waitFor(t, func() bool { return hub.Dropped() == 1 && hub.Connections() == 1 })
	// The dropped client's connection ends (a close frame when one fits, else a reset), so
	// it notices and resumes with since.
	slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err = slow.ReadMessage(); err != nil {
			break
		}
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("the slow client's connection is still open: %v", err)
	}
}

func TestGarbageFromAClientClosesOnlyThatClient(t *testing.T) {
	e := start(t, ws.Options{})
	bad := dial(t, e.wsURL)
	good := dial(t, e.wsURL)
	read(t, bad)
	read(t, good)
	bad.WriteMessage(websocket.TextMessage, []byte("{not json"))
	bad.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := bad.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseUnsupportedData) {
		t.Errorf("bad client: err = %v, want close 1003", err)
	}
	e.declare(t, "after garbage", "")
	if f := read(t, good); f.ID != 1 {
		t.Errorf("good client got %+v", f)
	}
}

func TestOversizedClientMessageCloses(t *testing.T) {
	e := start(t, ws.Options{})
	c := dial(t, e.wsURL)
	read(t, c)
	c.WriteMessage(websocket.TextMessage, []byte(`"`+strings.Repeat("a", 5000)+`"`))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseMessageTooBig) && !websocket.IsUnexpectedCloseError(err) {
		t.Errorf("err = %v, want the connection closed", err)
	}
	waitFor(t, func() bool { return e.hub.Connections() == 0 })
}

// A client that does not answer pings is closed after PongWait; one that does stays.
func TestKeepalive(t *testing.T) {
	// PongWait leaves a loaded machine (and -race) a second to answer.
	e := start(t, ws.Options{PongWait: time.Second, PingPeriod: 200 * time.Millisecond})
	mute, _, err := websocket.DefaultDialer.Dial(e.wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	live := dial(t, e.wsURL)
	// Count the pings live answers: the eleventh comes at least 2 s after the first, two
	// PongWaits, so by then a hub that did not take pongs as a sign of life would have
	// closed live. Counting pings, not sleeping, keeps the check right on a slow machine.
	var pings atomic.Int64
	closed := make(chan struct{})
	live.SetPingHandler(func(data string) error {
		pings.Add(1)
		return live.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	go func() {
		defer close(closed)
		for {
			if _, _, err := live.ReadMessage(); err != nil { // reading answers pings
				return
			}
		}
	}()
	waitFor(t, func() bool {
		select {
		case <-closed:
			t.Fatalf("the answering client was closed after %d pings", pings.Load())
		default:
		}
		return pings.Load() >= 11
	})
	waitFor(t, func() bool { return e.hub.Connections() == 1 }) // the mute one is gone
	select {
	case <-closed:
		t.Errorf("the answering client was closed after %d pings", pings.Load())
	default:
	}
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	if !eventually(cond) {
		t.Fatal("condition not met in 15 s")
	}
}

// eventually polls cond until it holds (true) or 15 s pass (false). Goroutines other
// than the test's use it where the test goroutine would use waitFor, which calls t.Fatal.
func eventually(cond func() bool) bool {
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}
