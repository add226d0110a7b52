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
// writer goroutine only exists while there is something to write. The writer gathers every
// frame it finds queued into one write (see corkConn): a burst of events reaches a client
// in one syscall, still one event per websocket frame.
//
// Access: the log also says when a token is revoked, a user disabled or a role changed
// (Options.Access). Every node's hub reads every event, so each closes the streams of an
// actor whose access ended (CloseSessionEnded), and filters the streams of an actor whose
// role changed by the new role, at the event's place in the log, whichever node the change
// was made on.
//
// Liveness: a stream that has had no frame for a while gets {"type":"stream.heartbeat",
// "id":<head>}, an application frame a browser can see (it cannot see pings), so a board
// can tell a quiet stream from a dead one.
package ws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
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
	// Alerted, when set, returns the people an incident was sent to (its recipients and
	// the people a ladder step paged), by person id: a stream whose actor is one of them
	// sees that incident's events whatever its role, as the API lets them read and answer
	// it. The hub calls it at most once per incident and fan-out batch, and only while a
	// stream with a person and a role below the event's minRole is connected.
	Alerted func(ctx context.Context, incidentID string) (map[string]bool, error)
	// Access, when set, says whether an event changes the access of an actor: the actor's
	// id, and either ended (its streams are closed with CloseSessionEnded), or the role
	// its streams see from that event on, or neither: some of the actor's credentials may
	// have ended (a password change ends other sessions), so each of its streams checks
	// its own again (Stream.Recheck). It returns "" for every other event.
	Access func(e optimum.Event) (actorID string, role optimum.Role, ended bool)
	// Heartbeat is the longest a connection goes without a frame: one that has had none
	// for about that long gets a stream.heartbeat. 0 sends none (the server sets it from
	// stream.heartbeat; the contract asks for one at least every 15 s).
	Heartbeat time.Duration
	// Coalesce is how long the hub waits, once woken by the bus, for more events before it
	// fans out: events appended within that time (a declaration, then the escalation
	// engine's events about it) reach each client in one write instead of several. It
	// delays every event by up to that much; 0 fans out at once.
	Coalesce time.Duration
	// Writers is how many connections may be written to at once; default 8. The writers
	// of the other connections wait, parked, so a burst to many thousands of streams
	// never lines thousands of goroutines up for the CPU ahead of the requests that
	// declare (intake never starves behind fan-out). A socket that takes more than a few
	// milliseconds gives its turn up while it waits.
	Writers int
	Logger  *slog.Logger
}

// Close codes the hub sends besides the standard ones, in the range RFC 6455 leaves to
// applications. The close frame's reason says the same in words.
const (
	// CloseBadRequest: the stream was asked for something this server does not do, such
	// as a protocol version it does not speak.
	CloseBadRequest = 4400
	// CloseSessionEnded: the credentials of the stream were revoked or their user
	// disabled. Reconnecting will not help; the person must sign in again.
	CloseSessionEnded = 4401
	// CloseTooManyStreams: the token or user already has as many streams as allowed.
	CloseTooManyStreams = 4429
)

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
	if o.Writers <= 0 {
		o.Writers = 8
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
	clients  []*client
	perActor map[string]int // live connections per actor id, for Stream.MaxPerActor
	// accessAt is when this hub last broadcast an access change about each actor, kept
	// for accessMemory: a stream registered soon after one checks its credentials again.
	accessAt map[string]time.Time
	ready    chan struct{} // closed once Run has read the initial head
	stopped  bool

	snapshot []*client     // owned by the Run goroutine
	batch    []frameOf     // owned by the Run goroutine
	writers  chan struct{} // a turn to write, Options.Writers of them
	dropped  atomic.Int64
	ended    atomic.Int64
}

