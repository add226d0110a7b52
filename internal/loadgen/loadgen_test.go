package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// echoServer is a tiny websocket server: it greets each connection with a ready frame and
// can send a frame to all, or close one.
type echoServer struct {
	*httptest.Server
	mu    sync.Mutex
	conns []*websocket.Conn
}

func newEchoServer(t testing.TB) *echoServer {
	t.Helper()
	s := &echoServer{}
	up := websocket.Upgrader{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, c)
		c.WriteMessage(websocket.TextMessage, []byte(`{"type":"hello"}`))
		c.WriteMessage(websocket.TextMessage, []byte(`{"type":"stream.ready","q":"`+r.URL.Query().Get("token")+`"}`))
		s.mu.Unlock()
	}))
	t.Cleanup(func() {
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.Close()
	})
	return s
}

func (s *echoServer) send(t testing.TB, frame string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		if err := c.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
			t.Fatal(err)
		}
	}
}

const ready = `"type":"stream.ready"`

func TestFleetRecordsWhenEachClientGetsTheMatchingFrame(t *testing.T) {
	srv := newEchoServer(t)
	f, err := Dial(context.Background(), Config{URL: srv.URL + "/?token=x", Clients: 20, Ready: ready, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	e := f.Expect(`"type":"incident.declared"`, `"title":"two"`)
	before := time.Now().UnixNano()
	srv.send(t, `{"type":"incident.declared","incident":{"title":"one"}}`)
	srv.send(t, `{"type":"incident.acknowledged","incident":{"title":"two"}}`)
	srv.send(t, `{"type":"incident.declared","incident":{"title":"two"}}`)
	r := e.Wait(context.Background(), 10*time.Second)

	if r.Clients != 20 || r.Received != 20 || r.Missing != 0 {
		t.Fatalf("got clients %d, received %d, missing %d; want 20, 20, 0", r.Clients, r.Received, r.Missing)
	}
	if !(before <= r.First && r.First <= r.P50 && r.P50 <= r.P99 && r.P99 <= r.Last) {
		t.Errorf("times out of order: before %d first %d p50 %d p99 %d last %d", before, r.First, r.P50, r.P99, r.Last)
	}
	if want := `{"type":"incident.declared","incident":{"title":"two"}}`; r.Sample != want {
		t.Errorf("sample = %s, want %s", r.Sample, want)
	}
}

func TestExpectationEndsWithoutWaitingForLostConnections(t *testing.T) {
	srv := newEchoServer(t)
	f, err := Dial(context.Background(), Config{URL: srv.URL, Clients: 5, Ready: ready})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e := f.Expect("bye")
	srv.mu.Lock()
	srv.conns[0].Close()
	srv.conns = srv.conns[1:]
	srv.mu.Unlock()
	srv.send(t, "bye")
	start := time.Now()
	r := e.Wait(context.Background(), time.Minute)
	if time.Since(start) > 30*time.Second {
		t.Errorf("Wait waited for the lost connection")
	}
	if r.Received != 4 || r.Lost != 1 || r.Missing != 1 {
		t.Errorf("got received %d lost %d missing %d, want 4, 1, 1", r.Received, r.Lost, r.Missing)
	}
	if f.Lost() != 1 {
		t.Errorf("Lost() = %d, want 1", f.Lost())
	}
}

func TestWaitReportsMissingClientsAfterTheTimeout(t *testing.T) {
	srv := newEchoServer(t)
	f, err := Dial(context.Background(), Config{URL: srv.URL, Clients: 3, Ready: ready})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := f.Expect("never").Wait(context.Background(), 50*time.Millisecond)
	if r.Received != 0 || r.Missing != 3 || r.Lost != 0 {
		t.Errorf("got received %d missing %d lost %d, want 0, 3, 0", r.Received, r.Missing, r.Lost)
	}
}

func TestDialRefusesAddressesOffThisMachine(t *testing.T) {
	for _, u := range []string{"http://example.com/api/v1/stream", "ws://10.0.0.1:8080/", "http://0.0.0.0:8080/", "ftp://127.0.0.1/"} {
		if _, err := Dial(context.Background(), Config{URL: u, Clients: 1}); err == nil {
			t.Errorf("Dial(%s) did not fail", u)
		}
	}
	for _, u := range []string{"http://127.0.0.1:1/x", "ws://[::1]:1/", "http://localhost:1/"} {
		if _, err := WebsocketURL(u); err != nil {
			t.Errorf("WebsocketURL(%s): %v", u, err)
		}
	}
}

func TestDialFailsWhenTheServerRefusesTheUpgrade(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusUnauthorized)
	}))
	defer srv.Close()
	_, err := Dial(context.Background(), Config{URL: srv.URL, Clients: 3})
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("got %v, want an error naming HTTP 401", err)
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	xs := []int64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}
	for _, tc := range []struct {
		p    float64
		want int64
	}{{0, 10}, {10, 10}, {11, 20}, {50, 50}, {90, 90}, {99, 100}, {100, 100}} {
		if got := Percentile(xs, tc.p); got != tc.want {
			t.Errorf("Percentile(%v) = %d, want %d", tc.p, got, tc.want)
		}
	}
	if got := Percentile([]int64(nil), 50); got != 0 {
		t.Errorf("Percentile of nothing = %d, want 0", got)
	}
}

func TestServeChildSpeaksTheProtocol(t *testing.T) {
	srv := newEchoServer(t)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- ServeChild(context.Background(), inR, outW); outW.Close() }()
	enc := json.NewEncoder(inW)
	sc := bufio.NewScanner(outR)
	roundTrip := func(req string) reply {
		t.Helper()
		if req != "" {
			fmt.Fprintln(inW, req)
		}
		if !sc.Scan() {
			t.Fatalf("no reply to %s", req)
		}
		var r reply
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	enc.Encode(request{Op: "dial", Config: &Config{URL: srv.URL, Clients: 4, Ready: ready}})
	if r := roundTrip(""); r.Op != "dialed" || r.Connected != 4 || r.Error != "" {
		t.Fatalf("dial: got %+v", r)
	}
	if r := roundTrip(`{"op":"expect","markers":["ping"],"timeout":10000000000}`); r.Op != "armed" {
		t.Fatalf("expect: got %+v", r)
	}
	srv.send(t, "ping")
	if r := roundTrip(""); r.Op != "result" || r.Result == nil || r.Result.Received != 4 {
		t.Fatalf("result: got %+v", r)
	}
	if r := roundTrip(`{"op":"close"}`); r.Op != "closed" || r.Error != "" {
		t.Fatalf("close: got %+v", r)
	}
	if r := roundTrip(`{"op":"expect","markers":["ping"]}`); r.Error == "" {
		t.Fatalf("expect after close: got %+v, want an error", r)
	}
	inW.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestReadProcSeesThisProcess(t *testing.T) {
	st, err := ReadProc(0)
	if err != nil {
		t.Fatal(err)
	}
	if st.RSS <= 0 || st.CPU < 0 {
		t.Errorf("got %+v, want a positive RSS", st)
	}
}

func TestReadMachineCPUCountsBusyTime(t *testing.T) {
	m, err := ReadMachineCPU()
	if err != nil {
		t.Fatal(err)
	}
	if m.Busy <= 0 || m.Steal < 0 {
		t.Errorf("got %+v, want positive busy time", m)
	}
}
