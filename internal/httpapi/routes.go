package httpapi

import (
	"net/http"

	"github.com/optimum-bcp/optimum"
)

// Handler returns the whole HTTP surface. Every route is listed here, with who may call it.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	anyone := optimum.RoleReporter // any signed-in role
	lim := s.newLimits()           // rate limits per client and per account (ratelimit.go)

	mux.Handle("GET /healthz", s.handle(s.healthz))
	mux.Handle("GET /readyz", s.handle(s.readyz))

	mux.Handle("POST /api/v1/session", lim.signIn(s.handle(s.signIn(lim))))
	mux.Handle("DELETE /api/v1/session", s.handle(s.signOut))
	mux.Handle("GET /login/{code}", s.handle(s.loginPage))
	mux.Handle("POST /login/{code}", lim.signIn(s.handle(s.loginWithCode)))
	mux.Handle("GET /set-password/{code}", s.handle(s.setPasswordPage))
	mux.Handle("POST /set-password/{code}", lim.signIn(s.handle(s.setPassword)))
	mux.Handle("POST /api/v1/me/password", s.require(anyone, lim.signIn(s.handle(s.changePassword(lim)))))
	mux.Handle("GET /api/v1/me", s.require(anyone, s.handle(s.me)))
	mux.Handle("GET /api/v1/meta", s.require(anyone, s.handle(s.meta)))

	mux.Handle("POST /api/v1/tokens", s.require(optimum.RoleAdmin, s.handle(s.createToken)))
	mux.Handle("GET /api/v1/tokens", s.require(optimum.RoleAdmin, s.handle(s.listTokens)))
	mux.Handle("DELETE /api/v1/tokens/{id}", s.require(optimum.RoleAdmin, s.handle(s.revokeToken)))

	mux.Handle("POST /api/v1/users", s.require(optimum.RoleAdmin, s.handle(s.createUser)))
	mux.Handle("GET /api/v1/users", s.require(optimum.RoleAdmin, s.handle(s.listUsers)))
	mux.Handle("GET /api/v1/users/{id}", s.require(optimum.RoleAdmin, s.handle(s.getUser)))
	mux.Handle("PATCH /api/v1/users/{id}", s.require(optimum.RoleAdmin, s.handle(s.updateUser)))
	mux.Handle("DELETE /api/v1/users/{id}", s.require(optimum.RoleAdmin, s.handle(s.disableUser)))
	mux.Handle("POST /api/v1/users/{id}/password-link", s.require(optimum.RoleAdmin, s.handle(s.passwordLink)))

	mux.Handle("POST /api/v1/incidents", s.require(anyone, lim.declare(s.handle(s.declare))))
	mux.Handle("GET /api/v1/incidents", s.require(anyone, s.handle(s.listIncidents)))
	mux.Handle("GET /api/v1/incidents/{id}", s.require(anyone, s.handle(s.getIncident)))
	mux.Handle("POST /api/v1/incidents/{id}/ack", s.require(optimum.RoleResponder, s.handle(s.acknowledge)))

	mux.Handle("GET /api/v1/stream", s.require(anyone, s.handle(s.stream)))

	mux.Handle("GET /api/v1/people", s.require(optimum.RoleResponder, s.handle(s.listPeople)))
	mux.Handle("POST /api/v1/people", s.require(optimum.RoleManager, s.handle(s.createPerson)))
	mux.Handle("POST /api/v1/people/import", s.require(optimum.RoleManager, s.handle(s.importPeople)))
	mux.Handle("GET /api/v1/people/export", s.require(optimum.RoleManager, s.handle(s.exportPeople)))
	mux.Handle("GET /api/v1/people/{id}", s.require(optimum.RoleResponder, s.handle(s.getPerson)))
	mux.Handle("PUT /api/v1/people/{id}", s.require(optimum.RoleManager, s.handle(s.updatePerson)))
	mux.Handle("POST /api/v1/people/{id}/deactivate", s.require(optimum.RoleManager, s.handle(s.setPersonActive(false))))
	mux.Handle("POST /api/v1/people/{id}/activate", s.require(optimum.RoleManager, s.handle(s.setPersonActive(true))))
	mux.Handle("GET /api/v1/teams", s.require(anyone, s.handle(s.listTeams)))
	mux.Handle("POST /api/v1/teams", s.require(optimum.RoleManager, s.handle(s.saveTeam)))
	mux.Handle("PUT /api/v1/teams/{id}", s.require(optimum.RoleManager, s.handle(s.saveTeam)))
	mux.Handle("GET /api/v1/services", s.require(anyone, s.handle(s.listServices)))
	mux.Handle("POST /api/v1/services", s.require(optimum.RoleManager, s.handle(s.saveService)))
	mux.Handle("PUT /api/v1/services/{id}", s.require(optimum.RoleManager, s.handle(s.saveService)))
	mux.Handle("GET /api/v1/readiness", s.require(optimum.RoleManager, s.handle(s.readiness)))
	mux.Handle("GET /api/v1/audience/preview", s.require(anyone, s.handle(s.audiencePreview)))

	mux.Handle("/api/", s.handle(s.notFound))
	mux.Handle("/", s.staticFiles())

	return s.observe(http.NewCrossOriginProtection().Handler(mux))
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) error {
	return optimum.Errorf(optimum.ENOTFOUND, "There is no %s %s in this API.", r.Method, r.URL.Path)
}