// New returns a hub reading log and woken by bus. Call Run to start it.
func New(log Log, bus broadcast.Bus, opt Options) *Hub {
	opt.defaults()
	h := &Hub{log: log, bus: bus, opt: opt, ready: make(chan struct{}), perActor: map[string]int{}, accessAt: map[string]time.Time{}, writers: make(chan struct{}, opt.Writers)}
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

func (h *Hub) releaseWriter() { <-h.writers }

// Ended returns how many connections were closed because their access ended.
func (h *Hub) Ended() int64 { return h.ended.Load() }

// Head returns the id of the newest event of the log (not of this hub, which may be
// behind it by a few milliseconds).
func (h *Hub) Head(ctx context.Context) (int64, error) { return h.log.LastEventID(ctx) }

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
	// A connection gets a heartbeat at a tick when it got no frame since the tick before,
	// so it never goes longer than two ticks (Heartbeat) without one.
	var beats <-chan time.Time
	if h.opt.Heartbeat > 0 {
		beat := time.NewTicker(h.opt.Heartbeat / 2)
		defer beat.Stop()
		beats = beat.C
	}
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	defer h.closeAll()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ids:
			if h.opt.Coalesce > 0 {
				linger.Reset(h.opt.Coalesce)
				select {
				case <-ctx.Done():
					return nil
				case <-linger.C:
				}
			}
		case <-poll.C:
		case <-ping.C:
			h.pingAll()
			continue
		case <-beats:
			h.heartbeat()
			continue
		}
		if err := h.catchUp(ctx); err != nil && ctx.Err() == nil {
			h.opt.Logger.Warn("hub: reading the event log", "err", err)
		}
	}
}

// frameOf is one event as the hub fans it out: its frame, prepared once, who may see it,
// and what it changes of an actor's access.
type frameOf struct {
	id      int64
	pm      *websocket.PreparedMessage
	minRole optimum.Role
	owner   string
	alerted map[string]bool // person ids the incident was sent to, when a stream needs them
	subject string          // the actor whose access the event changes, or ""
	role    optimum.Role    // the subject's new role
	ended   bool            // the subject's access ended
}

// catchUp broadcasts every event after the head, in order. The events read together are
// queued to each connection together, so its writer sends them in one write.
func (h *Hub) catchUp(ctx context.Context) error {
	for {
		h.mu.Lock()
		head := h.head
		h.mu.Unlock()
		events, err := h.log.EventsAfter(ctx, head, h.opt.ReplayBatch)
		if err != nil || len(events) == 0 {
			return err
		}
		batch := h.batch[:0]
		low := h.lowRoles()
		alerted := map[string]map[string]bool{} // per incident, once per batch
		for _, e := range events {
			data, err := json.Marshal(e)
			if err != nil {
				return fmt.Errorf("encode event %d: %w", e.ID, err)
			}
			pm, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
			if err != nil {
				return fmt.Errorf("prepare event %d: %w", e.ID, err)
			}
			f := frameOf{id: e.ID, pm: pm}
			f.minRole, f.owner = h.audience(e)
			if needsAlerted(low, f.minRole) && e.IncidentID != "" {
				set, ok := alerted[e.IncidentID]
				if !ok {
					set = h.alerted(ctx, e.IncidentID)
					alerted[e.IncidentID] = set
				}
				f.alerted = set
			}
			f.subject, f.role, f.ended = h.access(e)
			batch = append(batch, f)
		}
		h.mu.Lock()
		h.head = events[len(events)-1].ID
		h.snapshot = append(h.snapshot[:0], h.clients...)
		for _, f := range batch {
			if f.subject != "" {
				h.noteAccess(f.subject)
			}
		}
		h.mu.Unlock()
		for _, c := range h.snapshot {
			c.deliver(batch)
		}
		clear(h.snapshot)
		clear(batch)
		h.batch = batch[:0]
	}
}

// accessMemory is how long the hub remembers that an actor's access changed. A stream
// authenticated before the change but registered after the hub broadcast it would miss
// it; one registered within accessMemory of a change checks its credentials again.
const accessMemory = 5 * time.Minute

