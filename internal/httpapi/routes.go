package httpapi

import (
	"net/http"

	"github.com/optimum-bcp/optimum"
)

// Handler returns the whole HTTP surface. Every route is listed here, with who may call it.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	anyone := optimum.RoleReporter // any signed-in role

	mux.Handle("GET /healthz", s.handle(s.healthz))
	mux.Handle("GET /readyz", s.handle(s.readyz))

	mux.Handle("POST /api/v1/session", s.handle(s.signIn))
	mux.Handle("DELETE /api/v1/session", s.handle(s.signOut))
	mux.Handle("GET /login/{code}", s.handle(s.loginPage))
	mux.Handle("POST /login/{code}", s.handle(s.loginWithCode))
	mux.Handle("GET /api/v1/me", s.require(anyone, s.handle(s.me)))
	mux.Handle("GET /api/v1/meta", s.require(anyone, s.handle(s.meta)))

	mux.Handle("POST /api/v1/tokens", s.require(optimum.RoleAdmin, s.handle(s.createToken)))
	mux.Handle("GET /api/v1/tokens", s.require(optimum.RoleAdmin, s.handle(s.listTokens)))
	mux.Handle("DELETE /api/v1/tokens/{id}", s.require(optimum.RoleAdmin, s.handle(s.revokeToken)))

	mux.Handle("POST /api/v1/incidents", s.require(anyone, s.handle(s.declare)))
	mux.Handle("GET /api/v1/incidents", s.require(anyone, s.handle(s.listIncidents)))
	mux.Handle("GET /api/v1/incidents/{id}", s.require(anyone, s.handle(s.getIncident)))
	mux.Handle("POST /api/v1/incidents/{id}/ack", s.require(optimum.RoleResponder, s.handle(s.acknowledge)))

	mux.Handle("GET /api/v1/stream", s.require(anyone, s.handle(s.stream)))

	mux.Handle("/api/", s.handle(s.notFound))
	mux.Handle("/", s.staticFiles())

	return s.observe(http.NewCrossOriginProtection().Handler(mux))
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) error {
	return optimum.Errorf(optimum.ENOTFOUND, "There is no %s %s in this API.", r.Method, r.URL.Path)
}
