// Package ws streams the event log to live boards over websockets.
//
// Ordering and resume: the hub keeps the id of the last event it broadcast (its head). A
// connection registers under the hub's lock and learns the head H at that instant: every
// event after H reaches it live through its queue, and it replays (since, H] from the log
// itself before it writes anything queued. So a client resuming with ?since= gets every
// event once, in id order, with no gap, even while events are being appended.
//
// Fan-out: each event is read from the log once per node and encoded once into a
// websocket.PreparedMessage shared by every connection. Each connection has a bounded
// queue; a connection whose queue is full is closed (it resumes with ?since=), so a slow
// client never slows the others. Idle connections cost one goroutine (the reader): the
// writer goroutine only exists while there is something to write.
package ws

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
)

// Log is the part of the event log the hub reads.
type Log interface {
	// EventsAfter returns up to limit events with id > after, in id order.
	EventsAfter(ctx context.Context, after int64, limit int) ([]optimum.Event, error)
	// LastEventID returns the newest id, 0 for an empty log.
	LastEventID(ctx context.Context) (int64, error)
}

// Options tune the hub. Zero values take the defaults.
type Options struct {
	QueueSize    int           // frames a connection may have pending; default 256
	WriteTimeout time.Duration // per write; default 10 s
	PongWait     time.Duration // a connection silent for this long is closed; default 60 s
	PingPeriod   time.Duration // how often the hub pings every connection; default PongWait*9/10
	PollInterval time.Duration // fallback poll of the log, in case a bus signal was lost; default 2 s
	ReplayBatch  int           // events read per query while replaying; default 500
	// CheckOrigin decides whether a browser's Origin may open the stream. Nil allows
	// requests without an Origin header and same-host origins only.
	CheckOrigin func(r *http.Request) bool
	// Audience says who may see an event: actors with at least minRole, and the actor
	// whose id is owner (a reporter following their own incident). Nil lets everyone
	// see everything. It is called once per event, not once per connection.
	Audience func(e optimum.Event) (minRole optimum.Role, owner string)
	Logger   *slog.Logger
}

