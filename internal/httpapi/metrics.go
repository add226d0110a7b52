package httpapi

import (
	"net/http"

	"github.com/optimum-bcp/optimum"
)

// metrics handles GET /metrics, the Prometheus scrape. It is open to clients from the
// configured networks (metrics.allow_networks, loopback by default), so a scraper on the
// host needs no secret; anyone else needs an admin bearer token (401 without one, 403
// with a lesser role). The route is listed as public because this guard replaces the
// usual role check.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) error {
	if s.Metrics == nil {
		return optimum.Errorf(optimum.ENOTFOUND, "Metrics are not enabled on this server.")
	}
	nets, _ := s.Config.Metrics.Networks() // Validate has checked them
	proxies, _ := s.Config.Limits.Proxies()
	if !isTrusted(clientIP(r, proxies), nets) {
		if r.Header.Get("Authorization") == "" {
			return optimum.Errorf(optimum.EUNAUTHORIZED, "Metrics need an admin bearer token, or a request from an allowed network (metrics.allow_networks).")
		}
		actor, err := s.authenticate(r)
		if err != nil {
			return err
		}
		if !actor.Role.AtLeast(optimum.RoleAdmin) {
			return optimum.Errorf(optimum.EFORBIDDEN, "Your role (%s) may not read metrics; it needs admin.", actor.Role)
		}
	}
	s.Metrics.ServeHTTP(w, r)
	return nil
}
