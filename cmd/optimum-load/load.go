package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum/internal/loadgen"
)

type options struct {
	base        string // the server's http(s) base URL
	token       string
	clients     int
	declares    int
	interval    time.Duration
	timeout     time.Duration
	concurrency int
	serverPID   int
	json        bool
	spread      []string // other nodes' base URLs: the clients are divided over -url and these
	rate        float64  // declarations a second, posted on a clock (open loop); 0: one at a time
	warmup      int      // declarations at the start of a -rate run left out of the figures
	readBuffer  int      // each client's read buffer, bytes
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("optimum-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.base, "url", "http://127.0.0.1:8080", "the server's base URL (loopback only)")
	fs.StringVar(&o.token, "token", "", "API token of any role (default $OPTIMUM_TOKEN)")
	fs.IntVar(&o.clients, "clients", 1000, "stream connections to open")
	fs.IntVar(&o.declares, "declares", 20, "incidents to declare, one at a time")
	fs.DurationVar(&o.interval, "interval", 200*time.Millisecond, "pause between one declaration reaching everyone and the next")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "how long a declaration may take to reach every connection")
	fs.IntVar(&o.concurrency, "concurrency", 64, "handshakes in flight while connecting")
	fs.IntVar(&o.serverPID, "server-pid", 0, "the server's process id, to report its memory per connection and CPU per delivery from /proc")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	fs.Float64Var(&o.rate, "rate", 0, "declarations a second, posted on a clock whatever the server does (open loop); 0 declares one at a time, each after the last reached everyone")
	fs.IntVar(&o.warmup, "warmup", 0, "with -rate: declarations at the start left out of the figures")
	fs.IntVar(&o.readBuffer, "read-buffer", 4096, "read buffer of each client connection, bytes")
	spreadRaw := fs.String("spread", "", "base URLs of other nodes of the same deployment, comma separated: the clients are divided evenly over -url and these; declarations go to -url")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: optimum-load -url http://127.0.0.1:PORT -token TOKEN [-clients N] [-declares N] [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.token == "" {
		o.token = getenv("OPTIMUM_TOKEN")
	}
	var problems []string
	if o.token == "" {
		problems = append(problems, "-token (or OPTIMUM_TOKEN) is required; create one with: optimum token create -name load -role reporter")
	}
	if o.clients < 1 || o.clients > 50000 {
		problems = append(problems, "-clients must be between 1 and 50000")
	}
	if o.declares < 1 || o.declares > 10000 {
		problems = append(problems, "-declares must be between 1 and 10000")
	}
	if o.rate < 0 || o.rate > 1000 || o.warmup < 0 || o.warmup >= o.declares {
		problems = append(problems, "-rate must be from 0 to 1000 a second, and -warmup below -declares")
	}
	if o.readBuffer < 256 || o.readBuffer > 1<<20 {
		problems = append(problems, "-read-buffer must be from 256 to 1048576 bytes")
	}
	if o.timeout <= 0 || o.interval < 0 {
		problems = append(problems, "-timeout must be positive and -interval not negative")
	}
	u, err := url.Parse(o.base)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		problems = append(problems, "-url must be an http:// or https:// base URL, e.g. http://127.0.0.1:8080")
	default:
		if err := loadgen.CheckLoopback(u.Hostname()); err != nil {
			problems = append(problems, err.Error())
		}
		o.base = strings.TrimRight(u.String(), "/")
	}
	var more []string
	o.spread, more = parseSpread(*spreadRaw)
	problems = append(problems, more...)
	if len(problems) > 0 {
		return o, errors.New(strings.Join(problems, "\n"))
	}
	return o, nil
}

// report is what one load run measured. Durations are in milliseconds in the JSON form.
type report struct {
	URL         string `json:"url"`
	Clients     int    `json:"clients"`
	Declares    int    `json:"declares"`
	ConnectedIn ms     `json:"connected_in_ms"`
	// Declare → the last connection has incident.declared, over declarations.
	Last percentiles `json:"last_ms"`
	// Declare → the HTTP response, over declarations.
	Response percentiles `json:"response_ms"`
	// Declare → each connection has it, over every delivery of every declaration.
	PerClient  percentiles `json:"per_client_ms"`
	Deliveries int         `json:"deliveries"`
	Missing    int         `json:"missing"`
	Lost       int         `json:"connections_lost"`
	// RateLimited counts the declarations the server refused with 429, retried after
	// RateLimitWait in all.
	RateLimited   int        `json:"rate_limited"`
	RateLimitWait ms         `json:"rate_limit_wait_ms"`
	Server        *serverUse `json:"server,omitempty"`
}

