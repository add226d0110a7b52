package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/chat"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/httpapi"
	"github.com/optimum-bcp/optimum/internal/store"
)

// startChat starts the posts to team chats and outbound webhooks (issue 17): a consumer
// of the event log queues them, in the transaction that advances its cursor, and a
// dispatcher of their own sends them under leases, with retries, so a post is never lost
// and, after a crash mid-send, sent again with the same webhook-id. Every request goes
// through the outbound guard. Its goroutines stop with ctx, under wg.
func startChat(ctx context.Context, wg *sync.WaitGroup, cfg config.Config, db *store.DB, srv *httpapi.Server,
	bus broadcast.Bus, publicURL string, observe func(channel string, ok bool, took time.Duration), log *slog.Logger) {
	posts := db.Chat()
	posts.RetryFor = time.Duration(cfg.Chat.RetryFor)
	srv.Chat = posts
	srv.Concerns = append(srv.Concerns, httpapi.ChatConcern(posts))
	client := chat.Client(cfg.OutboundGuard())
	dispatcher := broadcast.NewDispatcher(posts, map[string]broadcast.Sender{
		chat.ChannelTeams:   chat.NewTeams(posts, client),
		chat.ChannelSlack:   chat.NewSlack(posts, client, cfg.Chat.SlackAPIURL),
		chat.ChannelWebhook: chat.NewWebhook(posts, client, nil),
	}, broadcast.DispatcherOptions{
		Concurrency: 4, Owner: nodeName() + "/chat", Logger: log, Now: clock, Rates: cfg.Chat.Rates,
		Lease: time.Duration(cfg.Delivery.Lease), MinBackoff: 5 * time.Second, MaxBackoff: 10 * time.Minute,
		Observe: observe, // optimum_provider_request_seconds{channel="teams", "slack" or "webhook"}
	})
	ids, stop := bus.Subscribe()
	consumer := incident.NewChat(posts, ids, incident.ChatOptions{
		PublicURL: publicURL, Location: cfg.IncidentPolicy().Location, Wake: dispatcher.Wake, Logger: log,
	})
	wg.Go(func() { _ = dispatcher.Run(ctx) })
	wg.Go(func() {
		defer stop()
		_ = consumer.Run(ctx)
	})
}
