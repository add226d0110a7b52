package httpapi_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/internal/config"
)

var roles = []optimum.Role{optimum.RoleReporter, optimum.RoleResponder, optimum.RoleManager, optimum.RoleAdmin}

// expectedMinRole is the least role that may call each route, written by hand from the
// README's API table and docs/ (not read from Routes()): "public" needs no credentials,
// "reporter" any signed-in role. Changing who may call a route in routes.go without
// changing this table (and the docs) fails TestAuthorizationOfEveryRoute; so does a
// route added to either one and not the other.
var expectedMinRole = []struct{ pattern, min string }{
	{"GET /healthz", "public"},
	{"GET /readyz", "public"},
	{"POST /api/v1/session", "public"},
	{"DELETE /api/v1/session", "public"},
	{"GET /login/{code}", "public"},
	{"POST /login/{code}", "public"},
	{"GET /set-password/{code}", "public"},
	{"POST /set-password/{code}", "public"},
	{"POST /api/v1/me/password", "reporter"},
	{"GET /api/v1/me", "reporter"},
	{"GET /api/v1/meta", "reporter"},
	// docs/sso.md: single sign-on is reached before signing in.
	{"GET /api/v1/sign-in-options", "public"},
	{"GET /sso/{provider}/start", "public"},
	{"GET /sso/{provider}/callback", "public"},
	{"POST /api/v1/tokens", "admin"},
	{"GET /api/v1/tokens", "admin"},
	{"DELETE /api/v1/tokens/{id}", "admin"},
	{"POST /api/v1/users", "admin"},
	{"GET /api/v1/users", "admin"},
	{"GET /api/v1/users/{id}", "admin"},
	{"PATCH /api/v1/users/{id}", "admin"},
	{"DELETE /api/v1/users/{id}", "admin"},
	{"POST /api/v1/users/{id}/password-link", "admin"},
	{"POST /api/v1/incidents", "reporter"},
	{"GET /api/v1/incidents", "reporter"},
	{"GET /api/v1/incidents/{id}", "reporter"},
	{"POST /hooks/twilio/status", "public"},
	{"POST /hooks/twilio/sms", "public"},
	{"POST /hooks/twilio/voice", "public"},
	// crisis: the crisis hotline.
	{"POST /hooks/twilio/hotline", "public"},
	{"POST /hooks/twilio/hotline/recording", "public"},
	{"POST /hooks/twilio/hotline/transcription", "public"},
	// bridge: the war-room bridge.
	{"POST /api/v1/incidents/{id}/bridge", "responder"},
	{"POST /hooks/twilio/bridge", "public"},
	{"POST /hooks/twilio/bridge/pin", "public"},
	{"POST /hooks/twilio/conference", "public"},
	// sms2: Vonage's webhooks, signed by Vonage.
	{"POST /hooks/vonage/status", "public"},
	{"POST /hooks/vonage/sms", "public"},
	{"POST /hooks/vonage/voice/event", "public"},
	{"POST /hooks/vonage/voice/input", "public"},
	{"POST /hooks/vonage/conference", "public"},
	{"GET /a/{token}", "public"},
	{"POST /a/{token}", "public"},
	{"POST /api/v1/incidents/{id}/ack", "reporter"},
	{"POST /api/v1/incidents/{id}/safety", "responder"},
	{"POST /api/v1/incidents/{id}/escalate", "responder"},
	{"GET /api/v1/incidents/{id}/escalation", "reporter"},
	{"GET /api/v1/ladders", "responder"},
	{"POST /api/v1/ladders", "manager"},
	{"GET /api/v1/ladders/{id}", "responder"},
	{"PUT /api/v1/ladders/{id}", "manager"},
	{"DELETE /api/v1/ladders/{id}", "manager"},
	{"POST /api/v1/incidents/{id}/transitions", "responder"},
	{"POST /api/v1/incidents/{id}/assignment", "responder"},
	{"POST /api/v1/incidents/{id}/classification", "responder"},
	{"POST /api/v1/incidents/{id}/known-error", "responder"},
	{"GET /api/v1/incidents/{id}/messages", "reporter"},
	// docs/incident-work.md: only the requester (any role) gets a link to answer.
	{"POST /api/v1/incidents/{id}/conformity-link", "reporter"},
	{"POST /api/v1/incidents/{id}/questions", "responder"},
	{"POST /api/v1/incidents/{id}/answers", "reporter"},
	{"POST /api/v1/incidents/{id}/updates", "responder"},
	{"GET /api/v1/incidents/{id}/similar", "responder"},
	{"GET /api/v1/incidents/similar", "responder"},
	{"GET /api/v1/incidents/{id}/report", "responder"},
	{"GET /api/v1/incidents/{id}/report.md", "responder"},
	{"GET /api/v1/incidents/{id}/report.html", "responder"},
	{"GET /api/v1/alert-numbers", "reporter"},
	{"GET /api/v1/alert-numbers.vcf", "reporter"},
	{"GET /api/v1/templates", "reporter"},
	{"GET /api/v1/templates/{id}", "reporter"},
	{"PUT /api/v1/templates/{id}", "manager"},
	{"GET /c/{token}", "public"},
	{"POST /c/{token}", "public"},
	{"GET /api/v1/drills", "manager"},
	{"POST /api/v1/drills", "manager"},
	{"GET /api/v1/drills/{id}", "manager"},
	{"PUT /api/v1/drills/{id}", "manager"},
	{"DELETE /api/v1/drills/{id}", "manager"},
	{"POST /api/v1/drills/{id}/runs", "manager"},
	{"GET /api/v1/drills/{id}/runs", "manager"},
	{"GET /api/v1/drill-runs", "manager"},
	{"GET /api/v1/drill-runs/{id}", "manager"},
	{"POST /api/v1/drill-runs/{id}/cancel", "manager"},
	{"GET /api/v1/drill-runs/{id}/report", "manager"},
	{"GET /api/v1/drill-runs/{id}/report.csv", "manager"},
	{"GET /api/v1/stream", "reporter"},
	{"GET /api/v1/people", "responder"},
	{"POST /api/v1/people", "manager"},
	{"POST /api/v1/people/import", "manager"},
	{"GET /api/v1/people/export", "manager"},
	{"GET /api/v1/people/{id}", "responder"},
	{"PUT /api/v1/people/{id}", "manager"},
	{"POST /api/v1/people/{id}/deactivate", "manager"},
	// docs/privacy.md: managers export a person's data; only admins erase.
	{"GET /api/v1/people/{id}/data", "manager"},
	{"POST /api/v1/people/{id}/erase", "admin"},
	{"POST /api/v1/people/{id}/activate", "manager"},
	{"GET /api/v1/teams", "reporter"},
	{"POST /api/v1/teams", "manager"},
	{"PUT /api/v1/teams/{id}", "manager"},
	{"GET /api/v1/services", "reporter"},
	{"POST /api/v1/services", "manager"},
	{"PUT /api/v1/services/{id}", "manager"},
	{"GET /api/v1/readiness", "manager"},
	// docs/sites.md: anyone signed in reads the sites (the declare form offers them);
	// managers create and change them.
	{"GET /api/v1/sites", "reporter"},
	{"POST /api/v1/sites", "manager"},
	{"PUT /api/v1/sites/{id}", "manager"},
	// docs/sites.md, "Contacts people keep themselves": managers ask for reconfirmation;
	// the link it sends needs no sign-in (the token is the capability).
	{"POST /api/v1/readiness/reconfirm", "manager"},
	{"GET /p/{token}", "public"},
	{"POST /p/{token}", "public"},
	{"GET /api/v1/me/profile", "reporter"},
	{"PUT /api/v1/me/profile", "reporter"},
	{"POST /api/v1/me/phone/verification", "reporter"},
	{"POST /api/v1/me/phone/verification/confirm", "reporter"},
	{"GET /api/v1/audience/preview", "reporter"},
	{"GET /api/v1/push/vapid-public-key", "reporter"},
	{"GET /api/v1/push/subscriptions", "reporter"},
	{"POST /api/v1/push/subscriptions", "reporter"},
	{"DELETE /api/v1/push/subscriptions", "reporter"},
	{"DELETE /api/v1/push/subscriptions/{id}", "reporter"},
	{"POST /api/v1/push/test", "reporter"},
	{"GET /api/v1/indicators", "responder"},
	{"GET /api/v1/indicators/{table}", "responder"},
	{"GET /metrics", "public"},
	// docs/integrations.md: monitoring sends with a token of the integration role (which
	// no person's role includes) or a signed webhook; responders decide on proposals.
	{"POST /api/v1/integrations/alertmanager", "integration"},
	{"POST /api/v1/email/bounces", "integration"},
	{"POST /api/v1/integrations/webhook", "public"},
	{"GET /api/v1/proposals", "responder"},
	{"GET /api/v1/proposals/{id}", "responder"},
	{"POST /api/v1/proposals/{id}/confirm", "responder"},
	{"POST /api/v1/proposals/{id}/dismiss", "responder"},
	// docs/audit.md: the audit export is for admins.
	{"GET /api/v1/audit/export", "admin"},
	// docs/operations.md, "Watchdog, canary and heartbeat": managers read and run the canary.
	{"GET /api/v1/canary", "manager"},
	{"POST /api/v1/canary/run", "manager"},
	// docs/channels.md, "Chat and webhooks": managers set their teams' chat channels; only
	// admins add webhooks (they receive any event).
	{"GET /api/v1/chat-channels", "manager"},
	{"POST /api/v1/chat-channels", "manager"},
	{"DELETE /api/v1/chat-channels/{id}", "manager"},
	{"POST /api/v1/chat-channels/{id}/resume", "manager"},
	{"GET /api/v1/chat-channels/{id}/posts", "manager"},
	{"GET /api/v1/incidents/{id}/chat-posts", "responder"},
	{"GET /api/v1/webhooks", "admin"},
	{"POST /api/v1/webhooks", "admin"},
	{"DELETE /api/v1/webhooks/{id}", "admin"},
	{"POST /api/v1/webhooks/{id}/resume", "admin"},
	{"GET /api/v1/webhooks/{id}/posts", "admin"},
	// README "API": the OpenAPI description is documentation, readable by anyone.
	{"GET /api/v1/openapi.json", "public"},
	// docs/scim.md: SCIM is for tokens of role scim only (no person's role includes it);
	// the directory sync's status and manual run are for admins.
	{"GET /scim/v2/ServiceProviderConfig", "scim"},
	{"GET /scim/v2/ResourceTypes", "scim"},
	{"GET /scim/v2/Schemas", "scim"},
	{"GET /scim/v2/Users", "scim"},
	{"POST /scim/v2/Users", "scim"},
	{"GET /scim/v2/Users/{id}", "scim"},
	{"PUT /scim/v2/Users/{id}", "scim"},
	{"PATCH /scim/v2/Users/{id}", "scim"},
	{"DELETE /scim/v2/Users/{id}", "scim"},
	{"GET /scim/v2/Groups", "scim"},
	{"POST /scim/v2/Groups", "scim"},
	{"GET /scim/v2/Groups/{id}", "scim"},
	{"PUT /scim/v2/Groups/{id}", "scim"},
	{"PATCH /scim/v2/Groups/{id}", "scim"},
	{"DELETE /scim/v2/Groups/{id}", "scim"},
	{"GET /api/v1/directory/sync", "admin"},
	{"POST /api/v1/directory/sync", "admin"},
}

