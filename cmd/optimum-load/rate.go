package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/optimum-bcp/optimum/internal/loadgen"
)

// rateReport is what a -rate run measured. Durations are in milliseconds in the JSON form.
type rateReport struct {
	URL         string  `json:"url"`
	Clients     int     `json:"clients"`
	Rate        float64 `json:"rate_per_s"`
	Declares    int     `json:"declares"`
	Warmup      int     `json:"warmup"`
	ConnectedIn ms      `json:"connected_in_ms"`
	// Over the declarations after the warm-up that the server accepted: from the start of
	// the POST to the last connection holding its incident.declared, and to the answer.
	Last     percentiles `json:"last_ms"`
	Response percentiles `json:"response_ms"`
	// Deliveries counts incident.declared frames received for those declarations;
	// DeliveriesPerSec divides them by the time from the first POST to the last receipt.
	Deliveries       int     `json:"deliveries"`
	DeliveriesPerSec float64 `json:"deliveries_per_s"`
	Missing          int     `json:"missing"`
	// PublishErrors counts declarations not answered 201 (429s included, also counted
	// apart), over the whole run; the first error is kept.
	PublishErrors int        `json:"publish_errors"`
	RateLimited   int        `json:"rate_limited"`
	FirstError    string     `json:"first_error,omitempty"`
	Lost          int        `json:"connections_lost"`
	Late          int        `json:"late_posts"` // POSTs started more than 10 ms after their tick: the load side fell behind
	Server        *serverUse `json:"server,omitempty"`
	// WritesPerDelivery is the server's write syscalls during the declarations per
	// delivery (from /proc/<pid>/io; 0 when unreadable).
	WritesPerDelivery float64 `json:"writes_per_delivery,omitempty"`
}

// declaration is one POST of a -rate run and what the clients saw of it.
type declaration struct {
	start    int64 // Unix ns when the POST began
	took     time.Duration
	status   int
	received atomic.Int64
	last     atomic.Int64 // Unix ns of the latest receipt
}