type percentiles struct {
	P50 ms `json:"p50"`
	P90 ms `json:"p90"`
	P99 ms `json:"p99"`
	Max ms `json:"max"`
}

func percentilesOf(d []time.Duration) percentiles {
	slices.Sort(d)
	p := func(q float64) ms { return ms(loadgen.Percentile(d, q)) }
	return percentiles{P50: p(50), P90: p(90), P99: p(99), Max: p(100)}
}

// serverUse is what /proc says of the server process.
type serverUse struct {
	PID int `json:"pid"`
	// RSSPerConnKiB is the growth of the server's resident memory from before the
	// connections opened to after, per connection. Go returns freed memory to the system
	// lazily, so this is an upper bound of what an idle connection costs.
	RSSPerConnKiB float64 `json:"rss_per_conn_kib"`
	// CPUPerDeliveryUS is the server's CPU time over the declarations, per delivery, to the
	// 10 ms of /proc's clock ticks; it includes the declarations themselves.
	CPUPerDeliveryUS float64 `json:"cpu_per_delivery_us"`
}

// ms is a duration written as fractional milliseconds.
type ms time.Duration

func (d ms) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, "%.3f", float64(d)/float64(time.Millisecond)), nil
}

func (d ms) String() string {
	if time.Duration(d) >= time.Second {
		return time.Duration(d).Round(time.Millisecond).String()
	}
	return time.Duration(d).Round(10 * time.Microsecond).String()
}

// openFleet reads the server's process figures first (with -server-pid), then opens the
// clients, every one holding its stream.ready: how load and loadAtRate both start.
func openFleet(ctx context.Context, o options, url string, progress io.Writer) (loadgen.ProcStat, spread, ms, error) {
	var before loadgen.ProcStat
	if o.serverPID != 0 {
		var err error
		if before, err = loadgen.ReadProc(o.serverPID); err != nil {
			return before, spread{}, 0, fmt.Errorf("-server-pid: %w", err)
		}
	}
	fmt.Fprintf(progress, "opening %d connections to %s …\n", o.clients, url)
	start := time.Now()
	fleet, err := dialSpread(ctx, append([]string{o.base}, o.spread...), o.token, o.clients, loadgen.Config{
		Ready: `"type":"stream.ready"`, Concurrency: o.concurrency, ReadBufferSize: o.readBuffer,
	})
	if err != nil {
		return before, fleet, 0, redact(err, o.token)
	}
	return before, fleet, ms(time.Since(start)), nil
}

func load(ctx context.Context, o options, progress io.Writer) (*report, error) {
	rep := &report{URL: o.base + "/api/v1/stream", Clients: o.clients, Declares: o.declares}
	for _, b := range o.spread {
		rep.URL += ", " + b + "/api/v1/stream"
	}

	before, fleet, connectedIn, err := openFleet(ctx, o, rep.URL, progress)
	if err != nil {
		return nil, err
	}
	defer fleet.Close()
	rep.ConnectedIn = connectedIn
	fmt.Fprintf(progress, "connected in %v; declaring %d incidents …\n", rep.ConnectedIn, o.declares)

	var idle loadgen.ProcStat
	if o.serverPID != 0 {
		if idle, err = loadgen.ReadProc(o.serverPID); err != nil {
			return nil, fmt.Errorf("-server-pid: %w", err)
		}
	}

	client := &http.Client{Timeout: o.timeout}
	run := rand.Text()[:8]
	var lasts, responses, perClient []time.Duration
	for i := range o.declares {
		if i > 0 && o.interval > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(o.interval):
			}
		}
		title := fmt.Sprintf("optimum-load %s #%d", run, i+1)
		quoted, _ := json.Marshal(title)
		e := fleet.Expect(`"type":"incident.declared"`, `"title":`+string(quoted))
		var (
			t0    time.Time
			id    string
			first = time.Now()
		)
		for {
			var wait time.Duration
			t0 = time.Now()
			if id, wait, err = declare(ctx, client, o, title); err == nil {
				break
			}
			if wait == 0 || time.Since(first)+wait > o.timeout {
				return nil, err
			}
			// Rate limited: wait as asked, within the declaration's time. The wait is not
			// part of any measurement; t0 is the start of the request that succeeds.
			rep.RateLimited++
			rep.RateLimitWait += ms(wait)
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(wait):
			}
		}
		responses = append(responses, time.Since(t0))
		r := e.Wait(ctx, o.timeout)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if r.Received > 0 {
			if got := incidentID(r.Sample); got != id {
				return nil, fmt.Errorf("declaration %d: the clients matched a frame of incident %q, but the server created %q", i+1, got, id)
			}
			lasts = append(lasts, time.Duration(r.Last-t0.UnixNano()))
		}
		for _, t := range e.Times() {
			if t > 0 {
				perClient = append(perClient, time.Duration(t-t0.UnixNano()))
			}
		}
		rep.Deliveries += r.Received
		rep.Missing += r.Missing
		if r.Missing > 0 {
			fmt.Fprintf(progress, "declaration %d: %d of %d connections did not get it within %v (%d lost)\n", i+1, r.Missing, r.Clients, o.timeout, r.Lost)
		}
	}
	rep.Lost = fleet.Lost()
	rep.Last, rep.Response, rep.PerClient = percentilesOf(lasts), percentilesOf(responses), percentilesOf(perClient)
	if o.serverPID != 0 {
		after, err := loadgen.ReadProc(o.serverPID)
		if err != nil {
			return nil, fmt.Errorf("-server-pid: %w", err)
		}
		rep.Server = &serverUse{
			PID:           o.serverPID,
			RSSPerConnKiB: float64(idle.RSS-before.RSS) / 1024 / float64(o.clients),
		}
		if rep.Deliveries > 0 {
			rep.Server.CPUPerDeliveryUS = float64((after.CPU - idle.CPU).Microseconds()) / float64(rep.Deliveries)
		}
	}
	return rep, nil
}