// noteAccess records an access change about id now, and forgets old ones. h.mu is held.
func (h *Hub) noteAccess(id string) {
	now := time.Now()
	h.accessAt[id] = now
	if len(h.accessAt) > 64 {
		for k, t := range h.accessAt {
			if now.Sub(t) > accessMemory {
				delete(h.accessAt, k)
			}
		}
	}
}

func (h *Hub) access(e optimum.Event) (string, optimum.Role, bool) {
	if h.opt.Access == nil {
		return "", "", false
	}
	return h.opt.Access(e)
}

// lowRoles returns the roles of the connected streams that have a directory person:
// those that may see an incident below their role because it was sent to them. Nil
// when Alerted is not set.
func (h *Hub) lowRoles() []optimum.Role {
	if h.opt.Alerted == nil {
		return nil
	}
	var roles []optimum.Role
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.clients {
		if c.actor.PersonID == "" {
			continue
		}
		if r := *c.role.Load(); !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	return roles
}

// needsAlerted reports whether a stream of one of the roles cannot see an event meant for
// minRole by its role alone.
func needsAlerted(roles []optimum.Role, minRole optimum.Role) bool {
	if minRole == "" {
		return false
	}
	for _, r := range roles {
		if !r.AtLeast(minRole) {
			return true
		}
	}
	return false
}

// alerted returns the people the incident was sent to; on an error (the store is down)
// nobody below the role sees the event, and the log says so.
func (h *Hub) alerted(ctx context.Context, incidentID string) map[string]bool {
	set, err := h.opt.Alerted(ctx, incidentID)
	if err != nil {
		h.opt.Logger.Warn("hub: reading who an incident was sent to", "incident", incidentID, "err", err)
		return nil
	}
	return set
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
		c.enqueue(nil)
	}
	clear(h.snapshot)
}

// heartbeat queues a stream.heartbeat, naming the hub's head, to every connection that got
// no frame since the last call. It follows every event up to the head in the queue, so the
// id is one the client has (or may resume from).
func (h *Hub) heartbeat() {
	h.mu.Lock()
	head := h.head
	h.snapshot = append(h.snapshot[:0], h.clients...)
	h.mu.Unlock()
	data, _ := json.Marshal(controlFrame{Type: "stream.heartbeat", ID: head})
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
	if err != nil {
		return
	}
	for _, c := range h.snapshot {
		c.beat(pm)
	}
	clear(h.snapshot)
}

// controlFrame is a frame of the stream that is not an event: stream.ready and
// stream.heartbeat.
type controlFrame struct {
	Type string `json:"type"`
	ID   int64  `json:"id"`
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

// Stream is one request for a stream, as ServeStream takes it.
type Stream struct {
	Actor optimum.Actor
	// Since and HasSince: with HasSince, the stream first replays the events after Since.
	Since    int64
	HasSince bool
	// MaxPerActor caps the live streams of Actor.ID on this node; 0 is no cap. The stream
	// over the cap is closed with CloseTooManyStreams.
	MaxPerActor int
	// Recheck, when set, authenticates the stream's credentials again: once the stream is
	// registered, when this hub broadcast an access change about the actor lately (it may
	// fall between the first authentication and the registration, from which on the hub
	// applies changes to the stream), and whenever Access says the actor's credentials may
	// have ended. It returns the actor's current role, or ok false when the credentials no
	// longer work (the stream is then closed with CloseSessionEnded). The stream keeps it
	// for its lifetime: it should hold the credentials, not the request.
	Recheck func(ctx context.Context) (role optimum.Role, ok bool, err error)
}

// Serve is ServeStream for an actor with no cap and no recheck.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, actor optimum.Actor, since int64, hasSince bool) error {
	return h.ServeStream(w, r, Stream{Actor: actor, Since: since, HasSince: hasSince})
}

// Refuse upgrades the request to a websocket only to close it at once with code and
// reason: a browser sees a close frame's reason, not an HTTP error's body.
func (h *Hub) Refuse(w http.ResponseWriter, r *http.Request, code int, reason string) {
	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	closeConn(conn, code, reason)
}

