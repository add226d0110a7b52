package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/optimum-bcp/optimum/internal/store"
)

// Nodes that share a PostgreSQL database schedule by the database's clock: each measures
// how far its own clock is from the database's and corrects by that, at start and every
// 30 s. Without it, a node whose clock runs two minutes ahead would fire every ladder
// step and reminder two minutes early, and take over other nodes' leases before they
// expire. On SQLite there is one node, and its clock is the only one.

var (
	// clockOffset is the database's clock minus this node's, in nanoseconds.
	clockOffset atomic.Int64
	// clockSkew shifts this node's own clock, for tests only (OPTIMUM_TEST_CLOCK_SKEW,
	// e.g. "2m"): it stands for a machine whose system clock is wrong. Never set it in
	// production.
	clockSkew atomic.Int64
)

// clockResync is how often a node measures its clock against the database's again.
const clockResync = 30 * time.Second

// systemNow is this node's own clock (skewed in tests).
func systemNow() time.Time { return time.Now().Add(time.Duration(clockSkew.Load())) }

// nodeNow is the time schedules use: this node's clock corrected to the database's.
func nodeNow() time.Time { return systemNow().Add(time.Duration(clockOffset.Load())) }

// syncClock reads the test-only skew and measures the offset to the database's clock
// once, before anything schedules.
func syncClock(ctx context.Context, db *store.DB, getenv func(string) string, log *slog.Logger) error {
	if s := getenv("OPTIMUM_TEST_CLOCK_SKEW"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("OPTIMUM_TEST_CLOCK_SKEW: %w", err)
		}
		clockSkew.Store(int64(d))
		log.Warn("test only: this node's clock is shifted", "skew", d)
	}
	if _, err := measureClock(ctx, db, log); err != nil {
		log.Warn("clock: could not read the database's time; using this node's clock until it can", "err", err)
	}
	return nil
}

// keepClockInSync measures the offset again every clockResync until ctx is done. A
// failed measurement (the database down) keeps the last offset.
func keepClockInSync(ctx context.Context, db *store.DB, log *slog.Logger) {
	t := time.NewTicker(clockResync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := measureClock(ctx, db, log); err != nil && ctx.Err() == nil {
			log.Debug("clock: could not read the database's time", "err", err)
		}
	}
}

// measureClock sets clockOffset from the best of three readings of the database's clock
// (the one with the shortest round trip, taken at its midpoint).
func measureClock(ctx context.Context, db *store.DB, log *slog.Logger) (bool, error) {
	var (
		best    time.Duration = -1
		offset  time.Duration
		lastErr error
	)
	for range 3 {
		before := systemNow()
		dbNow, ok, err := db.DatabaseTime(ctx)
		if !ok {
			return false, nil
		}
		if err != nil {
			lastErr = err
			continue
		}
		after := systemNow()
		rtt := after.Sub(before)
		if best < 0 || rtt < best {
			best, offset = rtt, dbNow.Sub(before.Add(rtt/2))
		}
	}
	if best < 0 {
		return true, fmt.Errorf("clock: %w", lastErr)
	}
	prev := time.Duration(clockOffset.Swap(int64(offset)))
	if (offset > time.Second || offset < -time.Second) && (prev-offset > time.Second || offset-prev > time.Second) {
		log.Warn("clock: this node's clock differs from the database's; schedules use the database's time (fix the node's NTP)", "offset", offset.Round(time.Millisecond))
	}
	return true, nil
}