// redact keeps the token out of error messages, which may end up in logs.
func redact(err error, token string) error {
	msg := err.Error()
	for _, s := range []string{url.QueryEscape(token), token} {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "…")
		}
	}
	return errors.New(msg)
}

// declare posts one declaration and returns the new incident's id. When the server
// answers 429, it returns the wait it asks for (Retry-After, else 2 s) with the error.
func declare(ctx context.Context, client *http.Client, o options, title string) (string, time.Duration, error) {
	body, _ := json.Marshal(map[string]string{"title": title, "impact": "high", "urgency": "high"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.base+"/api/v1/incidents", bytes.NewReader(body))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Authorization", "Bearer "+o.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("declare: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", 0, fmt.Errorf("declare: %w", err)
	}
	if resp.StatusCode != http.StatusCreated {
		var wait time.Duration
		if resp.StatusCode == http.StatusTooManyRequests {
			wait = 2 * time.Second
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
				wait = time.Duration(s) * time.Second
			}
		}
		return "", wait, fmt.Errorf("declare: %s: %s", resp.Status, bytes.TrimSpace(data))
	}
	var inc struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(data, &inc); err != nil || inc.ID == "" {
		return "", 0, fmt.Errorf("declare: the response has no incident id: %.200s", data)
	}
	return inc.ID, 0, nil
}

// incidentID returns the incident id of an incident.* event frame, "" if it has none.
func incidentID(frame string) string {
	var e struct {
		Incident struct {
			ID string `json:"id"`
		} `json:"incident"`
	}
	if json.Unmarshal([]byte(frame), &e) != nil {
		return ""
	}
	return e.Incident.ID
}

func (r *report) writeJSON(w io.Writer) error { return r.writeJSONOf(w, r) }

func (*report) writeJSONOf(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (r *report) writeText(w io.Writer) {
	fmt.Fprintf(w, "%d connections to %s, opened in %v; %d declarations, one at a time\n", r.Clients, r.URL, r.ConnectedIn, r.Declares)
	fmt.Fprintf(w, "declare → last connection has it:  p50 %v  p99 %v  max %v\n", r.Last.P50, r.Last.P99, r.Last.Max)
	fmt.Fprintf(w, "declare → HTTP response:           p50 %v  p99 %v  max %v\n", r.Response.P50, r.Response.P99, r.Response.Max)
	fmt.Fprintf(w, "declare → each connection has it:  p50 %v  p90 %v  p99 %v  max %v  (%d deliveries)\n", r.PerClient.P50, r.PerClient.P90, r.PerClient.P99, r.PerClient.Max, r.Deliveries)
	fmt.Fprintf(w, "missing deliveries %d, connections lost %d\n", r.Missing, r.Lost)
	if r.RateLimited > 0 {
		fmt.Fprintf(w, "rate limited %d times (waited %v in all, not measured); raise the server's limits.declare_per_* for load runs\n", r.RateLimited, r.RateLimitWait)
	}
	if r.Server != nil {
		fmt.Fprintf(w, "server (pid %d): %.1f KiB RSS per idle connection (growth, an upper bound); %.1f µs CPU per delivery\n", r.Server.PID, r.Server.RSSPerConnKiB, r.Server.CPUPerDeliveryUS)
	}
}
