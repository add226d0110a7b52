package ws_test

import (
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// bareServer is the reference of BenchmarkFanout: the plainest gorilla/websocket broadcast.
// One goroutine per connection waits on its channel and writes what it gets; a broadcast
// prepares the frame once and offers it to every channel. No log, no replay, no pings, no
// reader: the floor a real hub is compared with.
type bareServer struct {
	up    websocket.Upgrader // defaults: reuses the HTTP server's 4 KiB buffers
	mu    sync.Mutex
	conns []chan *websocket.PreparedMessage
}

func (s *bareServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	conn, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	ch := make(chan *websocket.PreparedMessage, 16)
	s.mu.Lock()
	s.conns = append(s.conns, ch)
	s.mu.Unlock()
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"stream.ready"}`)); err != nil {
		conn.Close()
		return
	}
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

func (s *bareServer) broadcast(data []byte) error {
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range s.conns {
		select {
		case ch <- pm:
		default: // too slow: skipped
		}
	}
	return nil
}

func (s *bareServer) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range s.conns {
		close(ch)
	}
	s.conns = nil
}
