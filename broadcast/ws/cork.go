package ws

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// corkConn lets the writer of a connection gather every frame of a burst into one buffer
// and hand it to the kernel in one write. gorilla/websocket writes each frame straight to
// its net.Conn (one syscall per frame, the largest part of a delivery's cost); through a
// corked corkConn those writes only append. The buffer comes from a pool while corked and
// goes back on flush, so an idle connection holds none.
//
// Frames stay one event each (the contract of the stream); only the syscalls are shared.
// Control frames written by other goroutines (a close frame) while corked are appended
// too, after the frame gorilla is writing; Close flushes nothing, as a connection closed
// for a reason has no use for stale frames.
type corkConn struct {
	net.Conn
	mu       sync.Mutex
	corked   bool
	buf      *[]byte
	deadline time.Time // the last write deadline set while corked, applied by flush
}

var corkPool = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// maxPooledCork is the largest buffer put back in the pool; a bigger one (a burst of many
// large events) is left to the garbage collector.
const maxPooledCork = 256 << 10

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.corked {
		*c.buf = append(*c.buf, p...)
		c.mu.Unlock()
		return len(p), nil
	}
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// SetWriteDeadline, while corked, only notes the deadline for flush: gorilla sets it
// before every frame, and each setting costs a timer update in the runtime.
func (c *corkConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	if c.corked {
		c.deadline = t
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	return c.Conn.SetWriteDeadline(t)
}

// cork starts gathering writes.
func (c *corkConn) cork() {
	c.mu.Lock()
	if !c.corked {
		c.corked = true
		c.buf = corkPool.Get().(*[]byte)
	}
	c.mu.Unlock()
}

// flush stops gathering and writes what was gathered, in one write. The write first has
// until fast at most; release is called once that first attempt is over, whatever its
// outcome. A socket that takes longer (a client not reading) gets the rest of the
// deadline for the remainder, after release: the writer waits for it without holding
// whatever release gives back.
func (c *corkConn) flush(fast time.Time, release func()) error {
	c.mu.Lock()
	if !c.corked {
		c.mu.Unlock()
		release()
		return nil
	}
	c.corked = false
	buf, deadline := c.buf, c.deadline
	c.buf, c.deadline = nil, time.Time{}
	c.mu.Unlock()
	var err error
	if len(*buf) > 0 {
		first := fast
		if !deadline.IsZero() && deadline.Before(first) {
			first = deadline
		}
		n := 0
		if err = c.Conn.SetWriteDeadline(first); err == nil {
			n, err = c.Conn.Write(*buf)
		}
		release()
		if errors.Is(err, os.ErrDeadlineExceeded) && first.Before(deadline) {
			if err = c.Conn.SetWriteDeadline(deadline); err == nil {
				_, err = c.Conn.Write((*buf)[n:])
			}
		}
	} else {
		release()
	}
	if cap(*buf) <= maxPooledCork {
		*buf = (*buf)[:0]
		corkPool.Put(buf)
	}
	return err
}

// SetLinger reaches the TCP connection underneath, for finish's reset of a stuck socket.
func (c *corkConn) SetLinger(sec int) error {
	if tc, ok := c.Conn.(interface{ SetLinger(int) error }); ok {
		return tc.SetLinger(sec)
	}
	return nil
}

// corkingWriter hands the upgrader a hijacked connection wrapped in a corkConn.
type corkingWriter struct {
	http.ResponseWriter
	conn *corkConn
}

func (w *corkingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	nc, brw, err := h.Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.conn = &corkConn{Conn: nc}
	return w.conn, brw, nil
}