func (o *Options) defaults() {
	if o.QueueSize <= 0 {
		o.QueueSize = 256
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.PongWait <= 0 {
		o.PongWait = 60 * time.Second
	}
	if o.PingPeriod <= 0 {
		o.PingPeriod = o.PongWait * 9 / 10
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second
	}
	if o.ReplayBatch <= 0 {
		o.ReplayBatch = 500
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Hub owns the live connections of one node.
type Hub struct {
	log      Log
	bus      broadcast.Bus
	opt      Options
	upgrader websocket.Upgrader

	mu   sync.Mutex
	head int64
	// clients in order of arrival: writing to sockets in a stable order is measurably
	// cheaper than a map's random order (docs/benchmarks.md). Removal swaps with the last.
	clients []*client
	ready   chan struct{} // closed once Run has read the initial head
	stopped bool

	snapshot []*client // owned by the Run goroutine
	dropped  atomic.Int64
}

// New returns a hub reading log and woken by bus. Call Run to start it.
func New(log Log, bus broadcast.Bus, opt Options) *Hub {
	opt.defaults()
	h := &Hub{log: log, bus: bus, opt: opt, ready: make(chan struct{})}
	h.upgrader = websocket.Upgrader{
		ReadBufferSize:   256, // clients send next to nothing; pongs and close frames fit
		WriteBufferPool:  &sync.Pool{},
		HandshakeTimeout: 10 * time.Second,
		CheckOrigin:      opt.CheckOrigin,
	}
	return h
}

// Connections returns the number of live connections.
func (h *Hub) Connections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// Dropped returns how many connections were closed for being too slow.
func (h *Hub) Dropped() int64 { return h.dropped.Load() }

// Run broadcasts new events until ctx is done, then closes every connection.
func (h *Hub) Run(ctx context.Context) error {
	head, err := h.log.LastEventID(ctx)
	if err != nil {
		if ctx.Err() != nil {
			h.closeAll()
			return nil
		}
		return fmt.Errorf("hub: %w", err)
	}
	ids, cancel := h.bus.Subscribe()
	defer cancel()
	h.mu.Lock()
	h.head = head
	h.mu.Unlock()
	close(h.ready)
	poll := time.NewTicker(h.opt.PollInterval)
	defer poll.Stop()
	ping := time.NewTicker(h.opt.PingPeriod)
	defer ping.Stop()
	defer h.closeAll()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ids:
		case <-poll.C:
		case <-ping.C:
			h.pingAll()
			continue
		}
		if err := h.catchUp(ctx); err != nil && ctx.Err() == nil {
			h.opt.Logger.Warn("hub: reading the event log", "err", err)
		}
	}
}

// catchUp broadcasts every event after the head, in order.
func (h *Hub) catchUp(ctx context.Context) error {
	for {
		h.mu.Lock()
		head := h.head
		h.mu.Unlock()
		events, err := h.log.EventsAfter(ctx, head, h.opt.ReplayBatch)
		if err != nil || len(events) == 0 {
			return err
		}
		for _, e := range events {
			data, err := json.Marshal(e)
			if err != nil {
				return fmt.Errorf("encode event %d: %w", e.ID, err)
			}
			pm, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
			if err != nil {
				return fmt.Errorf("prepare event %d: %w", e.ID, err)
			}
			minRole, owner := h.audience(e)
			h.mu.Lock()
			h.head = e.ID
			h.snapshot = append(h.snapshot[:0], h.clients...)
			h.mu.Unlock()
			for _, c := range h.snapshot {
				if c.sees(minRole, owner) {
					c.enqueue(e.ID, pm)
				}
			}
		}
		clear(h.snapshot)
	}
}

func (h *Hub) audience(e optimum.Event) (optimum.Role, string) {
	if h.opt.Audience == nil {
		return "", ""
	}
	return h.opt.Audience(e)
}

func (h *Hub) pingAll() {
	h.mu.Lock()
	h.snapshot = append(h.snapshot[:0], h.clients...)
	h.mu.Unlock()
	for _, c := range h.snapshot {
		c.enqueue(0, nil)
	}
	clear(h.snapshot)
}

func (h *Hub) closeAll() {
	h.mu.Lock()
	h.stopped = true
	all := append([]*client(nil), h.clients...)
	h.mu.Unlock()
	for _, c := range all {
		c.closeWith(websocket.CloseGoingAway, "server shutting down; resume with since")
	}
}

// Serve upgrades the request to a websocket and streams to it. With hasSince, it first
// replays the events after since. It returns once the connection is set up; the
// connection then lives until the client leaves, falls behind, or the hub stops.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, actor optimum.Actor, since int64, hasSince bool) error {
	select {
	case <-h.ready:
	case <-r.Context().Done():
		return r.Context().Err()
	}
	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil // the upgrader has answered the client
	}
	if !hasSince {
		// Live from now: the client has, in effect, seen everything already in the log, so
		// stream.ready names the newest id even if this hub has not broadcast it yet.
		if since, err = h.log.LastEventID(r.Context()); err != nil {
			h.opt.Logger.Warn("hub: reading the newest event id", "err", err)
			conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "try again"), time.Now().Add(time.Second))
			conn.Close()
			return nil
		}
	}
	c := &client{hub: h, conn: conn, actor: actor, replaying: true, after: since}
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), time.Now().Add(time.Second))
		conn.Close()
		return nil
	}
	head := h.head
	c.index = len(h.clients)
	h.clients = append(h.clients, c)
	h.mu.Unlock()

	if err := c.replay(r.Context(), since, head); err != nil {
		c.closeWith(websocket.CloseInternalServerErr, "replay failed; try again")
		h.opt.Logger.Warn("hub: replay", "err", err)
		return nil
	}
	go c.readLoop()
	return nil
}

func (h *Hub) remove(c *client) {
	h.mu.Lock()
	if i := c.index; i >= 0 && i < len(h.clients) && h.clients[i] == c {
		last := len(h.clients) - 1
		h.clients[i] = h.clients[last]
		h.clients[i].index = i
		h.clients[last] = nil
		h.clients = h.clients[:last]
		c.index = -1
	}
	h.mu.Unlock()
}
