package ws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/optimum-bcp/optimum"
)

// client is one connection. The reader goroutine lives as long as the connection; the
// writer goroutine is started when frames are queued and ends when the queue is empty.
type client struct {
	hub     *Hub
	conn    *websocket.Conn
	cork    *corkConn
	actor   optimum.Actor
	recheck func(context.Context) (optimum.Role, bool, error) // Stream.Recheck, or nil
	role    atomic.Pointer[optimum.Role]                      // the role the stream sees by; changes with Access
	index   int                                               // position in hub.clients; guarded by hub.mu

	mu        sync.Mutex
	after     int64 // the client has every event up to this id; skip those
	queue     []item
	spare     []item
	fresh     bool // a frame was queued since the last heartbeat tick
	writing   bool // a writer goroutine is running
	replaying bool // Serve is writing the replay; hold live frames back
	closed    bool
}

// sees reports whether the client may see an event meant for minRole and owner, or for
// the people in alerted.
func (c *client) sees(minRole optimum.Role, owner string, alerted map[string]bool) bool {
	return minRole == "" || c.role.Load().AtLeast(minRole) || (owner != "" && owner == c.actor.ID) ||
		(c.actor.PersonID != "" && alerted[c.actor.PersonID])
}

func (c *client) setRole(r optimum.Role) {
	if r != "" && r != *c.role.Load() {
		c.role.Store(&r)
	}
}

// item is a queued frame: an event (id > 0), a heartbeat (id 0, pm set) or a ping (0, nil).
type item struct {
	id int64
	pm *websocket.PreparedMessage
}

// deliver queues the frames of batch that the client may see and has not seen, in order,
// applying on the way the access changes about its actor: a new role filters the frames
// after it; an ended access closes the connection. It never blocks: a client whose queue
// is full is dropped.
func (c *client) deliver(batch []frameOf) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	for i := range batch {
		f := &batch[i]
		if f.subject != "" && f.subject == c.actor.ID {
			switch {
			case f.ended:
				c.mu.Unlock()
				c.endSession()
				return
			case f.role != "":
				c.setRole(f.role)
			default:
				go c.revalidate()
			}
		}
		if f.id <= c.after || !c.sees(f.minRole, f.owner, f.alerted) {
			continue
		}
		if len(c.queue) >= c.hub.opt.QueueSize {
			c.mu.Unlock()
			c.drop()
			return
		}
		c.queue = append(c.queue, item{f.id, f.pm})
		c.fresh = true
	}
	c.startWriter()
	c.mu.Unlock()
}

// revalidate checks the stream's credentials again: closed when they ended, filtered by
// the current role otherwise. An error (the store is down) keeps the stream as it is.
func (c *client) revalidate() {
	if c.recheck == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	role, ok, err := c.recheck(ctx)
	switch {
	case err != nil:
		c.hub.opt.Logger.Warn("hub: checking a stream's credentials again", "err", err)
	case !ok:
		c.endSession()
	default:
		c.setRole(role)
	}
}

// endSession closes the connection because its access ended.
func (c *client) endSession() {
	if c.markClosed() {
		c.hub.ended.Add(1)
		go c.finish(CloseSessionEnded, sessionEnded)
	}
}

// drop closes a client that fell too far behind; it resumes with since.
func (c *client) drop() {
	if c.markClosed() {
		c.hub.dropped.Add(1)
		go c.finish(websocket.CloseTryAgainLater, "too slow; resume with since")
	}
}

// enqueue adds a ping (pm nil) or a heartbeat without blocking.
func (c *client) enqueue(pm *websocket.PreparedMessage) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if len(c.queue) >= c.hub.opt.QueueSize {
		c.mu.Unlock()
		c.drop()
		return
	}
	c.queue = append(c.queue, item{0, pm})
	c.startWriter()
	c.mu.Unlock()
}

// beat queues a heartbeat unless a frame was queued since the last call.
func (c *client) beat(pm *websocket.PreparedMessage) {
	c.mu.Lock()
	fresh := c.fresh
	c.fresh = false
	c.mu.Unlock()
	if !fresh {
		c.enqueue(pm)
	}
}