func closeConn(conn *websocket.Conn, code int, reason string) {
	conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	conn.Close()
}

// ServeStream upgrades the request to a websocket and streams to it. With HasSince, it
// first replays the events after Since. It returns once the connection is set up; the
// connection then lives until the client leaves, falls behind, loses its access, or the
// hub stops.
func (h *Hub) ServeStream(w http.ResponseWriter, r *http.Request, s Stream) error {
	select {
	case <-h.ready:
	case <-r.Context().Done():
		return r.Context().Err()
	}
	cw := &corkingWriter{ResponseWriter: w}
	conn, err := h.upgrader.Upgrade(cw, r, nil)
	if err != nil {
		return nil // the upgrader has answered the client
	}
	since := s.Since
	if !s.HasSince {
		// Live from now: the client has, in effect, seen everything already in the log, so
		// stream.ready names the newest id even if this hub has not broadcast it yet.
		if since, err = h.log.LastEventID(r.Context()); err != nil {
			h.opt.Logger.Warn("hub: reading the newest event id", "err", err)
			closeConn(conn, websocket.CloseTryAgainLater, "try again")
			return nil
		}
	}
	c := &client{hub: h, conn: conn, cork: cw.conn, actor: s.Actor, recheck: s.Recheck, replaying: true, after: since}
	role := s.Actor.Role // a copy: a pointer into s would keep all of s alive
	c.role.Store(&role)
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		closeConn(conn, websocket.CloseGoingAway, "server shutting down")
		return nil
	}
	if s.MaxPerActor > 0 && h.perActor[s.Actor.ID] >= s.MaxPerActor {
		h.mu.Unlock()
		closeConn(conn, CloseTooManyStreams, fmt.Sprintf("too many streams for these credentials (at most %d); close another board first", s.MaxPerActor))
		return nil
	}
	head := h.head
	c.index = len(h.clients)
	h.clients = append(h.clients, c)
	h.perActor[s.Actor.ID]++
	changed, seen := h.accessAt[s.Actor.ID]
	h.mu.Unlock()

	// From here on this hub applies access changes to the stream. One it broadcast
	// earlier, after the request was authenticated, would be missed: check again when the
	// actor's access changed lately.
	if s.Recheck != nil && seen && time.Since(changed) < accessMemory {
		role, ok, err := s.Recheck(r.Context())
		switch {
		case err != nil:
			c.closeWith(websocket.CloseTryAgainLater, "try again")
			return nil
		case !ok:
			h.ended.Add(1)
			c.closeWith(CloseSessionEnded, sessionEnded)
			return nil
		}
		c.setRole(role)
	}
	if err := c.replay(r.Context(), since, head); err != nil {
		if errors.Is(err, errSessionEnded) {
			h.ended.Add(1)
			c.closeWith(CloseSessionEnded, sessionEnded)
			return nil
		}
		c.closeWith(websocket.CloseInternalServerErr, "replay failed; try again")
		h.opt.Logger.Warn("hub: replay", "err", err)
		return nil
	}
	go c.readLoop()
	return nil
}

// sessionEnded is the reason of a CloseSessionEnded frame.
const sessionEnded = "session ended: the credentials were revoked or the user disabled; sign in again"

func (h *Hub) remove(c *client) {
	h.mu.Lock()
	if i := c.index; i >= 0 && i < len(h.clients) && h.clients[i] == c {
		last := len(h.clients) - 1
		h.clients[i] = h.clients[last]
		h.clients[i].index = i
		h.clients[last] = nil
		h.clients = h.clients[:last]
		c.index = -1
		if n := h.perActor[c.actor.ID] - 1; n > 0 {
			h.perActor[c.actor.ID] = n
		} else {
			delete(h.perActor, c.actor.ID)
		}
	}
	h.mu.Unlock()
}
