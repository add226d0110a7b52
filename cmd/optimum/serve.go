package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/optimum-bcp/optimum/alerts"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/email"
	"github.com/optimum-bcp/optimum/broadcast/twilio"
	"github.com/optimum-bcp/optimum/broadcast/webpush"
	"github.com/optimum-bcp/optimum/broadcast/ws"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/indicators"
	"github.com/optimum-bcp/optimum/internal/auth"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/httpapi"
	"github.com/optimum-bcp/optimum/internal/metrics"
	"github.com/optimum-bcp/optimum/internal/oidc"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/static"
)

// started, when not nil, receives the base URL once the server listens (for tests).
type started func(baseURL string)

// serve runs the server until ctx is done. Shutdown stops intake first (the listener and
// new requests), lets requests in flight finish, closes the live streams, and closes the
// database last.
// wrapHandlerKey carries, in serve's context, a function wrapping the HTTP handler: the
// tests put the OpenAPI check there (startServer); nothing else does.
type wrapHandlerKey struct{}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, onStart started) error {
	if len(args) > 0 {
		return fmt.Errorf("serve takes no arguments, got %q", args)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(stderr, getenv("OPTIMUM_LOG_LEVEL"))

	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetPoisonPolicy(store.PoisonPolicy{Attempts: cfg.Consumers.Attempts, Backoff: time.Duration(cfg.Consumers.Backoff)})
	if err := syncClock(ctx, db, getenv, log); err != nil {
		return err
	}

	authn := auth.NewService(db.Auth(), nil)
	authn.SetLockout(lockoutOf(cfg))
	loginCode, err := authn.Bootstrap(ctx, cfg.Server.BootstrapToken)
	if err != nil {
		return fmt.Errorf("bootstrap admin: %w", err)
	}

	fan, err := openFanout(ctx, cfg, db, log)
	if err != nil {
		return err
	}
	defer fan.close()
	bus := fan.bus
	db.SetNotifier(func(id int64) { _ = bus.Publish(context.Background(), id) })

	directory := contacts.NewDirectory(db.Contacts(), nil)
	if err := directory.EnsureTeams(ctx, cfg.TeamInputs()); err != nil {
		return fmt.Errorf("seed teams: %w", err)
	}
	srv := &httpapi.Server{
		Config:    cfg,
		Incidents: incident.NewService(db.Incidents(), cfg.IncidentPolicy(), directory, clock),
		Directory: directory,
		Auth:      authn,
		Ready:     db.Ping,
		Static:    static.Files,
		Logger:    log,
	}
	srv.ReadyChecks = fan.readyChecks()
	// Single sign-on: every request to a provider goes through the outbound guard.
	for _, pc := range cfg.SSO.Providers {
		srv.SSO = append(srv.SSO, oidc.New(pc, cfg.OutboundGuard().Client(20*time.Second), clock))
	}
	if _, err := db.ReindexSearch(ctx); err != nil {
		return err
	}
	hub := ws.New(db, bus, ws.Options{Logger: log, CheckOrigin: srv.CheckOrigin, Audience: httpapi.StreamAudience,
		Alerted: db.Incidents().Alerted, Access: httpapi.StreamAccess, Heartbeat: time.Duration(cfg.Stream.Heartbeat), Coalesce: time.Duration(cfg.Stream.Coalesce)})
	srv.Hub = hub
	srv.Inbound = escalation.NewInbound(db.Escalation(), srv.Incidents, nil)
	srv.Inbound.Logger = log
	srv.Webhooks = db.Deliveries()
	srv.Verifications = db.Contacts()
	// sites: reconfirming phones by link (issue 18.5)
	srv.Reconfirm = db.Contacts()
	srv.SMSBudget = db.SMSBudget()                                                         // limits verification codes; alerts never pass through it
	srv.Audit = db                                                                         // the hash chain's export (docs/audit.md)
	srv.Alerts = alerts.NewService(db.Proposals(), srv.Incidents, cfg.Integrations, clock) // monitoring's proposals
	srv.Rights = db                                                                        // people's data rights (docs/privacy.md)
	srv.Indicators = indicators.New(db.Indicators(), cfg.IndicatorOptions(nil))
	mtr := metrics.New(db.Indicators(), db, metrics.Options{Connections: hub.Connections, Dropped: hub.Dropped, Writes: db.WriteStats, Logger: log})
	srv.Metrics = mtr.Handler()

	ln, err := net.Listen("tcp", cfg.Server.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Server.Addr, err)
	}
	base := "http://" + hostPort(ln.Addr())
	srv.Desk = incident.NewDesk(srv.Incidents, db.Desk(), incident.DeskOptions{PublicURL: publicURL(cfg, base), ConformityTTL: time.Duration(cfg.Incident.ConformityTTL)})
	srv.Inbound.Requests = srv.Desk // a requester's SMS reply answers the responders' question
	handler := srv.Handler()
	if wrap, ok := ctx.Value(wrapHandlerKey{}).(func(*httpapi.Server, http.Handler) http.Handler); ok {
		handler = wrap(srv, handler) // tests: the OpenAPI check (run_test.go)
	}
	httpSrv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		// A search of 10,000 accented or non-Latin characters is 60–120 KB once
		// percent-encoded in the URL: it must reach the handler, which answers it with a
		// clear 422, rather than Go's bare 431.
		MaxHeaderBytes: 128 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		errMu    sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
		cancel()
	}
	wg.Go(func() {
		if err := hub.Run(runCtx); err != nil {
			fail(err)
		}
	})
	wg.Go(func() { purgeIdempotencyKeys(runCtx, db, log) })
	wg.Go(func() { applyRetention(runCtx, db, cfg.Retention, log) })
	wg.Go(func() { fan.run(runCtx) })
	wg.Go(func() { keepClockInSync(runCtx, db, log) })
	wg.Go(func() { closeUnansweredConformity(runCtx, srv.Desk, log) })
	senders := map[string]broadcast.Sender{}
	// sms2: Twilio and Vonage behind a failover per channel (sms.go).
	providers, err := newSMSProviders(cfg, log)
	if err != nil {
		return err
	}
	defer providers.Close()
	if providers.sms != nil {
		senders[broadcast.ChannelSMS] = providers.sms
		srv.SMS = providers.sms
	}
	if providers.voice != nil {
		senders[broadcast.ChannelVoice] = providers.voice
	}
	if providers.vonageSMS != nil {
		srv.VonageSMS = providers.vonageSMS
	}
	srv.Concerns = append(srv.Concerns, httpapi.Concern{Name: "sms_providers", Reasons: providers.concerns})
	// Email (issue 17): with OPTIMUM_SMTP_URL, each person's email is the channel email.
	if cfg.Email.URL != "" {
		smtpCfg, err := cfg.Email.SMTP()
		if err != nil {
			return fmt.Errorf("email: %w", err)
		}
		mailer, err := email.New(smtpCfg)
		if err != nil {
			return fmt.Errorf("email: %w", err)
		}
		senders[broadcast.ChannelEmail] = mailer
		log.Info("email: sending through " + smtpCfg.Redacted())
	}
	dispatcher := broadcast.NewDispatcher(db.Deliveries(), senders, broadcast.DispatcherOptions{
		Concurrency: cfg.Delivery.Concurrency, Rates: cfg.Delivery.Rates, Owner: nodeName(), Logger: log, Now: clock,
		Lease: time.Duration(cfg.Delivery.Lease), SharedLimit: fan.rateLimiter(),
		Observe:      mtr.ObserveSend,
		ObserveClaim: mtr.ObserveClaim,
		// One-tap links (escalation/links.go) and the requester's conformity links
		// (incident/requester.go) are made as their message is sent, never stored.
		Prepare: broadcast.Prepares(escalation.NewLinks(db.Escalation(), time.Duration(cfg.Delivery.LinkTTL), clock).Prepare,
			srv.Desk.PrepareConformity),
	})
	templates, err := escalation.NewTemplates()
	if err != nil {
		return err
	}
	templates.SetSMSAlphabet(twilio.Alphabet{}) // alerts are written in GSM-7 and fit one segment
	pushKeys, err := webpush.LoadKeys(cfg.Server.DataDir, func(k string) string {
		switch k {
		case "VAPID_SUBJECT":
			return cfg.WebPush.Subject
		case "OPTIMUM_PUBLIC_URL":
			return cfg.Server.PublicURL
		}
		return getenv(k)
	})
	if err != nil {
		return fmt.Errorf("web push: %w", err)
	}
	if pushKeys.Source == webpush.SourceGenerated {
		log.Info("web push: generated VAPID keys in " + filepath.Join(cfg.Server.DataDir, webpush.KeysFile))
	}
	if pushKeys.Subject == webpush.DefaultSubject {
		log.Warn("web push: set VAPID_SUBJECT (mailto: or https:) so push services can reach the operator")
	}
	// Endpoints are URLs users give: every connection is checked against the outbound
	// guard (OPTIMUM_PUSH_ALLOW_PRIVATE=1 adds loopback to it, in config.applyEnv).
	pushSender := webpush.New(pushKeys, webpush.Options{Guard: cfg.OutboundGuard()})
	srv.Push = &httpapi.WebPush{PublicKey: pushKeys.Public, Browsers: db.Push(), Sender: pushSender}
	senders[broadcast.ChannelWebPush] = pushSender
	channels := make([]string, 0, len(senders))
	for _, ch := range []string{broadcast.ChannelWebPush, broadcast.ChannelSMS, broadcast.ChannelVoice, broadcast.ChannelEmail} {
		if senders[ch] != nil {
			channels = append(channels, ch)
		}
	}
	if len(channels) == 0 {
		log.Warn("no alert channel is configured (Twilio, web push): incidents reach live boards only")
	}
	notifyIDs, stopNotify := bus.Subscribe()
	defer stopNotify()
	srv.Ladders, srv.Escalation, err = newEscalation(ctx, cfg, db, templates, notifyIDs, dispatcher, publicURL(cfg, base), channels, log)
	if err != nil {
		return err
	}
	srv.Drills = newDrills(cfg, db, srv.Incidents, directory, srv.Escalation, srv.Ladders, log)
	if err := srv.Drills.Seed(ctx, cfg.Drills.Plans); err != nil {
		return fmt.Errorf("drill plans: %w", err)
	}
	wg.Go(func() { _ = dispatcher.Run(runCtx) })
	wg.Go(func() { _ = srv.Escalation.Run(runCtx) })
	wg.Go(func() { _ = tickEscalation(runCtx, cfg, srv.Escalation, log, mtr.ObserveEscalationTick) })
	wg.Go(func() { _ = tickDrills(runCtx, cfg, srv.Drills, log) })
	noticeIDs, stopNotices := bus.Subscribe()
	defer stopNotices()
	noticeStore := db.Notices()
	noticeStore.RetryFor = time.Duration(cfg.Delivery.RetryFor)
	notices := incident.NewNotices(noticeStore, noticeIDs, incident.NoticeOptions{
		PublicURL: publicURL(cfg, base), Channels: channels, Location: cfg.IncidentPolicy().Location, Wake: dispatcher.Wake, Logger: log,
		SMSNoLinkCountries: cfg.SMS.NoLinkCountries, // sms2
	})
	wg.Go(func() { _ = notices.Run(runCtx) })
	wg.Go(func() { publishDeliveryProgress(runCtx, db.Deliveries(), log) })
	startChat(runCtx, &wg, cfg, db, srv, bus, publicURL(cfg, base), mtr.ObserveSend, log) // team chats and webhooks (chat.go)
	startAlive(runCtx, &wg, cfg, db, srv, mtr, channels, log)
	startDirectory(runCtx, &wg, cfg, db, srv, directory, base, channels, log) // SCIM and the directory sync (directory.go)
	serveDone := make(chan struct{})
	go func() {
		defer close(serveDone)
		if err := httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fail(fmt.Errorf("http: %w", err))
		}
	}()

	log.Info("listening on "+base, "database", storeName(cfg), "fanout", fan.name(), "data", cfg.Server.DataDir)
	if loginCode != "" {
		public := cfg.Server.PublicURL
		if public == "" {
			public = base
		}
		log.Warn("first start: no admin existed, so one was created; sign in once with this link (valid 24 h, shown only now): " + public + "/login/" + loginCode)
	}
	if onStart != nil {
		onStart(base)
	}

	<-runCtx.Done()
	log.Info("shutting down")
	shutdownCtx, stop := context.WithTimeout(context.Background(), 15*time.Second)
	defer stop()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil {
		log.Warn("shutdown: requests still running were cut", "err", err)
	}
	<-serveDone
	cancel()
	wg.Wait()
	log.Info("stopped")
	return firstErr
}

