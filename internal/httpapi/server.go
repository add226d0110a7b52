// Package httpapi is the HTTP surface: the JSON API under /api/v1, the websocket stream,
// the embedded web app, and health checks. routes.go lists every route; each resource has
// its own file; one function (writeError) maps errors to HTTP.
package httpapi

import (
	"context"
	"github.com/optimum-bcp/optimum/alerts"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/ws"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/drill"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/indicators"
	"github.com/optimum-bcp/optimum/internal/auth"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/oidc"
	"github.com/optimum-bcp/optimum/internal/scim"
)

// Server holds what the handlers need. Build it with its fields set, then call Handler.
type Server struct {
	Config    config.Config
	Incidents *incident.Service
	// Desk works incidents after their declaration (desk.go).
	Desk      *incident.Desk
	Directory *contacts.Directory
	Inbound   *escalation.Inbound
	// Escalation runs ladders and manual escalations; Ladders edits the ladders.
	Escalation *escalation.Engine
	Ladders    *escalation.Ladders
	// Drills plans, runs and reports drills.
	Drills *drill.Service
	// SMS sends verification codes; nil when SMS is not configured.
	SMS           broadcast.Sender
	Verifications contacts.VerificationStore
	// Reconfirm keeps the links asking people to confirm their phone (reconfirm.go).
	Reconfirm contacts.ReconfirmStore
	Webhooks  Webhooks
	Auth      *auth.Service
	Hub       *ws.Hub
	// Push is web push (push.go); nil turns the push routes off.
	Push *WebPush
	// Indicators computes the dashboard's figures (indicators.go); Metrics serves the
	// Prometheus scrape (metrics.go), nil turns it off.
	Indicators *indicators.Service
	Metrics    http.Handler
	// Ready reports whether every dependency answers (the store, Redis when configured).
	Ready func(ctx context.Context) error
	// ReadyChecks are the other dependencies /readyz reports on (Redis when configured).
	ReadyChecks []ReadyCheck
	Static      fs.FS
	Logger      *slog.Logger

	// Concerns are what /readyz reports as degraded while the node still serves: late
	// work, parked events, a failed canary (health.go).
	Concerns []Concern
	// Canary is the scheduled end-to-end test alert (canary.go); nil shows it off.
	Canary *Canary
	// SMSBudget limits the SMS that are not alerts (verify.go); nil sets no limit.
	SMSBudget SMSBudget
	// SSO are the OpenID Connect providers people may sign in with (sso.go), in the
	// order of the sign-in page.
	SSO []*oidc.Provider
	// SCIM answers /scim/v2 (scim.go); nil answers 404 there.
	SCIM *scim.Service
	// DirectorySync is the scheduled replace import from a CSV URL (scim.go); nil when off.
	DirectorySync DirectorySyncer
	// Alerts takes alerts in from monitoring as proposals (integrations.go).
	Alerts *alerts.Service
	// Audit exports the event log's hash chain (audit.go); nil answers 503.
	Audit AuditLog
	// Rights exports and erases what is held about a person (rights.go); nil answers 503.
	Rights Rights
	// Chat keeps team chat channels and outbound webhooks (chat.go); nil turns them off.
	Chat ChatStore
	// VonageSMS answers inbound SMS that came through Vonage, whose webhook takes no
	// reply in its answer (vonage.go); nil when Vonage is not configured. sms2.
	VonageSMS broadcast.Sender

	limits *limits // built by Handler
}

// handlerFunc is a handler that returns its error, written by handle as problem+json.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeError(w, r, s.Logger, err)
		}
	})
}

// CheckOrigin allows the stream to requests without an Origin (non-browser clients), from
// the same host, from the public URL, and from the configured extra origins.
func (s *Server) CheckOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	allowed := append([]string{s.Config.Server.PublicURL}, s.Config.Server.AllowedOrigins...)
	for _, a := range allowed {
		if a == "" {
			continue
		}
		if au, err := url.Parse(a); err == nil && strings.EqualFold(au.Scheme, u.Scheme) && strings.EqualFold(au.Host, u.Host) {
			return true
		}
	}
	return false
}
