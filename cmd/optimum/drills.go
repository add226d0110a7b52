package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/drill"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store"
)

// newDrills returns the drill service: runs declare through the incident service, stop
// through the escalation engine, and schedules read the configured time zone.
func newDrills(cfg config.Config, db *store.DB, incidents *incident.Service, dir *contacts.Directory,
	engine *escalation.Engine, ladders *escalation.Ladders, log *slog.Logger) *drill.Service {
	return drill.NewService(db.Drills(), incidents, dir, engine, drill.Options{
		Location: cfg.Location(), Owner: nodeName(), Logger: log, Now: clock,
		MinInterval: time.Duration(cfg.Drills.MinInterval),
		Ladder:      func(ctx context.Context, id string) error { _, err := ladders.Get(ctx, id); return err },
	})
}

// tickDrills fires scheduled drills and ends those whose window closed, on the escalation
// engine's cron spec, until ctx is done.
func tickDrills(ctx context.Context, cfg config.Config, drills *drill.Service, log *slog.Logger) error {
	return escalation.Schedule(ctx, cfg.Escalation.Tick, cfg.Location(), log, func(ctx context.Context) {
		if _, err := drills.Tick(ctx, clock()); err != nil && ctx.Err() == nil {
			log.Error("drill tick", "err", err)
		}
	})
}
