// Package loadgen opens many websocket clients against a server on this machine and
// records when each of them receives a given frame. The load command (cmd/optimum-load)
// and the fan-out benchmark (broadcast/ws) use it.
//
// The clients are meant to run in a process of their own: ten thousand clients and the ten
// thousand server connections they face would not fit in one process's file descriptors,
// and a server measured in the same process as its clients would be charged for their CPU
// and memory. ServeChild and Child carry the fleet across a pipe for that.
//
// Receive times are wall-clock Unix nanoseconds, so they can be compared with times taken
// in another process of the same machine. Only loopback addresses may be targeted.
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Config says which server to load and how.
type Config struct {
	// URL of the websocket endpoint: ws:// or http:// (https and wss too), on a loopback
	// address, with any query it needs (e.g. ?token=).
	URL string `json:"url"`
	// Clients is how many connections to open.
	Clients int `json:"clients"`
	// Ready, when set, is a piece of the frame each connection waits for before it counts
	// as open, e.g. `"type":"stream.ready"`: the server has registered it by then, so a
	// frame published afterwards must reach it.
	Ready string `json:"ready,omitempty"`
	// Concurrency is how many handshakes may be in flight at once; default 64.
	Concurrency int `json:"concurrency,omitempty"`
	// Timeout bounds the opening of all the connections; default 5 minutes.
	Timeout time.Duration `json:"timeout,omitempty"`
	// ReadBufferSize of each client; default 1024 bytes (small: clients are many).
	ReadBufferSize int `json:"read_buffer_size,omitempty"`
	// Header is sent with every handshake (e.g. Authorization).
	Header http.Header `json:"header,omitempty"`
}

func (c *Config) defaults() {
	if c.Concurrency <= 0 {
		c.Concurrency = 64
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Minute
	}
	if c.ReadBufferSize <= 0 {
		c.ReadBufferSize = 1024
	}
}

// Fleet is a set of open client connections, each read by its own goroutine until Close.
type Fleet struct {
	conns  []*websocket.Conn
	alive  []atomic.Bool
	target atomic.Pointer[Expectation]
	watch  atomic.Pointer[func(i int, frame []byte, at int64)]
	lost   atomic.Int64
	closed atomic.Bool
	wg     sync.WaitGroup
}

// WebsocketURL turns an http(s) or ws(s) URL on a loopback address into a ws(s) URL, and
// refuses any other address.
func WebsocketURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("loadgen: url: %w", err)
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	case "ws", "wss":
	default:
		return "", fmt.Errorf("loadgen: url %q: scheme must be http, https, ws or wss", raw)
	}
	if err := CheckLoopback(u.Hostname()); err != nil {
		return "", err
	}
	return u.String(), nil
}

// CheckLoopback returns an error unless host is "localhost" or a loopback IP address.
// Load is only ever aimed at this machine.
func CheckLoopback(host string) error {
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("loadgen: %q is not a loopback address; load may only target this machine (127.0.0.1, ::1 or localhost)", host)
}

// Dial opens cfg.Clients connections and returns once every one is open (and has received
// its Ready frame), or with the first error, having closed whatever it had opened.
func Dial(ctx context.Context, cfg Config) (*Fleet, error) {
	cfg.defaults()
	if cfg.Clients <= 0 {
		return nil, errors.New("loadgen: clients must be at least 1")
	}
	wsURL, err := WebsocketURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	dialer := &websocket.Dialer{
		NetDialContext:   (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   cfg.ReadBufferSize,
		WriteBufferSize:  256, // clients write nothing but pongs and a close
		WriteBufferPool:  &sync.Pool{},
	}
	f := &Fleet{conns: make([]*websocket.Conn, cfg.Clients), alive: make([]atomic.Bool, cfg.Clients)}
	var (
		next     atomic.Int64
		firstErr error
		errOnce  sync.Once
		workers  sync.WaitGroup
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	for range min(cfg.Concurrency, cfg.Clients) {
		workers.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= cfg.Clients || ctx.Err() != nil {
					return
				}
				c, err := dialOne(ctx, dialer, wsURL, cfg)
				if err != nil {
					fail(fmt.Errorf("loadgen: connection %d of %d: %w", i+1, cfg.Clients, err))
					return
				}
				f.conns[i] = c
				f.alive[i].Store(true)
				f.wg.Go(func() { f.read(i, c, cfg.ReadBufferSize) })
			}
		})
	}
	workers.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = fmt.Errorf("loadgen: opening %d connections: %w", cfg.Clients, ctx.Err())
	}
	if firstErr != nil {
		f.Close()
		return nil, firstErr
	}
	return f, nil
}

func dialOne(ctx context.Context, d *websocket.Dialer, wsURL string, cfg Config) (*websocket.Conn, error) {
	c, resp, err := d.DialContext(ctx, wsURL, cfg.Header)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("%w (HTTP %s)", err, resp.Status)
		}
		return nil, err
	}
	if cfg.Ready == "" {
		return c, nil
	}
	deadline, _ := ctx.Deadline()
	c.SetReadDeadline(deadline)
	ready := []byte(cfg.Ready)
	for range 1000 { // a server replaying a long backlog first is not what we measure
		_, data, err := c.ReadMessage()
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("waiting for %s: %w", cfg.Ready, err)
		}
		if bytes.Contains(data, ready) {
			c.SetReadDeadline(time.Time{})
			return c, nil
		}
	}
	c.Close()
	return nil, fmt.Errorf("no %s frame among the first 1000", cfg.Ready)
}

