package httpapi

import (
	"net/http"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/internal/scim"
)

// Route is one entry of the API: its pattern, who may call it, and its handler.
type Route struct {
	Pattern string
	// Min is the least role that may call it; "" means anyone, signed in or not.
	Min     optimum.Role
	handler http.Handler
}

const (
	public = optimum.Role("")     // no credentials needed
	anyone = optimum.RoleReporter // any signed-in role
)

// Routes lists the whole HTTP surface with who may call each route. Handler registers
// exactly these, so a route cannot exist without an access rule, and the authorization
// test walks this list.
func (s *Server) Routes() []Route {
	lim := s.limits // rate limits per client and per account (ratelimit.go)
	return []Route{
		{"GET /healthz", public, s.handle(s.healthz)},
		{"GET /readyz", public, s.handle(s.readyz)},

		{"POST /api/v1/session", public, s.handle(s.signIn(lim))},
		{"DELETE /api/v1/session", public, s.handle(s.signOut)},
		{"GET /login/{code}", public, securePage(s.handle(s.loginPage))},
		{"POST /login/{code}", public, securePage(lim.oneTimeCode(s.handle(s.loginWithCode)))},
		{"GET /set-password/{code}", public, securePage(s.handle(s.setPasswordPage))},
		{"POST /set-password/{code}", public, securePage(lim.oneTimeCode(s.handle(s.setPassword)))},
		{"POST /api/v1/me/password", anyone, s.handle(s.changePassword(lim))},
		{"GET /api/v1/me", anyone, s.handle(s.me)},
		{"GET /api/v1/meta", anyone, s.handle(s.meta)},

		// Single sign-on with OpenID Connect (sso.go, docs/sso.md).
		{"GET /api/v1/sign-in-options", public, s.handle(s.signInOptions)},
		{"GET /sso/{provider}/start", public, securePage(s.handle(s.ssoStart(lim)))},
		{"GET /sso/{provider}/callback", public, securePage(s.handle(s.ssoCallback))},

		{"POST /api/v1/tokens", optimum.RoleAdmin, s.handle(s.createToken)},
		{"GET /api/v1/tokens", optimum.RoleAdmin, s.handle(s.listTokens)},
		// Alerts coming in from monitoring become proposals (integrations.go).
		{"POST /api/v1/integrations/alertmanager", optimum.RoleIntegration, s.handle(s.alertmanager)},
		{"POST /api/v1/email/bounces", optimum.RoleIntegration, s.handle(s.emailBounce)},           // bounces.go: the MTA pipes each bounce
		{"POST /api/v1/integrations/webhook", public, lim.oneTimeCode(s.handle(s.genericWebhook))}, // signed; forgeries spend the client's guesses
		{"GET /api/v1/proposals", optimum.RoleResponder, s.handle(s.proposals)},
		{"GET /api/v1/proposals/{id}", optimum.RoleResponder, s.handle(s.proposal)},
		{"POST /api/v1/proposals/{id}/confirm", optimum.RoleResponder, s.handle(s.confirmProposal)},
		{"POST /api/v1/proposals/{id}/dismiss", optimum.RoleResponder, s.handle(s.dismissProposal)},
		// The event log's hash chain, for auditors (audit.go, docs/audit.md).
		{"GET /api/v1/audit/export", optimum.RoleAdmin, s.handle(s.auditExport)},
		{"DELETE /api/v1/tokens/{id}", optimum.RoleAdmin, s.handle(s.revokeToken)},

		{"POST /api/v1/users", optimum.RoleAdmin, s.handle(s.createUser)},
		{"GET /api/v1/users", optimum.RoleAdmin, s.handle(s.listUsers)},
		{"GET /api/v1/users/{id}", optimum.RoleAdmin, s.handle(s.getUser)},
		{"PATCH /api/v1/users/{id}", optimum.RoleAdmin, s.handle(s.updateUser)},
		{"DELETE /api/v1/users/{id}", optimum.RoleAdmin, s.handle(s.disableUser)},
		{"POST /api/v1/users/{id}/password-link", optimum.RoleAdmin, s.handle(s.passwordLink)},

		{"POST /api/v1/incidents", anyone, lim.declare(s.declareGate(s.handle(s.declare)))},
		{"GET /api/v1/incidents", anyone, s.handle(s.listIncidents)},
		{"GET /api/v1/incidents/{id}", anyone, s.handle(s.getIncident)},
		{"POST /hooks/twilio/status", public, s.handle(s.twilioHook(statusKey, s.twilioStatus))},
		{"POST /hooks/twilio/sms", public, s.handle(s.twilioHook(smsKey, s.twilioSMS))},
		{"POST /hooks/twilio/voice", public, s.handle(s.twilioHook(voiceKey, s.twilioVoice))},
		// crisis: the crisis hotline (declaring by voice message when the web is down).
		{"POST /hooks/twilio/hotline", public, s.handle(s.twilioHook(hotlineKey("call"), s.twilioHotline))},
		{"POST /hooks/twilio/hotline/recording", public, s.handle(s.twilioHook(hotlineKey("recording"), s.twilioHotlineRecording))},
		{"POST /hooks/twilio/hotline/transcription", public, s.handle(s.twilioHook(hotlineKey("transcription"), s.twilioHotlineTranscription))},
		// bridge: the war-room bridge.
		{"POST /api/v1/incidents/{id}/bridge", optimum.RoleResponder, s.handle(s.openBridge)},
		{"POST /hooks/twilio/bridge", public, s.handle(s.twilioHook(bridgeKey("call"), s.twilioBridge))},
		{"POST /hooks/twilio/bridge/pin", public, s.handle(s.twilioHook(bridgeKey("pin"), s.twilioBridgePIN))},
		{"POST /hooks/twilio/conference", public, s.handle(s.twilioHook(conferenceKey, s.twilioConference))},
		// sms2: Vonage, the second SMS and voice provider (vonage.go).
		{"POST /hooks/vonage/status", public, s.handle(s.providerHook(s.vonageForm, vonageReceiptKey, s.vonageStatus, "Vonage", "messageId or uuid"))},
		{"POST /hooks/vonage/sms", public, s.handle(s.providerHook(s.vonageForm, vonageSMSKey, s.vonageSMS, "Vonage", "messageId or uuid"))},
		{"POST /hooks/vonage/voice/event", public, s.handle(s.providerHook(s.vonageJSON, vonageEventKey, s.vonageVoiceEvent, "Vonage", "messageId or uuid"))},
		{"POST /hooks/vonage/voice/input", public, s.handle(s.providerHook(s.vonageJSON, vonageInputKey, s.vonageVoiceInput, "Vonage", "messageId or uuid"))},
		{"POST /hooks/vonage/conference", public, s.handle(s.providerHook(s.vonageNotify, vonageConferenceKey, s.vonageConference, "Vonage", "call"))},
		{"GET /a/{token}", public, securePage(lim.capability(s.ackLinkValid, false, s.handle(s.ackLinkPage)))},
		{"POST /a/{token}", public, securePage(lim.capability(s.ackLinkValid, true, s.handle(s.ackByLink)))},
		{"POST /api/v1/incidents/{id}/ack", anyone, s.handle(s.acknowledge)}, // reporters: only what they were sent (acknowledge)
		{"POST /api/v1/incidents/{id}/safety", optimum.RoleResponder, s.handle(s.setSafety)},
		{"POST /api/v1/incidents/{id}/escalate", optimum.RoleResponder, s.handle(s.escalate)},
		{"GET /api/v1/incidents/{id}/escalation", anyone, s.handle(s.getEscalation)},
		{"GET /api/v1/ladders", optimum.RoleResponder, s.handle(s.listLadders)},
		{"POST /api/v1/ladders", optimum.RoleManager, s.handle(s.saveLadder)},
		{"GET /api/v1/ladders/{id}", optimum.RoleResponder, s.handle(s.getLadder)},
		{"PUT /api/v1/ladders/{id}", optimum.RoleManager, s.handle(s.saveLadder)},
		{"DELETE /api/v1/ladders/{id}", optimum.RoleManager, s.handle(s.deleteLadder)},

		// The incident worked after its declaration (desk.go, conformity.go, report.go).
		{"POST /api/v1/incidents/{id}/transitions", optimum.RoleResponder, s.handle(s.transition)},
		{"POST /api/v1/incidents/{id}/assignment", optimum.RoleResponder, s.handle(s.assign)},
		{"POST /api/v1/incidents/{id}/classification", optimum.RoleResponder, s.handle(s.reclassify)},
		{"POST /api/v1/incidents/{id}/known-error", optimum.RoleResponder, s.handle(s.knownError)},
		{"GET /api/v1/incidents/{id}/messages", anyone, s.handle(s.messages)},
		{"POST /api/v1/incidents/{id}/conformity-link", anyone, s.handle(s.conformityLink)},
		{"POST /api/v1/incidents/{id}/questions", optimum.RoleResponder, s.handle(s.askRequester)},
		{"POST /api/v1/incidents/{id}/answers", anyone, s.handle(s.answerRequest)},
		{"POST /api/v1/incidents/{id}/updates", optimum.RoleResponder, s.handle(s.postUpdate)},
		{"GET /api/v1/incidents/{id}/similar", optimum.RoleResponder, s.handle(s.similar)},
		{"GET /api/v1/incidents/similar", optimum.RoleResponder, s.handle(s.searchSimilar)},
		{"GET /api/v1/incidents/{id}/report", optimum.RoleResponder, s.handle(s.report)},
		{"GET /api/v1/incidents/{id}/report.md", optimum.RoleResponder, s.handle(s.reportMarkdown)},
		{"GET /api/v1/incidents/{id}/report.html", optimum.RoleResponder, s.handle(s.reportHTML)},
		{"GET /api/v1/alert-numbers", anyone, s.handle(s.alertNumbers)},
		{"GET /api/v1/alert-numbers.vcf", anyone, s.handle(s.alertNumbersCard)},
		{"GET /api/v1/templates", anyone, s.handle(s.listTemplates)},
		{"GET /api/v1/templates/{id}", anyone, s.handle(s.getTemplate)},
		{"PUT /api/v1/templates/{id}", optimum.RoleManager, s.handle(s.saveTemplate)},
		{"GET /c/{token}", public, securePage(lim.capability(s.conformityLinkValid, false, s.handle(s.conformityLinkPage)))},
		{"POST /c/{token}", public, securePage(lim.capability(s.conformityLinkValid, true, s.handle(s.answerConformity)))},

		{"GET /api/v1/drills", optimum.RoleManager, s.handle(s.listDrills)},
		{"POST /api/v1/drills", optimum.RoleManager, s.handle(s.saveDrill)},
		{"GET /api/v1/drills/{id}", optimum.RoleManager, s.handle(s.getDrill)},
		{"PUT /api/v1/drills/{id}", optimum.RoleManager, s.handle(s.saveDrill)},
		{"DELETE /api/v1/drills/{id}", optimum.RoleManager, s.handle(s.deleteDrill)},
		{"POST /api/v1/drills/{id}/runs", optimum.RoleManager, s.handle(s.startDrill)},
		{"GET /api/v1/drills/{id}/runs", optimum.RoleManager, s.handle(s.listDrillRuns)},
		{"GET /api/v1/drill-runs", optimum.RoleManager, s.handle(s.listDrillRuns)},
		{"GET /api/v1/drill-runs/{id}", optimum.RoleManager, s.handle(s.drillBoard)},
		{"POST /api/v1/drill-runs/{id}/cancel", optimum.RoleManager, s.handle(s.cancelDrill)},
		{"GET /api/v1/drill-runs/{id}/report", optimum.RoleManager, s.handle(s.drillReport(false))},
		{"GET /api/v1/drill-runs/{id}/report.csv", optimum.RoleManager, s.handle(s.drillReport(true))},

		{"GET /api/v1/stream", anyone, s.handle(s.stream)},

		{"GET /api/v1/people", optimum.RoleResponder, s.handle(s.listPeople)},
		{"POST /api/v1/people", optimum.RoleManager, s.handle(s.createPerson)},
		{"POST /api/v1/people/import", optimum.RoleManager, s.handle(s.importPeople)},
		{"GET /api/v1/people/export", optimum.RoleManager, s.handle(s.exportPeople)},
		{"GET /api/v1/people/{id}", optimum.RoleResponder, s.handle(s.getPerson)},
		{"PUT /api/v1/people/{id}", optimum.RoleManager, s.handle(s.updatePerson)},
		{"POST /api/v1/people/{id}/deactivate", optimum.RoleManager, s.handle(s.setPersonActive(false))},
		// People's data rights (rights.go, docs/privacy.md): access and portability, erasure.
		{"GET /api/v1/people/{id}/data", optimum.RoleManager, s.handle(s.personData)},
		{"POST /api/v1/people/{id}/erase", optimum.RoleAdmin, s.handle(s.erasePerson)},
		{"POST /api/v1/people/{id}/activate", optimum.RoleManager, s.handle(s.setPersonActive(true))},
		{"GET /api/v1/teams", anyone, s.handle(s.listTeams)},
		{"POST /api/v1/teams", optimum.RoleManager, s.handle(s.saveTeam)},
		{"PUT /api/v1/teams/{id}", optimum.RoleManager, s.handle(s.saveTeam)},
		{"GET /api/v1/services", anyone, s.handle(s.listServices)},
		{"POST /api/v1/services", optimum.RoleManager, s.handle(s.saveService)},
		{"PUT /api/v1/services/{id}", optimum.RoleManager, s.handle(s.saveService)},
		{"GET /api/v1/readiness", optimum.RoleManager, s.handle(s.readiness)},
		// Sites (sites.go): buildings and campuses people and teams work at.
		{"GET /api/v1/sites", anyone, s.handle(s.listSites)},
		{"POST /api/v1/sites", optimum.RoleManager, s.handle(s.saveSite)},
		{"PUT /api/v1/sites/{id}", optimum.RoleManager, s.handle(s.saveSite)},
		// Reconfirming phones (reconfirm.go): a readiness action, and the link it sends.
		{"POST /api/v1/readiness/reconfirm", optimum.RoleManager, s.handle(s.reconfirm)},
		{"GET /p/{token}", public, securePage(lim.capability(s.reconfirmLinkValid, false, s.handle(s.reconfirmLinkPage)))},
		{"POST /p/{token}", public, securePage(lim.capability(s.reconfirmLinkValid, true, s.handle(s.reconfirmByLink)))},
		{"GET /api/v1/me/profile", anyone, s.handle(s.profile)},
		{"PUT /api/v1/me/profile", anyone, s.handle(s.updateProfile)},
		{"POST /api/v1/me/phone/verification", anyone, lim.perAccount(s.handle(s.startPhoneVerification))},
		{"POST /api/v1/me/phone/verification/confirm", anyone, lim.perAccount(s.handle(s.confirmPhone))},
		{"GET /api/v1/audience/preview", anyone, s.handle(s.audiencePreview)},

		{"GET /api/v1/push/vapid-public-key", anyone, s.handle(s.vapidPublicKey)},
		{"GET /api/v1/push/subscriptions", anyone, s.handle(s.listPush)},
		{"POST /api/v1/push/subscriptions", anyone, s.handle(s.subscribePush)},
		{"DELETE /api/v1/push/subscriptions", anyone, s.handle(s.unsubscribePush)},
		{"DELETE /api/v1/push/subscriptions/{id}", anyone, s.handle(s.unsubscribePushID)},
		{"POST /api/v1/push/test", anyone, s.handle(s.testPushes)},

		{"GET /api/v1/indicators", optimum.RoleResponder, s.handle(s.indicatorsReport)},
		{"GET /api/v1/indicators/{table}", optimum.RoleResponder, s.handle(s.indicatorsTable)},
		{"GET /metrics", public, s.handle(s.metrics)}, // admin token or an allowed network (metrics.go)
		{"GET /api/v1/canary", optimum.RoleManager, s.handle(s.canaryRuns)},
		{"POST /api/v1/canary/run", optimum.RoleManager, s.handle(s.runCanary)},

		// Team chats and outbound webhooks (chat.go, issue 17): a team's channel is the
		// continuity managers' to set; a webhook gets any event, so only admins add one.
		{"GET /api/v1/chat-channels", optimum.RoleManager, s.handle(s.listSubscriptions(false))},
		{"POST /api/v1/chat-channels", optimum.RoleManager, s.handle(s.createChatChannel)},
		{"DELETE /api/v1/chat-channels/{id}", optimum.RoleManager, s.handle(s.deleteSubscription(false))},
		{"POST /api/v1/chat-channels/{id}/resume", optimum.RoleManager, s.handle(s.resumeSubscription(false))},
		{"GET /api/v1/chat-channels/{id}/posts", optimum.RoleManager, s.handle(s.subscriptionPosts(false))},
		{"GET /api/v1/incidents/{id}/chat-posts", optimum.RoleResponder, s.handle(s.incidentChatPosts)},
		{"GET /api/v1/webhooks", optimum.RoleAdmin, s.handle(s.listSubscriptions(true))},
		{"POST /api/v1/webhooks", optimum.RoleAdmin, s.handle(s.createWebhook)},
		{"DELETE /api/v1/webhooks/{id}", optimum.RoleAdmin, s.handle(s.deleteSubscription(true))},
		{"POST /api/v1/webhooks/{id}/resume", optimum.RoleAdmin, s.handle(s.resumeSubscription(true))},
		{"GET /api/v1/webhooks/{id}/posts", optimum.RoleAdmin, s.handle(s.subscriptionPosts(true))},

		// The OpenAPI description of this API (openapidoc.go, openapi/).
		{"GET /api/v1/openapi.json", public, s.handle(s.openAPI)},
		// SCIM 2.0 provisioning by an identity provider (scim.go, internal/scim): a token
		// of role scim, or OPTIMUM_SCIM_TOKEN; no other role may call these.
		{"GET /scim/v2/ServiceProviderConfig", optimum.RoleSCIM, s.scim(scim.ServiceProviderConfig)},
		{"GET /scim/v2/ResourceTypes", optimum.RoleSCIM, s.scim(scim.ResourceTypes)},
		{"GET /scim/v2/Schemas", optimum.RoleSCIM, s.scim(scim.Schemas)},
		{"GET /scim/v2/Users", optimum.RoleSCIM, s.scim(scim.ListUsers)},
		{"POST /scim/v2/Users", optimum.RoleSCIM, s.scim(scim.CreateUser)},
		{"GET /scim/v2/Users/{id}", optimum.RoleSCIM, s.scim(scim.GetUser)},
		{"PUT /scim/v2/Users/{id}", optimum.RoleSCIM, s.scim(scim.ReplaceUser)},
		{"PATCH /scim/v2/Users/{id}", optimum.RoleSCIM, s.scim(scim.PatchUser)},
		{"DELETE /scim/v2/Users/{id}", optimum.RoleSCIM, s.scim(scim.DeleteUser)},
		{"GET /scim/v2/Groups", optimum.RoleSCIM, s.scim(scim.ListGroups)},
		{"POST /scim/v2/Groups", optimum.RoleSCIM, s.scim(scim.CreateGroup)},
		{"GET /scim/v2/Groups/{id}", optimum.RoleSCIM, s.scim(scim.GetGroup)},
		{"PUT /scim/v2/Groups/{id}", optimum.RoleSCIM, s.scim(scim.ReplaceGroup)},
		{"PATCH /scim/v2/Groups/{id}", optimum.RoleSCIM, s.scim(scim.PatchGroup)},
		{"DELETE /scim/v2/Groups/{id}", optimum.RoleSCIM, s.scim(scim.DeleteGroup)},
		{"GET /api/v1/directory/sync", optimum.RoleAdmin, s.handle(s.directorySyncStatus)},
		{"POST /api/v1/directory/sync", optimum.RoleAdmin, s.handle(s.runDirectorySync)},
	}
}

