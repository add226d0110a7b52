// Package watchdog checks, in every node, that the work the system promised is being
// done: escalation steps and reminders fire when due, deliveries leave the queue, the
// consumers of the event log keep up, and no event was given up on unseen. What is late
// is counted in /readyz (degraded, with the reason, still serving), in the optimum_overdue_*
// gauges and in an error log line repeated while it lasts.
package watchdog

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/optimum-bcp/optimum/internal/store"
)

// Source reads the late work; *store.DB implements it.
type Source interface {
	Overdue(ctx context.Context, now time.Time, lim store.OverdueLimits) (store.Overdue, error)
}

// Options configure a Watchdog.
type Options struct {
	Limits store.OverdueLimits
	// Interval is how often Run looks (default 15 s); LogEvery how often the error line is
	// repeated while something is late (default 1 minute).
	Interval time.Duration
	LogEvery time.Duration
	Now      func() time.Time
	Logger   *slog.Logger
}

// Watchdog keeps the last look at the late work.
type Watchdog struct {
	src Source
	opt Options

	mu     sync.Mutex
	last   store.Overdue
	logged time.Time // when the error line was last written; zero while all is well
}

// New returns a watchdog over src.
func New(src Source, opt Options) *Watchdog {
	if opt.Interval <= 0 {
		opt.Interval = 15 * time.Second
	}
	if opt.LogEvery <= 0 {
		opt.LogEvery = time.Minute
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Watchdog{src: src, opt: opt}
}

// Run looks every Interval until ctx is done.
func (w *Watchdog) Run(ctx context.Context) error {
	t := time.NewTicker(w.opt.Interval)
	defer t.Stop()
	for {
		if _, err := w.Check(ctx); err != nil && ctx.Err() == nil {
			w.opt.Logger.Warn("watchdog: reading the late work", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Check looks once, at the clock's now, keeps what it found for Reasons and Last, and
// writes the error line when something is late and the last line is LogEvery old.
func (w *Watchdog) Check(ctx context.Context) (store.Overdue, error) {
	now := w.opt.Now()
	o, err := w.src.Overdue(ctx, now, w.opt.Limits)
	if err != nil {
		return o, err
	}
	reasons := Reasons(o)
	w.mu.Lock()
	w.last = o
	write := len(reasons) > 0 && (w.logged.IsZero() || now.Sub(w.logged) >= w.opt.LogEvery)
	recovered := len(reasons) == 0 && !w.logged.IsZero()
	if write {
		w.logged = now
	}
	if recovered {
		w.logged = time.Time{}
	}
	w.mu.Unlock()
	if write {
		w.opt.Logger.Error("watchdog: promised work is late", "steps", o.Steps, "reminders", o.Reminders,
			"deliveries", o.Deliveries, "stalled_consumers", len(o.Stalled), "parked_events", len(o.Parked), "reasons", reasons)
	}
	if recovered {
		w.opt.Logger.Info("watchdog: nothing is late any more")
	}
	return o, nil
}

// Look reads the late work now, without keeping it or logging (for the metrics).
func (w *Watchdog) Look(ctx context.Context) (store.Overdue, error) {
	return w.src.Overdue(ctx, w.opt.Now(), w.opt.Limits)
}

// Last returns the last look (zero before the first).
func (w *Watchdog) Last() store.Overdue {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

// Concerns are the reasons of a fresh look, for /readyz. They name what is late and how
// much, never incident contents: the endpoint is public. A look that fails reports
// nothing here (the database check of /readyz reports it).
func (w *Watchdog) Concerns(ctx context.Context) []string {
	o, err := w.src.Overdue(ctx, w.opt.Now(), w.opt.Limits)
	if err != nil {
		return nil
	}
	return Reasons(o)
}

// Reasons says in words what o counts, one line per kind of late work.
func Reasons(o store.Overdue) []string {
	var out []string
	if o.Steps > 0 {
		out = append(out, fmt.Sprintf("%d escalation steps overdue", o.Steps))
	}
	if o.Reminders > 0 {
		out = append(out, fmt.Sprintf("%d reminders overdue", o.Reminders))
	}
	if o.Deliveries > 0 {
		out = append(out, fmt.Sprintf("%d deliveries queued past their time", o.Deliveries))
	}
	for _, s := range o.Stalled {
		r := fmt.Sprintf("consumer %s stalled at event %d with %d events waiting", s.Consumer, s.Cursor, s.Pending)
		if s.Attempts > 0 {
			r += fmt.Sprintf(" (next event failed %d times)", s.Attempts)
		}
		out = append(out, r)
	}
	for _, p := range o.Parked {
		out = append(out, fmt.Sprintf("consumer %s parked event %d (%s) after %d attempts", p.Consumer, p.EventID, p.EventType, p.Attempts))
	}
	return out
}