// Every route × every role (and anonymous), with real requests: below the route's role
// the answer is 401 (no credentials) or 403 (not allowed); at or above it, never.
func TestAuthorizationOfEveryRoute(t *testing.T) {
	// Every refused request to a link or integration route spends the client's budget of
	// guesses; this test is about roles, not that limit (ratelimit_test.go is).
	a, _ := newTestAPI(t, adminToken, func(c *config.Config) { c.Limits.LinkGuessesPerClient = config.Rate{PerMinute: 600, Burst: 200} })
	tokens := map[optimum.Role]string{optimum.RoleAdmin: adminToken}
	for _, r := range roles[:3] {
		tokens[r] = a.token(r)
	}
	var listed []string
	for _, rt := range a.api.Routes() {
		listed = append(listed, rt.Pattern)
	}
	var expected []string
	for _, e := range expectedMinRole {
		expected = append(expected, e.pattern)
		if !slices.Contains(listed, e.pattern) {
			t.Errorf("%s is in the table but not a route: remove it from expectedMinRole (and the docs)", e.pattern)
		}
	}
	for _, p := range listed {
		if !slices.Contains(expected, p) {
			t.Errorf("route %s has no expected role: add it to expectedMinRole from the docs", p)
		}
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	for _, e := range expectedMinRole {
		method, path, _ := strings.Cut(e.pattern, " ")
		path = param.ReplaceAllString(path, "x")
		if method == "DELETE" && path == "/api/v1/session" {
			continue // signs out; covered elsewhere
		}
		t.Run(e.pattern, func(t *testing.T) {
			res := a.do(method, path, "", "{}")
			if e.min == "public" {
				// A public route may refuse a bad link code (401) or, for a webhook, a missing
				// provider signature (403), never the lack of a session.
				if (res.status == 403 && !strings.HasPrefix(path, "/hooks/")) || (res.status == 401 && strings.Contains(string(res.body), "Sign in")) {
					t.Errorf("public route: anonymous got %d %s", res.status, res.body)
				}
				return
			}
			if res.status != 401 {
				t.Errorf("anonymous got %d, want 401", res.status)
			}
			for _, role := range roles {
				res := a.do(method, path, tokens[role], "{}")
				denied := res.status == 401 || res.status == 403
				if allowed := role.AtLeast(optimum.Role(e.min)); allowed == denied {
					t.Errorf("%s (needs %s) got %d: %s", role, e.min, res.status, res.body)
				}
			}
		})
	}
}
