package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/optimum-bcp/optimum/canary"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/httpapi"
	"github.com/optimum-bcp/optimum/internal/metrics"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/watchdog"
)

// startAlive starts what makes the node prove it is alive: the watchdog of late work (in
// /readyz, the metrics and the log), and the heartbeat to an outside monitor when one is
// configured. Its goroutines stop with ctx, under wg.
func startAlive(ctx context.Context, wg *sync.WaitGroup, cfg config.Config, db *store.DB, srv *httpapi.Server, mtr *metrics.Metrics,
	channels []string, log *slog.Logger) *watchdog.Watchdog {
	dog := watchdog.New(db, watchdog.Options{
		Limits: store.OverdueLimits{
			Grace:   2*tickInterval(cfg.Escalation.Tick) + time.Duration(cfg.Escalation.Lease),
			Queued:  time.Duration(cfg.Watchdog.Queued),
			Stalled: time.Duration(cfg.Watchdog.Stalled),
		},
		Interval: time.Duration(cfg.Watchdog.Interval), LogEvery: time.Duration(cfg.Watchdog.LogEvery),
		Now: clock, Logger: log,
	})
	srv.Concerns = append(srv.Concerns, httpapi.Concern{Name: "work", Reasons: dog.Concerns})
	mtr.WatchOverdue(dog.Look)
	wg.Go(func() { _ = dog.Run(ctx) })
	if cfg.Heartbeat.URL != "" {
		hb := watchdog.Heartbeat{URL: cfg.Heartbeat.URL, Method: cfg.Heartbeat.Method, Interval: time.Duration(cfg.Heartbeat.Interval),
			Timeout: time.Duration(cfg.Heartbeat.Timeout), Observe: mtr.HeartbeatObserver(), Logger: log}
		wg.Go(func() { _ = hb.Run(ctx) })
	}
	startCanary(ctx, wg, cfg, db, srv, mtr, channels, log)
	return dog
}

// startCanary starts the scheduled end-to-end test alert when configured, and always
// shows its runs (GET /api/v1/canary, the metrics, /readyz while the last one failed).
func startCanary(ctx context.Context, wg *sync.WaitGroup, cfg config.Config, db *store.DB, srv *httpapi.Server, mtr *metrics.Metrics,
	channels []string, log *slog.Logger) {
	runs := db.Canary()
	srv.Canary = &httpapi.Canary{Runs: runs.Runs, Schedule: cfg.Canary.Schedule, Channels: cfg.Canary.Channels,
		Team: cfg.Canary.Team, Person: cfg.Canary.Person}
	mtr.WatchCanary(runs)
	srv.Concerns = append(srv.Concerns, httpapi.Concern{Name: "canary", Reasons: func(ctx context.Context) []string {
		last, err := runs.Runs(ctx, 5)
		if err != nil {
			return nil
		}
		for _, r := range last {
			switch r.Status {
			case canary.StatusFailed:
				return []string{"the last canary (end-to-end test alert) failed at " + r.StartedAt.Format(time.RFC3339)}
			case canary.StatusPassed:
				return nil
			}
		}
		return nil
	}})
	if cfg.Canary.Schedule == "" {
		return
	}
	if cfg.Canary.Person != "" {
		if _, err := db.Contacts().Person(ctx, cfg.Canary.Person); err != nil {
			log.Warn("canary: canary.person is not in the directory yet; each canary fails until it is", "person", cfg.Canary.Person)
		}
	}
	c, err := canary.New(runs, srv.Incidents, srv.Desk, canary.Options{
		Schedule: cfg.Canary.Schedule, Location: cfg.Location(), Person: cfg.Canary.Person, Team: cfg.Canary.Team,
		Channels: cfg.Canary.Channels, Timeout: time.Duration(cfg.Canary.Timeout), PageTeam: cfg.Canary.PageTeam,
		Available: channels, Owner: nodeName(), Now: clock, Logger: log,
	})
	if err != nil { // Validate checked the spec
		log.Error("canary", "err", err)
		return
	}
	srv.Canary.Trigger = c.Trigger
	wg.Go(func() { _ = c.Run(ctx) })
}

// tickInterval is the time between two firings of the escalation engine's cron spec
// (validated already); 1 s if it cannot be read.
func tickInterval(spec string) time.Duration {
	p := cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	s, err := p.Parse(spec)
	if err != nil {
		return time.Second
	}
	first := s.Next(time.Now())
	if d := s.Next(first).Sub(first); d > 0 {
		return d
	}
	return time.Second
}

// parked lists the events the consumers of the event log gave up on, or dismisses one
// an operator has dealt with (it then no longer degrades /readyz):
//
//	optimum parked
//	optimum parked dismiss CONSUMER EVENT_ID
func parked(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	const use = "usage: optimum parked [dismiss CONSUMER EVENT_ID]"
	if len(args) != 0 && (len(args) != 3 || args[0] != "dismiss") {
		return errors.New(use)
	}
	var id int64
	if len(args) == 3 {
		var err error
		if id, err = strconv.ParseInt(args[2], 10, 64); err != nil || id <= 0 {
			return fmt.Errorf("event id %q is not a positive whole number\n%s", args[2], use)
		}
	}
	_, db, err := openConfigured(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	if len(args) == 3 {
		if err := db.DismissParked(ctx, args[1], id, time.Now()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "dismissed event %d of %s\n", id, args[1])
		return nil
	}
	list, err := db.ParkedEvents(ctx)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "no parked events")
		return nil
	}
	for _, p := range list {
		fmt.Fprintf(stdout, "%s\t%d\t%s\tincident=%s\tattempts=%d\tparked=%s\t%s\n", p.Consumer, p.EventID, p.EventType,
			p.IncidentID, p.Attempts, p.ParkedAt.Format(time.RFC3339), p.Reason)
	}
	return nil
}
