package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store"
)

// clock is the server's time. Tests move it forward to run a ladder without waiting;
// everything that schedules (incidents' SLA, the escalation engine, the dispatcher's due
// times) reads it. It is this node's clock corrected to the database's when nodes share
// PostgreSQL (clock.go).
var clock = nodeNow

// newEscalation stores the configured ladders (refusing a bad one with every problem)
// and returns the ladder service and the engine.
func newEscalation(ctx context.Context, cfg config.Config, db *store.DB, templates *escalation.Templates, ids <-chan int64,
	dispatcher *broadcast.Dispatcher, public string, channels []string, log *slog.Logger) (*escalation.Ladders, *escalation.Engine, error) {
	ladders := escalation.NewLadders(db.Escalation(), clock)
	if err := ladders.Seed(ctx, cfg.Escalation.Ladders); err != nil {
		return nil, nil, fmt.Errorf("escalation ladders: %w", err)
	}
	engine := escalation.New(db.Escalation(), templates, ids, escalation.Options{
		PublicURL: public, Channels: channels,
		RetryFor: time.Duration(cfg.Delivery.RetryFor), Wake: dispatcher.Wake, Logger: log,
		Owner: nodeName(), Lease: time.Duration(cfg.Escalation.Lease), SLATeam: cfg.Escalation.SLATeam,
		SLAJump: cfg.Escalation.SLAJump, DirectorsTeam: cfg.Escalation.DirectorsTeam, Now: clock,
		SMSNoLinkCountries: cfg.SMS.NoLinkCountries, // sms2: Mexico's carriers block links
		ChannelGap:         channelGap(cfg.Escalation.ChannelGap),
	})
	return ladders, engine, nil
}

// tickEscalation runs the engine's Tick on the configured cron spec until ctx is done,
// telling observe (the metrics) how long each tick took.
func tickEscalation(ctx context.Context, cfg config.Config, engine *escalation.Engine, log *slog.Logger, observe func(time.Duration)) error {
	return escalation.Schedule(ctx, cfg.Escalation.Tick, cfg.Location(), log, func(ctx context.Context) {
		start := time.Now()
		if _, err := engine.Tick(ctx, clock()); err != nil && ctx.Err() == nil {
			log.Error("escalation tick", "err", err)
		}
		observe(time.Since(start))
	})
}

// channelGap is the configured gap between a person's channels for the engine, whose
// zero means its default: a configured 0 (all at once) is passed as negative.
func channelGap(d config.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return time.Duration(d)
}