// loadAtRate opens the clients, then posts o.declares declarations at o.rate a second on
// a clock, each in its own goroutine whatever the server does, and counts, for each, when
// every client holds its incident.declared (recognised by a numbered title).
func loadAtRate(ctx context.Context, o options, progress io.Writer) (*rateReport, error) {
	rep := &rateReport{URL: o.base + "/api/v1/stream", Clients: o.clients, Rate: o.rate, Declares: o.declares, Warmup: o.warmup}
	before, fleet, connectedIn, err := openFleet(ctx, o, rep.URL, progress)
	if err != nil {
		return nil, err
	}
	defer fleet.Close()
	rep.ConnectedIn = connectedIn

	run := rand.Text()[:8]
	prefix := []byte("optimum-load " + run + " #")
	declared := []byte(`"type":"incident.declared"`)
	decls := make([]declaration, o.declares)
	var got atomic.Int64
	watch := func(_ int, frame []byte, at int64) {
		if !bytes.Contains(frame, declared) {
			return
		}
		i := bytes.Index(frame, prefix)
		if i < 0 {
			return
		}
		rest := frame[i+len(prefix):]
		end := 0
		for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
			end++
		}
		n, err := strconv.Atoi(string(rest[:end]))
		if err != nil || n < 1 || n > len(decls) {
			return
		}
		d := &decls[n-1]
		d.received.Add(1)
		for {
			l := d.last.Load()
			if at <= l || d.last.CompareAndSwap(l, at) {
				break
			}
		}
		got.Add(1)
	}
	for _, f := range fleet {
		f.Watch(watch)
	}

	var idle loadgen.ProcStat
	if o.serverPID != 0 {
		// Let the connections settle before the idle reading.
		time.Sleep(time.Second)
		if idle, err = loadgen.ReadProc(o.serverPID); err != nil {
			return nil, fmt.Errorf("-server-pid: %w", err)
		}
	}
	fmt.Fprintf(progress, "connected in %v; declaring %d incidents at %g a second …\n", rep.ConnectedIn, o.declares, o.rate)

	client := &http.Client{Timeout: o.timeout, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	var (
		wg      sync.WaitGroup
		errMu   sync.Mutex
		late    atomic.Int64
		period  = time.Duration(float64(time.Second) / o.rate)
		t0      = time.Now()
		stopped bool
	)
	for i := range decls {
		tick := t0.Add(time.Duration(i) * period)
		select {
		case <-ctx.Done():
			stopped = true
		case <-time.After(time.Until(tick)):
		}
		if stopped {
			break
		}
		if time.Since(tick) > 10*time.Millisecond {
			late.Add(1)
		}
		wg.Go(func() {
			d := &decls[i]
			d.start = time.Now().UnixNano()
			_, wait, err := declare(ctx, client, o, fmt.Sprintf("optimum-load %s #%d", run, i+1))
			d.took = time.Since(time.Unix(0, d.start))
			d.status = 201
			if err != nil {
				d.status = -1
				if wait > 0 {
					d.status = http.StatusTooManyRequests
				}
				errMu.Lock()
				if rep.FirstError == "" {
					rep.FirstError = redact(err, o.token).Error()
				}
				errMu.Unlock()
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	// Every accepted declaration reaches every client, or the timeout passes.
	want := 0
	for i := range decls {
		if decls[i].status == 201 {
			want += o.clients
		}
	}
	deadline := time.Now().Add(o.timeout)
	for int(got.Load()) < want && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	for _, f := range fleet {
		f.Watch(nil)
	}
	rep.Late = int(late.Load())
	rep.Lost = fleet.Lost()

	var lasts, responses []time.Duration
	var first, end int64
	for i := range decls {
		d := &decls[i]
		if d.status != 201 {
			rep.PublishErrors++
			if d.status == http.StatusTooManyRequests {
				rep.RateLimited++
			}
			continue
		}
		if i < o.warmup {
			continue
		}
		responses = append(responses, d.took)
		n := int(d.received.Load())
		rep.Deliveries += n
		rep.Missing += o.clients - n
		if n > 0 {
			lasts = append(lasts, time.Duration(d.last.Load()-d.start))
			end = max(end, d.last.Load())
		}
		if first == 0 {
			first = d.start
		}
	}
	rep.Last, rep.Response = percentilesOf(lasts), percentilesOf(responses)
	if end > first {
		rep.DeliveriesPerSec = float64(rep.Deliveries) / (float64(end-first) / float64(time.Second))
	}
	if o.serverPID != 0 {
		after, err := loadgen.ReadProc(o.serverPID)
		if err != nil {
			return nil, fmt.Errorf("-server-pid: %w", err)
		}
		rep.Server = &serverUse{PID: o.serverPID, RSSPerConnKiB: float64(idle.RSS-before.RSS) / 1024 / float64(o.clients)}
		if rep.Deliveries > 0 {
			rep.Server.CPUPerDeliveryUS = float64((after.CPU - idle.CPU).Microseconds()) / float64(rep.Deliveries)
			if after.Writes > 0 {
				rep.WritesPerDelivery = float64(after.Writes-idle.Writes) / float64(rep.Deliveries)
			}
		}
	}
	return rep, nil
}

func (r *rateReport) writeJSON(w io.Writer) error { return (&report{}).writeJSONOf(w, r) }

func (r *rateReport) writeText(w io.Writer) {
	fmt.Fprintf(w, "%d connections to %s, opened in %v; %d declarations at %g a second (%d of warm-up left out)\n", r.Clients, r.URL, r.ConnectedIn, r.Declares, r.Rate, r.Warmup)
	fmt.Fprintf(w, "declare → last connection has it:  p50 %v  p99 %v  max %v\n", r.Last.P50, r.Last.P99, r.Last.Max)
	fmt.Fprintf(w, "declare → HTTP response:           p50 %v  p99 %v  max %v\n", r.Response.P50, r.Response.P99, r.Response.Max)
	fmt.Fprintf(w, "incident.declared deliveries: %d, %.0f a second; missing %d; connections lost %d\n", r.Deliveries, r.DeliveriesPerSec, r.Missing, r.Lost)
	fmt.Fprintf(w, "publish errors %d (first: %s); POSTs late on their tick %d\n", r.PublishErrors, orNone(r.FirstError), r.Late)
	if r.Server != nil {
		fmt.Fprintf(w, "server (pid %d): %.1f KiB RSS per idle connection (growth, an upper bound); %.1f µs CPU per delivery; %.2f write syscalls per delivery\n",
			r.Server.PID, r.Server.RSSPerConnKiB, r.Server.CPUPerDeliveryUS, r.WritesPerDelivery)
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
