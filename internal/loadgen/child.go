package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
)

// The child protocol: the parent writes one JSON request a line on the child's stdin, the
// child answers one JSON reply a line on its stdout, strictly in turn:
//
//	{"op":"dial","config":{…}}            → {"op":"dialed","connected":N,"took":ns}
//	{"op":"expect","markers":[…],"timeout":ns}
//	                                       → {"op":"armed"}, then, once every client has
//	                                         the frame or the timeout passed,
//	                                         {"op":"result","result":{…}}
//	{"op":"close"}                         → {"op":"closed"} (the fleet; the child stays)
//
// Any reply may carry "error" instead. The child ends when its stdin does. Lines of the
// child's stdout that are not JSON objects are skipped, so a test binary's own output
// (its final "PASS") does not disturb the parent.

type request struct {
	Op      string        `json:"op"`
	Config  *Config       `json:"config,omitempty"`
	Markers []string      `json:"markers,omitempty"`
	Timeout time.Duration `json:"timeout,omitempty"`
}

type reply struct {
	Op        string        `json:"op"`
	Error     string        `json:"error,omitempty"`
	Connected int           `json:"connected,omitempty"`
	Took      time.Duration `json:"took,omitempty"`
	Result    *Result       `json:"result,omitempty"`
}

// ServeChild runs the child side of the protocol on in and out until in ends or ctx is
// done. One fleet is open at a time.
func ServeChild(ctx context.Context, in io.Reader, out io.Writer) error {
	var fleet *Fleet
	defer func() {
		if fleet != nil {
			fleet.Close()
		}
	}()
	enc := json.NewEncoder(out)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var req request
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			return fmt.Errorf("loadgen child: bad request %q: %w", sc.Text(), err)
		}
		var rep reply
		switch req.Op {
		case "dial":
			if fleet != nil {
				rep = reply{Op: "dialed", Error: "a fleet is already open; close it first"}
				break
			}
			if req.Config == nil {
				rep = reply{Op: "dialed", Error: "dial needs a config"}
				break
			}
			start := time.Now()
			f, err := Dial(ctx, *req.Config)
			rep = reply{Op: "dialed", Took: time.Since(start)}
			if err != nil {
				rep.Error = err.Error()
				break
			}
			fleet, rep.Connected = f, f.Len()
		case "expect":
			if fleet == nil {
				rep = reply{Op: "armed", Error: "no fleet is open"}
				break
			}
			e := fleet.Expect(req.Markers...)
			if err := enc.Encode(reply{Op: "armed"}); err != nil {
				return err
			}
			r := e.Wait(ctx, req.Timeout)
			rep = reply{Op: "result", Result: &r}
		case "close":
			rep = reply{Op: "closed"}
			if fleet != nil {
				if err := fleet.Close(); err != nil {
					rep.Error = err.Error()
				}
				fleet = nil
			}
		default:
			rep = reply{Op: req.Op, Error: "unknown op " + req.Op}
		}
		if err := enc.Encode(rep); err != nil {
			return err
		}
	}
	return sc.Err()
}

// Child is the parent's handle on a child process that runs ServeChild.
type Child struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	replies chan reply
	exited  chan struct{}
}

// StartChild starts cmd, whose program must run ServeChild on its stdin and stdout. The
// child's stderr goes to the parent's unless cmd says otherwise.
func StartChild(cmd *exec.Cmd) (*Child, error) {
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("loadgen: start child: %w", err)
	}
	c := &Child{cmd: cmd, in: in, replies: make(chan reply, 4), exited: make(chan struct{})}
	go func() { // ends when the child's stdout does
		defer close(c.exited)
		defer close(c.replies)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 || line[0] != '{' {
				continue
			}
			var r reply
			if json.Unmarshal(line, &r) == nil {
				c.replies <- r
			}
		}
		io.Copy(io.Discard, out)
	}()
	return c, nil
}

func (c *Child) call(req request, timeout time.Duration) (reply, error) {
	if err := json.NewEncoder(c.in).Encode(req); err != nil {
		return reply{}, fmt.Errorf("loadgen: to child: %w", err)
	}
	return c.next(req.Op, timeout)
}

func (c *Child) next(op string, timeout time.Duration) (reply, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r, ok := <-c.replies:
		if !ok {
			return reply{}, fmt.Errorf("loadgen: child ended during %s", op)
		}
		if r.Error != "" {
			return r, fmt.Errorf("loadgen child: %s: %s", op, r.Error)
		}
		return r, nil
	case <-t.C:
		return reply{}, fmt.Errorf("loadgen: child did not answer %s within %v", op, timeout)
	}
}

// Dial has the child open a fleet; it returns the number of connections open.
func (c *Child) Dial(cfg Config) (int, error) {
	cfg.defaults()
	r, err := c.call(request{Op: "dial", Config: &cfg}, cfg.Timeout+10*time.Second)
	return r.Connected, err
}

// Expect arms the child's fleet for the frame with every one of markers and returns once
// it is armed; publish, then call Result.
func (c *Child) Expect(timeout time.Duration, markers ...string) error {
	_, err := c.call(request{Op: "expect", Markers: markers, Timeout: timeout}, 30*time.Second)
	return err
}

// Result waits for the result of the armed expectation: at most its timeout, plus a margin.
func (c *Child) Result(timeout time.Duration) (Result, error) {
	r, err := c.next("result", timeout+10*time.Second)
	if err != nil {
		return Result{}, err
	}
	if r.Result == nil {
		return Result{}, errors.New("loadgen: child sent a result without one")
	}
	return *r.Result, nil
}

// CloseFleet has the child close its fleet; the child keeps running.
func (c *Child) CloseFleet() error {
	_, err := c.call(request{Op: "close"}, 40*time.Second)
	return err
}

// Stop closes the child's stdin, which ends it, and waits at most 40 seconds before
// killing it.
func (c *Child) Stop() error {
	c.in.Close()
	select {
	case <-c.exited:
	case <-time.After(40 * time.Second):
		c.cmd.Process.Kill()
		<-c.exited
	}
	return c.cmd.Wait()
}

// Pid returns the child's process id.
func (c *Child) Pid() int { return c.cmd.Process.Pid }