// read hands every frame of connection i to the armed expectation, until the connection
// ends. The buffer is the connection's own, reused frame after frame.
func (f *Fleet) read(i int, c *websocket.Conn, size int) {
	buf := make([]byte, 0, size)
	defer func() {
		f.alive[i].Store(false)
		if !f.closed.Load() {
			f.lost.Add(1)
		}
		if e := f.target.Load(); e != nil {
			e.settle(i, -1)
		}
	}()
	for {
		_, r, err := c.NextReader()
		if err != nil {
			return
		}
		if buf, err = readAll(r, buf[:0]); err != nil {
			return
		}
		at := time.Now().UnixNano()
		if w := f.watch.Load(); w != nil {
			(*w)(i, buf, at)
		}
		if e := f.target.Load(); e != nil && e.matches(buf) {
			e.settle(i, at)
			e.keepSample(buf)
		}
	}
}

func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, cap(buf))
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// Watch calls fn with every frame any connection receives from now on (nil stops): the
// connection's index, the frame (valid only during the call) and its receive time in Unix
// nanoseconds. fn runs on the connections' reader goroutines, concurrently; it must be
// quick. Expectations keep working beside it.
func (f *Fleet) Watch(fn func(i int, frame []byte, at int64)) {
	if fn == nil {
		f.watch.Store(nil)
		return
	}
	f.watch.Store(&fn)
}

// Len returns the number of connections the fleet opened.
func (f *Fleet) Len() int { return len(f.conns) }

// Lost returns how many connections the server (or the network) ended before Close.
func (f *Fleet) Lost() int { return int(f.lost.Load()) }

// Close closes every connection and waits for their readers, at most 30 seconds.
func (f *Fleet) Close() error {
	f.closed.Store(true)
	for _, c := range f.conns {
		if c != nil {
			c.Close()
		}
	}
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-time.After(30 * time.Second):
		return errors.New("loadgen: readers still running 30 s after close")
	}
}

// Expect arms the fleet for the next frame that contains every one of markers, and
// returns at once. Publish the frame after Expect returns, then call Wait. Only one
// expectation is armed at a time; Expect replaces the previous one.
func (f *Fleet) Expect(markers ...string) *Expectation {
	e := &Expectation{fleet: f, times: make([]atomic.Int64, len(f.conns)), done: make(chan struct{})}
	for _, m := range markers {
		e.markers = append(e.markers, []byte(m))
	}
	f.target.Store(e)
	// After the Store: a reader that ends from now on sees e; one that ended before is
	// seen here. settle is idempotent, so seeing both is fine.
	for i := range f.conns {
		if !f.alive[i].Load() {
			e.settle(i, -1)
		}
	}
	return e
}

// Expectation is a frame the fleet waits for: it records when each connection received it.
type Expectation struct {
	fleet   *Fleet
	markers [][]byte
	times   []atomic.Int64 // Unix ns of receipt; 0 not yet; -1 connection lost
	settled atomic.Int64
	done    chan struct{}
	sample  atomic.Pointer[string]
}

func (e *Expectation) matches(frame []byte) bool {
	for _, m := range e.markers {
		if !bytes.Contains(frame, m) {
			return false
		}
	}
	return true
}

func (e *Expectation) settle(i int, at int64) {
	if !e.times[i].CompareAndSwap(0, at) {
		return
	}
	if int(e.settled.Add(1)) == len(e.times) {
		close(e.done)
	}
}

func (e *Expectation) keepSample(frame []byte) {
	if e.sample.Load() == nil {
		s := string(frame)
		e.sample.CompareAndSwap(nil, &s)
	}
}

// Wait returns once every connection has the frame (or was lost), when timeout passes, or
// when ctx ends, whichever is first; then it disarms the fleet.
func (e *Expectation) Wait(ctx context.Context, timeout time.Duration) Result {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-e.done:
	case <-t.C:
	case <-ctx.Done():
	}
	e.fleet.target.CompareAndSwap(e, nil)
	return e.Result()
}

// Times returns the receive time of each connection, as Unix nanoseconds, in connection
// order: 0 for a connection that has not received the frame, -1 for one that was lost.
func (e *Expectation) Times() []int64 {
	out := make([]int64, len(e.times))
	for i := range e.times {
		out[i] = e.times[i].Load()
	}
	return out
}

// Result summarizes the receive times so far.
func (e *Expectation) Result() Result {
	var got []int64
	r := Result{Clients: len(e.times)}
	for _, t := range e.Times() {
		switch {
		case t > 0:
			got = append(got, t)
		case t < 0:
			r.Lost++
		}
	}
	slices.Sort(got)
	r.Received = len(got)
	r.Missing = r.Clients - r.Received
	if len(got) > 0 {
		r.First, r.Last = got[0], got[len(got)-1]
		r.P50, r.P90, r.P99 = Percentile(got, 50), Percentile(got, 90), Percentile(got, 99)
	}
	if s := e.sample.Load(); s != nil {
		r.Sample = *s
	}
	return r
}

// Result is what the fleet saw of one expected frame. Times are Unix nanoseconds over the
// connections that received it: subtract the publish time for latencies.
type Result struct {
	Clients  int    `json:"clients"`
	Received int    `json:"received"`
	Missing  int    `json:"missing"` // did not receive it: lost, or too late
	Lost     int    `json:"lost"`    // of the missing, connections that had ended
	First    int64  `json:"first"`
	P50      int64  `json:"p50"`
	P90      int64  `json:"p90"`
	P99      int64  `json:"p99"`
	Last     int64  `json:"last"`
	Sample   string `json:"sample,omitempty"` // one received copy of the frame
}

// Percentile returns the p-th percentile (nearest rank) of sorted, or zero when empty.
func Percentile[T int64 | time.Duration | float64](sorted []T, p float64) T {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}
