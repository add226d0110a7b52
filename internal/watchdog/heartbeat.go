package watchdog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Heartbeat calls an outside URL on a fixed interval, the way dead-man-switch services
// (healthchecks.io, Cronitor, Uptime Kuma's push monitors) expect: when the calls stop, the
// service alerts someone, so a node that died, hangs or is cut off from the network is
// noticed from outside, where nothing of the node itself can help.
type Heartbeat struct {
	URL      string
	Method   string        // GET (default) or POST
	Interval time.Duration // default 1 minute
	Timeout  time.Duration // default 10 s
	// Client makes the calls; nil is a plain client.
	Client *http.Client
	// Observe is told each call's result (the metric); Logger gets the failures.
	Observe func(ok bool)
	Logger  *slog.Logger
}

// Run beats once at once, then every Interval, until ctx is done.
func (h Heartbeat) Run(ctx context.Context) error {
	if h.Interval <= 0 {
		h.Interval = time.Minute
	}
	if h.Logger == nil {
		h.Logger = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(h.Interval)
	defer t.Stop()
	for {
		err := h.Beat(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if h.Observe != nil {
			h.Observe(err == nil)
		}
		if err != nil {
			h.Logger.Error("heartbeat: the outside monitor was not told this node is alive", "url", redact(h.URL), "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Beat makes one call; any answer but 2xx is an error.
func (h Heartbeat) Beat(ctx context.Context) error {
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	method := strings.ToUpper(h.Method)
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, h.URL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "optimum-heartbeat")
	client := h.Client
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			return fmt.Errorf("%s: %w", ue.Op, ue.Err) // without the URL and its token
		}
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("answered %s", res.Status)
	}
	return nil
}

// redact keeps a URL's scheme, host and path, hiding its query (such URLs often carry a
// secret token) from the logs.
func redact(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}