// Handler returns the whole HTTP surface.
func (s *Server) Handler() http.Handler {
	s.limits = s.newLimits()
	mux := http.NewServeMux()
	for _, rt := range s.Routes() {
		h := rt.handler
		if rt.Min != public {
			h = s.require(rt.Min, h)
		}
		if rt.Min == optimum.RoleIntegration {
			// A notification refused for its credentials is on the audit record too;
			// wrong tokens spend the client's guesses, so the record cannot be flooded.
			h = s.limits.oneTimeCode(s.refusedCredentials(h))
		}
		mux.Handle(rt.Pattern, h)
	}
	mux.Handle("/api/", s.handle(s.notFound))
	mux.Handle("/scim/", s.handle(s.notFound)) // answered in SCIM's error format (scim.go)
	for _, p := range scimResources {
		mux.Handle(p, scimMethodNotAllowed) // a method the resource has not: 405, SCIM's format
	}
	mux.Handle("/", s.staticFiles())

	// A refused cross-origin request gets a problem+json like any other refusal, as the
	// OpenAPI description says (openapi/base.yaml), not the library's text/plain.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return optimum.Errorf(optimum.EFORBIDDEN, "Cross-origin requests that change data are refused; send it from the app's own page or without a browser.")
	}))
	return s.observe(cop.Handler(mux))
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) error {
	return optimum.Errorf(optimum.ENOTFOUND, "There is no %s %s in this API.", r.Method, r.URL.Path)
}