// startWriter starts the writer if frames wait and none runs. c.mu must be held.
func (c *client) startWriter() {
	if !c.writing && !c.replaying && !c.closed && len(c.queue) > 0 {
		c.writing = true
		go c.writeLoop()
	}
}

// writeLoop writes what is queued, each turn in one write to the socket, until the queue
// is empty.
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

		// At most Options.Writers connections write at once: the others wait here, parked,
		// so the goroutines that take declarations in never queue behind thousands of
		// writers for the CPU.
		c.hub.writers <- struct{}{}
		// A turn handed over by a finishing writer runs at once in the scheduler's
		// next slot and would pass it on and on, a chain that keeps the run queue (the
		// requests that declare among it) waiting for hundreds of milliseconds. Queue up
		// behind it instead.
		runtime.Gosched()
		now := time.Now()
		deadline := now.Add(c.hub.opt.WriteTimeout)
		_ = c.conn.SetWriteDeadline(deadline)
		c.cork.cork()
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
		if ferr := c.cork.flush(now.Add(fastWrite), c.hub.releaseWriter); err == nil {
			err = ferr
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

var errSessionEnded = errors.New("the stream's access ended")

// fastWrite is how long a writer may hold its turn (Options.Writers) on one socket; a
// client whose socket takes longer is finished without the turn.
const fastWrite = 20 * time.Millisecond

// replay writes the events after since, up to the end of the log, then stream.ready with
// the last id written, then lets the writer send what was queued meanwhile, less what the
// replay already sent. It runs before the writer may start, so it is the only writer.
// Access changes about the client's actor apply as they come: errSessionEnded when its
// access ended.
func (c *client) replay(ctx context.Context, since, head int64) error {
	last := max(since, head)
	alerted := map[string]map[string]bool{} // per incident, for a stream below its role
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
			if subject, role, ended := c.hub.access(e); subject != "" && subject == c.actor.ID {
				switch {
				case ended:
					return errSessionEnded
				case role != "":
					c.setRole(role)
				default:
					go c.revalidate()
				}
			}
			minRole, owner := c.hub.audience(e)
			if !c.sees(minRole, owner, nil) {
				if c.hub.opt.Alerted == nil || c.actor.PersonID == "" || e.IncidentID == "" {
					continue
				}
				set, ok := alerted[e.IncidentID]
				if !ok {
					set = c.hub.alerted(ctx, e.IncidentID)
					alerted[e.IncidentID] = set
				}
				if !c.sees(minRole, owner, set) {
					continue
				}
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
	ready, _ := json.Marshal(controlFrame{Type: "stream.ready", ID: last})
	c.conn.SetWriteDeadline(time.Now().Add(c.hub.opt.WriteTimeout))
	if err := c.conn.WriteMessage(websocket.TextMessage, ready); err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.after = last
	kept := c.queue[:0]
	for _, it := range c.queue {
		// Pings stay; heartbeats queued meanwhile go, as stream.ready was just sent.
		if (it.id == 0 && it.pm == nil) || it.id > last {
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
		// A writer that is gathering a burst would hold the close frame back: write it
		// past the cork.
		err := writeClose(c.conn, c.cork, code, reason)
		if err != nil {
			// The socket is stuck (a client that stopped reading): reset it rather than let
			// the kernel keep trying to deliver stale frames. The client resumes with since.
			_ = c.cork.SetLinger(0)
		}
	}
	c.conn.Close()
	c.hub.remove(c)
}

// writeClose writes a close frame straight to the socket, within a second, past any cork
// (a close frame gathered into a burst would be lost with the socket). Each write to the
// socket is whole (Go serializes writes to one net.Conn), so it never lands inside
// another frame.
func writeClose(conn *websocket.Conn, cork *corkConn, code int, reason string) error {
	if cork == nil {
		return conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	}
	payload := websocket.FormatCloseMessage(code, reason)
	if len(payload) > 125 {
		payload = payload[:125]
	}
	frame := append([]byte{0x88, byte(len(payload))}, payload...) // FIN + close, unmasked (server)
	_ = cork.Conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, err := cork.Conn.Write(frame)
	return err
}
