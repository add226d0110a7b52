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
	index int // position in hub.clients; guarded by hub.mu

	mu        sync.Mutex
	after     int64 // the client has every event up to this id; skip those
	queue     []item
	spare     []item
	writing   bool // a writer goroutine is running
	replaying bool // Serve is writing the replay; hold live frames back
	closed    bool
}

// sees reports whether the client may see an event meant for minRole and owner.
func (c *client) sees(minRole optimum.Role, owner string) bool {
	return minRole == "" || c.actor.Role.AtLeast(minRole) || (owner != "" && owner == c.actor.ID)
}

// item is a queued frame: the event id and its prepared frame, or a ping (0, nil).
type item struct {
	id int64
	pm *websocket.PreparedMessage
}

// enqueue adds the frame of event id (0 for a ping) without blocking; a client whose
// queue is full is dropped.
func (c *client) enqueue(id int64, pm *websocket.PreparedMessage) {
	c.mu.Lock()
	if c.closed || (id > 0 && id <= c.after) {
		c.mu.Unlock()
		return
	}
	if len(c.queue) >= c.hub.opt.QueueSize {
		c.closed, c.queue, c.spare = true, nil, nil
		c.mu.Unlock()
		c.hub.dropped.Add(1)
		go c.finish(websocket.CloseTryAgainLater, "too slow; resume with since")
		return
	}
	c.queue = append(c.queue, item{id, pm})
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
		for _, it := range batch {
			if it.pm == nil {
				err = c.conn.WriteControl(websocket.PingMessage, nil, deadline)
			} else {
				err = c.conn.WritePreparedMessage(it.pm)
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

// replay writes the events after since, up to the end of the log, then stream.ready with
// the last id written, then lets the writer send what was queued meanwhile, less what the
// replay already sent. It runs before the writer may start, so it is the only writer.
func (c *client) replay(ctx context.Context, since, head int64) error {
	last := max(since, head)
	for {
		events, err := c.hub.log.EventsAfter(ctx, since, c.hub.opt.ReplayBatch)
		if err != nil {
			return err
		}
		if len(events) == 0 {
			break
		}
		for _, e := range events {
			since = e.ID
			if !c.sees(c.hub.audience(e)) {
				continue
			}
			data, err := json.Marshal(e)
			if err != nil {
				return fmt.Errorf("encode event %d: %w", e.ID, err)
			}
			c.conn.SetWriteDeadline(time.Now().Add(c.hub.opt.WriteTimeout))
			if err := c.conn.WriteMessage(websocket.TextMessage, data); err != nil {
				return nil // the client left; the reader notices
			}
		}
		last = max(last, since)
	}
	// A client may know of events this node has not seen yet (it resumed from a node that
	// was ahead); its cursor then stays where it is and live frames up to it are skipped.
	ready, _ := json.Marshal(struct {
		Type string `json:"type"`
		ID   int64  `json:"id"`
	}{"stream.ready", last})
	c.conn.SetWriteDeadline(time.Now().Add(c.hub.opt.WriteTimeout))
	if err := c.conn.WriteMessage(websocket.TextMessage, ready); err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.after = last
	kept := c.queue[:0]
	for _, it := range c.queue {
		if it.pm == nil || it.id > last {
			kept = append(kept, it)
		}
	}
	clear(c.queue[len(kept):])
	c.queue = kept
	c.replaying = false
	c.startWriter()
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
	if c.markClosed() {
		c.finish(code, reason)
	}
}

// close closes the connection without a word (it has failed already).
func (c *client) close() {
	if c.markClosed() {
		c.finish(0, "")
	}
}

// markClosed stops all queueing; it reports whether this call did it.
func (c *client) markClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.closed, c.queue, c.spare = true, nil, nil
	return true
}

// finish sends a close frame when there is a reason, closes the socket and forgets the
// client. WriteControl may run beside a writer; a blocked writer fails once the socket
// is closed.
func (c *client) finish(code int, reason string) {
	if code != 0 {
		err := c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
		if tc, ok := c.conn.NetConn().(interface{ SetLinger(int) error }); ok && err != nil {
			// The socket is stuck (a client that stopped reading): reset it rather than let
			// the kernel keep trying to deliver stale frames. The client resumes with since.
			_ = tc.SetLinger(0)
		}
	}
	c.conn.Close()
	c.hub.remove(c)
}
