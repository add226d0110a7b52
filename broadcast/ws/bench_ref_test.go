package ws_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/internal/loadgen"
)

// reference is a bare loop in a process of its own, with its own client process, kept
// beside the hub for the whole benchmark. The hub sub-benchmark pairs every hub event with
// a reference event published just before or after it, so the two meet the same machine:
// on a shared machine, another process's burst otherwise lands on one side of a
// sequential comparison only. It runs out of this process because a second set of
// 10,000 connections would not fit in its file descriptors, and so that it does not
// count in the hub's CPU and memory.
type reference struct {
	server  *exec.Cmd
	in      io.WriteCloser
	lines   chan string
	clients *loadgen.Child
}

func startReference(b *testing.B, n int) *reference {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchHelperProcess$", "-test.timeout=30m")
	cmd.Env = append(os.Environ(), helperEnv+"=bare-server")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	ref := &reference{server: cmd, in: in, lines: make(chan string, 4)}
	go func() { // ends with the process's stdout
		defer close(ref.lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "{") {
				ref.lines <- line
			}
		}
		io.Copy(io.Discard, out)
	}()
	b.Cleanup(func() {
		in.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	var hello struct{ URL string }
	ref.read(b, &hello)
	ref.clients = startClientProcess(b)
	if _, err := ref.clients.Dial(loadgen.Config{URL: hello.URL, Clients: n, Ready: `"type":"stream.ready"`}); err != nil {
		b.Fatal(err)
	}
	return ref
}

func (r *reference) read(b *testing.B, v any) {
	b.Helper()
	select {
	case line, ok := <-r.lines:
		if !ok {
			b.Fatal("reference server ended")
		}
		if err := json.Unmarshal([]byte(line), v); err != nil {
			b.Fatalf("reference server: %v in %q", err, line)
		}
	case <-time.After(30 * time.Second):
		b.Fatal("reference server did not answer within 30 s")
	}
}

// event publishes frame with title in place of its own and returns publish → last client.
func (r *reference) event(b *testing.B, frame, title string) time.Duration {
	b.Helper()
	data, ok := withTitle(frame, title)
	if !ok {
		b.Fatalf("reference: no title in frame %.200s", frame)
	}
	if err := r.clients.Expect(eventTimeout, `"type":"incident.declared"`, `"title":"`+title+`"`); err != nil {
		b.Fatal(err)
	}
	if err := json.NewEncoder(r.in).Encode(map[string]string{"frame": data}); err != nil {
		b.Fatal(err)
	}
	var sent struct{ T0 int64 }
	r.read(b, &sent)
	res, err := r.clients.Result(eventTimeout)
	if err != nil {
		b.Fatal(err)
	}
	if res.Missing > 0 {
		b.Fatalf("reference: %d of %d clients did not get the event within %v", res.Missing, res.Clients, eventTimeout)
	}
	return time.Duration(res.Last - sent.T0)
}

// pids returns the reference's two processes.
func (r *reference) pids() []int { return []int{r.server.Process.Pid, r.clients.Pid()} }

// serveBareProcess is the reference server's side: it prints {"url":…}, then broadcasts
// each {"frame":…} it reads and answers {"t0":…}, the time the broadcast began.
func serveBareProcess(in io.Reader, out io.Writer) error {
	s := &bareServer{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer func() { srv.Close(); s.close() }()
	enc := json.NewEncoder(out)
	if err := enc.Encode(map[string]string{"url": "http://" + ln.Addr().String() + "/"}); err != nil {
		return err
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var req struct{ Frame string }
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			return fmt.Errorf("bad request %q: %w", sc.Text(), err)
		}
		t0 := time.Now().UnixNano()
		if err := s.broadcast([]byte(req.Frame)); err != nil {
			return err
		}
		if err := enc.Encode(map[string]int64{"t0": t0}); err != nil {
			return err
		}
	}
	return sc.Err()
}

// withTitle returns frame with the value of its first "title" replaced.
func withTitle(frame, title string) (string, bool) {
	const key = `"title":"`
	before, rest, ok := strings.Cut(frame, key)
	if !ok {
		return "", false
	}
	_, after, ok := strings.Cut(rest, `"`)
	return before + key + title + `"` + after, ok
}
