package ws

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/optimum-bcp/optimum"
)

// client is one connection. The reader goroutine lives as long as the connection; the
// writer goroutine is started when frames are queued and ends when the queue is empty.
// A nil frame in the queue is a ping.
type client struct {
	hub   *Hub
	conn  *websocket.Conn
	actor optimum.Actor

	mu        sync.Mutex
	queue     []*websocket.PreparedMessage
	spare     []*websocket.PreparedMessage
	writing   bool // a writer goroutine is running
	replaying bool // Serve is writing the replay; hold live frames back
	closed    bool
}

// enqueue adds a frame without blocking; a client whose queue is full is dropped.
func (c *client) enqueue(pm *websocket.PreparedMessage) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if len(c.queue) >= c.hub.opt.QueueSize {
		c.mu.Unlock()
		c.hub.dropped.Add(1)
		go c.closeWith(websocket.CloseTryAgainLater, "too slow; resume with since")
		return
	}
	c.queue = append(c.queue, pm)
	c.startWriter()
	c.mu.Unlock()
}

// startWriter starts the writer if frames wait and none runs. c.mu must be held.
func (c *client) startWriter() {
	if !c.writing && !c.replaying && !c.closed && len(c.queue) > 0 {
		c.writing = true
		go c.writeLoop()
	}
}

func (c *client) writeLoop() {
	for {
		c.mu.Lock()
		if c.closed || len(c.queue) == 0 {
			c.writing = false
			c.mu.Unlock()
			return
		}
		batch := c.queue
		c.queue, c.spare = c.spare[:0], nil
		c.mu.Unlock()

		deadline := time.Now().Add(c.hub.opt.WriteTimeout)
		_ = c.conn.SetWriteDeadline(deadline)
		var err error
		for _, pm := range batch {
			if pm == nil {
				err = c.conn.WriteControl(websocket.PingMessage, nil, deadline)
			} else {
				err = c.conn.WritePreparedMessage(pm)
			}
			if err != nil {
				break
			}
		}
		clear(batch)
		c.mu.Lock()
		c.spare = batch[:0]
		c.mu.Unlock()
		if err != nil {
			c.close()
			return
		}
	}
}

// replay writes the events in (since, head] and then the stream.ready frame. It runs
// before the writer may start, so it is the only writer.
func (c *client) replay(ctx context.Context, since, head int64, hasSince bool) error {
	c.conn.SetWriteDeadline(time.Now().Add(c.hub.opt.WriteTimeout))
	for hasSince && since < head {
		events, err := c.hub.log.EventsAfter(ctx, since, c.hub.opt.ReplayBatch)
		if err != nil {
			return err
		}
		if len(events) == 0 {
			break
		}
		for _, e := range events {
			if e.ID > head {
				break
			}
			data, err := json.Marshal(e)
			if err != nil {
				return fmt.Errorf("encode event %d: %w", e.ID, err)
			}
			c.conn.SetWriteDeadline(time.Now().Add(c.hub.opt.WriteTimeout))
			if err := c.conn.WriteMessage(websocket.TextMessage, data); err != nil {
				return nil // the client left; the reader notices
			}
			since = e.ID
		}
	}
	ready, _ := json.Marshal(struct {
		Type string `json:"type"`
		ID   int64  `json:"id"`
	}{"stream.ready", head})
	if err := c.conn.WriteMessage(websocket.TextMessage, ready); err != nil {
		return nil
	}
	return nil
}

// readLoop reads until the connection fails. Clients send nothing but control frames;
// anything else that is not JSON is garbage and closes the connection.
func (c *client) readLoop() {
	defer c.close()
	conn := c.conn
	conn.SetReadLimit(1024)
	pongWait := c.hub.opt.PongWait
	conn.SetReadDeadline(time.Now().Add(pongWait))
	conn.SetPongHandler(func(string) error {
		return conn.SetReadDeadline(time.Now().Add(pongWait))
	})
	for {
		typ, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		conn.SetReadDeadline(time.Now().Add(pongWait))
		if typ != websocket.TextMessage || !json.Valid(data) {
			c.closeWith(websocket.CloseUnsupportedData, "this stream accepts no messages but JSON")
			return
		}
	}
}

// closeWith tells the client why, then closes.
func (c *client) closeWith(code int, reason string) {
	_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	c.close()
}

func (c *client) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.queue, c.spare = nil, nil
	c.mu.Unlock()
	c.conn.Close()
	c.hub.remove(c)
}