// openConfigured loads and checks the configuration and opens its store, for the
// commands that work on the database.
func openConfigured(ctx context.Context, getenv func(string) string) (config.Config, *store.DB, error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return cfg, nil, err
	}
	db, err := openStore(ctx, cfg)
	return cfg, db, err
}

func loadConfig(getenv func(string) string) (config.Config, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func openStore(ctx context.Context, cfg config.Config) (*store.DB, error) {
	if cfg.Database.URL != "" { // Validate accepted it: postgres:// or postgresql://
		return store.OpenPostgres(ctx, cfg.Database.URL)
	}
	return store.OpenSQLite(ctx, cfg.SQLitePath())
}

func storeName(cfg config.Config) string {
	if cfg.Database.URL != "" {
		return store.PostgresName(cfg.Database.URL)
	}
	return "sqlite:" + cfg.SQLitePath()
}

// purgeIdempotencyKeys forgets keys past their retention, hourly.
func purgeIdempotencyKeys(ctx context.Context, db *store.DB, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if _, err := db.PurgeIdempotencyKeys(ctx, time.Now().Add(-incident.IdempotencyRetention)); err != nil && ctx.Err() == nil {
			log.Warn("purge idempotency keys", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// applyRetention deletes, hourly, the delivery attempts and webhook records older than
// the configured retention (docs/privacy.md); each run that deletes is an event.
func applyRetention(ctx context.Context, db *store.DB, r config.Retention, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		attempts, webhooks, err := db.ApplyRetention(ctx, store.Retention{DeliveryAttempts: time.Duration(r.DeliveryAttempts), WebhookCalls: time.Duration(r.WebhookCalls)}, time.Now())
		if err != nil && ctx.Err() == nil {
			log.Warn("retention", "err", err)
		} else if attempts+webhooks > 0 {
			log.Info("retention: deleted old records", "delivery_attempts", attempts, "webhook_calls", webhooks)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// closeUnansweredConformity closes, every minute, the incidents whose requester did not
// answer the conformity request in time (recorded as timed out).
func closeUnansweredConformity(ctx context.Context, desk *incident.Desk, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if _, err := desk.Tick(ctx, time.Now()); err != nil && ctx.Err() == nil {
			log.Warn("close unanswered conformity requests", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// publicURL is the base of links people receive: the configured public URL, else the
// address the server listens on (fine on one machine, not for phones elsewhere).
func publicURL(cfg config.Config, base string) string {
	if cfg.Server.PublicURL != "" {
		return strings.TrimRight(cfg.Server.PublicURL, "/")
	}
	return base
}

// nodeName names this process in work leases.
func nodeName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

func hostPort(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil || level == "" {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// publishDeliveryProgress turns delivery status changes into at most one
// incident.deliveries_progress event per incident a second, for live boards.
func publishDeliveryProgress(ctx context.Context, q *store.Deliveries, log *slog.Logger) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if _, err := q.PublishProgress(ctx, now.UTC(), 100); err != nil && ctx.Err() == nil {
				log.Warn("delivery progress", "err", err)
			}
		}
	}
}
