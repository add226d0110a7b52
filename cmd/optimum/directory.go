package main

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/dirsync"
	"github.com/optimum-bcp/optimum/internal/httpapi"
	"github.com/optimum-bcp/optimum/internal/scim"
	"github.com/optimum-bcp/optimum/internal/store"
)

// startDirectory wires what keeps the directory current: SCIM provisioning at /scim/v2,
// and, when configured, the scheduled replace import from a CSV at an HTTPS URL, whose
// refusals and failures page the directory_sync.page_team on every available channel and
// show on /readyz.
func startDirectory(ctx context.Context, wg *sync.WaitGroup, cfg config.Config, db *store.DB, srv *httpapi.Server, dir *contacts.Directory,
	base string, channels []string, log *slog.Logger) {
	srv.SCIM = &scim.Service{Directory: dir, BaseURL: publicURL(cfg, base) + "/scim/v2", Language: contacts.Spanish, Logger: log}
	ds := cfg.DirectorySync
	if ds.URL == "" {
		return
	}
	guard := cfg.OutboundGuard()
	tr := guard.Transport()
	roots, err := ds.RootCAs() // Validate read it already
	if err != nil {
		log.Error("directory sync: ca_file", "err", err)
		return
	}
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	client := &http.Client{Transport: guard.RoundTripper(tr), Timeout: time.Duration(ds.Timeout),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }} // as netguard's Client
	syncer := dirsync.New(dir, dirsync.Options{
		URL: ds.URL, MaxPercent: ds.MaxDeactivatePercent, Client: client,
		Authorization: ds.Authorization, Store: db.DirectorySyncs(), Owner: nodeName(), Logger: log, Now: clock,
		Alert: func(ctx context.Context, title, detail, key string) {
			_, _, err := srv.Incidents.Declare(ctx, incident.Declaration{
				Title: title, Description: detail, Impact: incident.Medium, Urgency: incident.High,
				Teams: []string{ds.PageTeam}, Channels: channels,
				Ladder: escalation.NoLadder, // the page team at once, nobody else
			}, key)
			if err != nil {
				log.Error("directory sync: alerting the admins", "err", err)
			}
		},
	})
	srv.DirectorySync = syncer
	srv.Concerns = append(srv.Concerns, httpapi.Concern{Name: "directory_sync", Reasons: syncer.Concerns})
	wg.Go(func() {
		// The slot is the second the schedule fired: every node computes the same one, and
		// the one that claims it runs the sync.
		_ = escalation.Schedule(ctx, ds.Schedule, cfg.Location(), log, func(ctx context.Context) { syncer.Tick(ctx, clock().Truncate(time.Second)) })
	})
}
